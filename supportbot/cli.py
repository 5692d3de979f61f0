"""The `supportbot` command: operations for admins and tooling, thin over the services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from supportbot.ai.records import RecordError
from supportbot.config import ConfigError, get_settings
from supportbot.errors import ServiceError

app = typer.Typer(
    name="supportbot",
    help="SupportBot: self-hosted AI-assisted technical support desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def migrate() -> None:
    """Apply database migrations (alembic upgrade head)."""
    from supportbot import schema

    url = get_settings().effective_database_url
    schema.upgrade(url)
    typer.echo(f"Database at revision {schema.head_revision()}.")


@app.command("demo-data")
def demo_data() -> None:
    """Load the demo accounts and knowledge base (safe to run again)."""
    from supportbot.db import session_scope
    from supportbot.services.demo import load_demo_data

    settings = get_settings()
    with session_scope() as session:
        result = load_demo_data(session, settings)
    kb = result.kb
    typer.echo(f"Demo knowledge base: {kb.created} created, {kb.updated} updated, "
               f"{kb.unchanged} unchanged.")
    new = [account for account in result.accounts if account.password]
    if new:
        typer.secho("Demo accounts (passwords are shown only this once):", bold=True)
        for account in new:
            typer.echo(f"  {account.role.value:<6} {account.username:<8} {account.password}")
    old = [account.username for account in result.accounts if not account.password]
    if old:
        typer.echo(f"Demo accounts already present: {', '.join(old)} "
                   "(forgot a password? `supportbot set-password USERNAME`).")


@app.command("create-user")
def create_user(
    username: Annotated[str, typer.Option(help="Login name (3-64 characters).")],
    email: Annotated[str, typer.Option(help="E-mail address.")],
    role: Annotated[str, typer.Option(help="user, agent or admin.")] = "user",
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          help="Asked for if not given.")] = "",
) -> None:
    """Create an account with the given role."""
    from supportbot.db import session_scope
    from supportbot.services import accounts
    from supportbot.services.permissions import SYSTEM

    with session_scope() as session:
        user = accounts.create_user(session, SYSTEM, username=username, email=email,
                                    password=password, role=role)
    typer.echo(f"Created {user.role} '{user.username}' <{user.email}>.")


@app.command("set-password")
def set_password(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)] = "",
) -> None:
    """Set an account's password (logs it out everywhere)."""
    from supportbot.db import session_scope
    from supportbot.services import accounts
    from supportbot.services.permissions import SYSTEM

    with session_scope() as session:
        user = accounts.find_user(session, username)
        accounts.reset_password(session, SYSTEM, user.id, password)
    typer.echo(f"Password of '{username}' changed.")


@app.command("set-role")
def set_role(username: str, role: str) -> None:
    """Change an account's role (user, agent, admin)."""
    from supportbot.db import session_scope
    from supportbot.services import accounts
    from supportbot.services.permissions import SYSTEM

    with session_scope() as session:
        user = accounts.set_role(session, SYSTEM, accounts.find_user(session, username).id, role)
    typer.echo(f"'{user.username}' is now {user.role}.")


@app.command("deactivate")
def deactivate(username: str) -> None:
    """Deactivate an account (it can no longer log in; its sessions end)."""
    from supportbot.db import session_scope
    from supportbot.services import accounts
    from supportbot.services.permissions import SYSTEM

    with session_scope() as session:
        accounts.set_active(session, SYSTEM, accounts.find_user(session, username).id, False)
    typer.echo(f"'{username}' deactivated.")


@app.command("import-kb")
def import_kb(
    path: Annotated[Path, typer.Argument(help="JSONL file: id, title, problem, solution, "
                                               "tags, lang, examples.")],
    draft: Annotated[bool, typer.Option(help="Import as drafts instead of published.")] = False,
) -> None:
    """Create or update knowledge-base articles from a JSONL file."""
    from supportbot.ai.records import read_articles
    from supportbot.db import session_scope
    from supportbot.models import EntryStatus
    from supportbot.services import knowledge
    from supportbot.services.permissions import SYSTEM

    records = read_articles(path)
    status = EntryStatus.draft if draft else EntryStatus.published
    with session_scope() as session:
        result = knowledge.import_articles(session, SYSTEM, records, status=status)
    typer.echo(f"{path}: {result.created} created, {result.updated} updated, "
               f"{result.unchanged} unchanged.")


@app.command("purge-tokens")
def purge_tokens() -> None:
    """Delete expired refresh-token records."""
    from supportbot.jobs.maintenance import purge_expired_refresh_tokens

    typer.echo(f"Removed {purge_expired_refresh_tokens()} expired refresh tokens.")


@app.command("check-config")
def check_config() -> None:
    """Validate the configuration and print it (secrets hidden)."""
    settings = get_settings()
    for name, value in settings.model_dump().items():
        if any(word in name for word in ("secret", "password")) and value:
            value = "***"
        typer.echo(f"{name.upper()}={value}")
    typer.echo(f"(database: {settings.effective_database_url.split('@')[-1]})")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `supportbot` script; always ends with SystemExit."""
    try:
        app(args=argv)
    except ConfigError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        sys.exit(2)
    except (ServiceError, RecordError) as error:
        typer.secho(f"Error: {getattr(error, 'message', error)}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
