"""The one configuration object, read from environment variables (and `.env`).

Every setting has a default that works on a fresh machine (SQLite, jobs in-process,
the models shipped in PyPI packages). `.env.example` documents each variable.
An invalid value stops start-up with a `ConfigError` naming the variable.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_SECRET_KEY = "insecure-development-key-change-me-in-production"


class ConfigError(RuntimeError):
    """The environment holds a value SupportBot cannot start with."""


def _comma_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # VAR= means "use the default", as in .env.example
        extra="ignore",
        case_sensitive=False,
    )

    # Deployment
    app_env: Literal["development", "production"] = "development"
    debug: bool = False
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1"]
    )
    public_url: str = "http://localhost:3000"
    data_dir: Path = Path("data")

    # Storage
    database_url: str = ""  # empty: SQLite file in data_dir
    redis_url: str = ""  # empty: background jobs run in-process

    # Accounts
    secret_key: str = DEFAULT_SECRET_KEY
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    password_min_length: int = Field(default=10, ge=8, le=128)

    # Retrieval and answering
    embedding_model_name: str = "all-MiniLM-L6-v2"
    faiss_index_path: Path | None = None  # None: data_dir / "index"
    generator_model_name: str = "smollm2"  # "none" turns the generator off
    generator_preload: bool = False  # load at start-up instead of on first use
    generator_min_confidence: float = Field(default=0.3, ge=0.0, le=1.0)
    generator_max_new_tokens: int = Field(default=160, ge=16, le=1024)
    generator_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    confidence_threshold: float = Field(default=0.66, ge=0.0, le=1.0)
    chat_context_messages: int = Field(default=6, ge=0, le=50)

    # Escalation defaults (admins change them at run time; stored in the database)
    escalation_keywords: Annotated[list[str], NoDecode] = Field(default_factory=lambda: [
        "urgente:urgent", "urgent:urgent", "emergencia:urgent", "emergency:urgent",
        "error crítico:urgent", "critical error:urgent", "caído:urgent", "is down:urgent",
        "no funciona:high", "not working:high", "doesn't work:high", "no puedo trabajar:high",
        "can't work:high", "data loss:urgent", "pérdida de datos:urgent",
        "hackeado:urgent", "hacked:urgent", "virus:high", "phishing:high",
    ])  # phrase:priority (low, normal, high, urgent)
    escalation_person_phrases: Annotated[list[str], NoDecode] = Field(default_factory=lambda: [
        "hablar con una persona", "hablar con alguien", "hablar con un agente",
        "hablar con un humano", "agente humano", "persona real", "quiero un agente",
        "talk to a person", "talk to someone", "talk to a human", "speak to a person",
        "speak to someone", "speak to an agent", "human agent", "real person",
        "talk to an agent", "customer service representative",
    ])
    escalation_unresolved_turns: int = Field(default=2, ge=1, le=20)

    # Personal data masked before the generator, logs and exports: email, card, dni, phone
    pii_mask: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["email", "card", "dni", "phone"])

    # Notifications
    smtp_host: str = ""  # empty: e-mail notifications off
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "supportbot@localhost"
    smtp_starttls: bool = True
    notify_emails: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_secret: str = ""
    notify_retry_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [2.0, 10.0, 30.0])  # waits between attempts

    # Demo data (`make run`); empty passwords are generated and printed once
    demo_admin_password: str = ""
    demo_agent_password: str = ""
    demo_user_password: str = ""

    _split_lists = field_validator(
        "allowed_hosts", "escalation_keywords", "escalation_person_phrases", "pii_mask",
        "notify_emails", "webhook_urls", "notify_retry_seconds", mode="before")(_comma_list)

    @field_validator("database_url", "redis_url")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        if value and "://" not in value:
            raise ValueError("must be a URL such as postgresql://user@host/db")
        return value

    @field_validator("secret_key")
    @classmethod
    def _production_needs_real_secret(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("app_env") == "production":
            if value == DEFAULT_SECRET_KEY:
                raise ValueError(
                    "is the development default; set a random value of at least "
                    "32 characters when APP_ENV=production"
                )
            if len(value) < 32:
                raise ValueError("must be at least 32 characters when APP_ENV=production")
        return value

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'supportbot.db').resolve()}"

    @property
    def effective_index_path(self) -> Path:
        return self.faiss_index_path or self.data_dir / "index"


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        name = "_".join(str(part) for part in item["loc"]).upper() or "configuration"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {name}: {message}")
    return "Invalid configuration:\n" + "\n".join(lines)


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment; raise ConfigError with a readable message."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    return load_settings()
