"""Demo data for `make run`: three accounts and the bilingual demo knowledge base.

Idempotent: accounts that exist are left alone (their passwords are never printed
again), and the KB import only writes what changed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from supportbot.ai.records import read_articles
from supportbot.config import Settings
from supportbot.errors import InvalidInput
from supportbot.models import Role, User
from supportbot.services import accounts, knowledge
from supportbot.services.permissions import SYSTEM

DEMO_KB = Path(__file__).resolve().parent.parent / "demo" / "kb_demo.jsonl"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    password: str | None  # None: the account existed already


@dataclass(frozen=True)
class DemoResult:
    accounts: list[DemoAccount]
    kb: knowledge.ImportResult


def _password(preset: str) -> str:
    return preset or secrets.token_urlsafe(12)


def load_demo_data(session: Session, settings: Settings, kb_path: Path = DEMO_KB) -> DemoResult:
    wanted = [
        ("admin", Role.admin, settings.demo_admin_password),
        ("agent", Role.agent, settings.demo_agent_password),
        ("user", Role.user, settings.demo_user_password),
    ]
    created: list[DemoAccount] = []
    for username, role, preset in wanted:
        if session.exec(select(User).where(User.username == username)).first():
            created.append(DemoAccount(username, role, None))
            continue
        password = _password(preset)
        try:
            accounts.create_user(session, SYSTEM, username=username,
                                 email=f"{username}@example.com", password=password, role=role)
        except InvalidInput as error:
            variable = f"DEMO_{username.upper()}_PASSWORD"
            raise InvalidInput(f"{variable}: {error.message}", fields=error.fields) from None
        created.append(DemoAccount(username, role, password))
    result = knowledge.import_articles(session, SYSTEM, read_articles(kb_path))
    return DemoResult(created, result)
