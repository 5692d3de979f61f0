"""The one configuration object, read from environment variables (and `.env`).

Every setting has a default that works on a fresh machine (SQLite, jobs in-process,
the models shipped in PyPI packages). `.env.example` documents each variable.
An invalid value stops start-up with a `ConfigError` naming the variable.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (Field, ValidationError, ValidationInfo, field_validator,
                      model_validator)
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
    # PostgreSQL only. A server that does not answer a new connection within the connect
    # timeout (down, frozen, or cut off) gives 503 instead of a request that hangs; the
    # statement timeout ends any one query of the app's that runs longer (migrations,
    # backups and restores are not bounded). 0 turns the statement timeout off.
    database_connect_timeout_seconds: int = Field(default=5, ge=1, le=300)
    database_statement_timeout_seconds: float = Field(default=30.0, ge=0, le=3600)

    # Accounts
    secret_key: str = DEFAULT_SECRET_KEY
    # Keys retired by a rotation: tokens they signed are still accepted (new ones are
    # signed with SECRET_KEY) until they expire; drop them after REFRESH_TOKEN_DAYS.
    secret_key_previous: Annotated[list[str], NoDecode] = Field(default_factory=list)
    access_token_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_days: int = Field(default=14, ge=1, le=365)
    password_min_length: int = Field(default=10, ge=8, le=128)

    # Retrieval and answering
    embedding_model_name: str = "all-MiniLM-L6-v2"
    faiss_index_path: Path | None = None  # None: data_dir / "index"
    models_path: Path | None = None  # fine-tuned model versions; None: data_dir / "models"
    # How the embedding model runs: "auto" (ONNX Runtime, falling back to torch), "onnx"
    # or "torch"; ONNX exports are cached by model content (None: data_dir / "embedding-cache").
    embedding_backend: Literal["auto", "onnx", "torch"] = "auto"
    # The vectors the embedding model makes: "float32" (the model as trained; torch and
    # ONNX Runtime agree) or "int8" (ONNX Runtime on a dynamically quantized copy of the
    # export: faster, slightly different vectors). The index records which kind it holds
    # and is rebuilt when this changes (docs/embedding-versioning.md). int8 needs ONNX
    # Runtime: left unset with EMBEDDING_BACKEND=torch it is float32; set, an error.
    embedding_precision: Literal["float32", "int8"] = "int8"
    embedding_cache_path: Path | None = None
    # Threads a full (re)index embeds passages and builds the approximate index with;
    # 0: one per core this process may run on. They run at a lower priority (nice +10),
    # so on busy cores chat requests go first; queries always use one thread.
    index_build_threads: int = Field(default=0, ge=0, le=64)
    generator_model_name: str = "smollm2"  # "none" turns the generator off
    generator_preload: bool = False  # load at start-up instead of on first use
    generator_min_confidence: float = Field(default=0.3, ge=0.0, le=1.0)
    generator_max_new_tokens: int = Field(default=160, ge=16, le=1024)
    generator_timeout_seconds: float = Field(default=20.0, gt=0, le=300)
    # Generations at once per process, and how long a question waits for a free one
    # before it is handed over instead (supportbot/ai/generator.py).
    generator_concurrency: int = Field(default=1, ge=1, le=16)
    generator_queue_seconds: float = Field(default=1.0, ge=0, le=60)
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

    # REST API: request size, rate limits ("N/second|minute|hour|day", several joined by
    # ";"), and the origins whose pages may call it from a browser (empty: same origin only)
    api_max_body_bytes: int = Field(default=1_048_576, ge=1024, le=100 * 1_048_576)
    rate_limit_default: str = "300/minute"
    rate_limit_login: str = "20/minute;300/hour"
    rate_limit_anon_chat: str = "30/minute"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Prometheus metrics (`GET /metrics`): a Bearer token scrapers must send (empty: open);
    # the quiet time after a bot answer that counts as "resolved (assumed)"; the days of
    # conversations and ratings the database-derived gauges look back over
    metrics_token: str = ""
    metrics_resolved_after_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    metrics_window_days: int = Field(default=30, ge=1, le=366)

    # Feedback digest (`supportbot feedback-digest`, daily in `supportbot scheduler`):
    # where the problem-case dataset goes (JSONL; default data_dir/feedback), how similar
    # two questions must be to share a suggestion, and the search confidence at which a
    # question counts as another phrasing of an existing article
    feedback_dataset_path: Path | None = None
    feedback_cluster_similarity: float = Field(default=0.75, ge=0.0, le=1.0)
    feedback_match_confidence: float = Field(default=0.5, ge=0.0, le=1.0)

    # Reverse proxies (nginx) whose X-Forwarded-For / -Proto are believed: CIDRs or
    # addresses. Empty: the direct peer is the client (rate limits count per peer)
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Operations: backups (`supportbot backup`) and retention of old conversations
    backup_path: Path | None = None  # None: data_dir / "backups"
    retention_days: int = Field(default=365, ge=0, le=36500)  # 0: keep conversations forever

    # Demo data (`make run`); empty passwords are generated and printed once
    demo_admin_password: str = ""
    demo_agent_password: str = ""
    demo_user_password: str = ""

    _split_lists = field_validator(
        "allowed_hosts", "escalation_keywords", "escalation_person_phrases", "pii_mask",
        "notify_emails", "webhook_urls", "notify_retry_seconds", "cors_origins",
        "trusted_proxies", "secret_key_previous", mode="before")(_comma_list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks_parse(cls, value: list[str]) -> list[str]:
        from supportbot.api.proxy_headers import parse_networks

        try:
            parse_networks(value)
        except ValueError as error:
            raise ValueError(f"must be addresses or CIDRs such as 172.16.0.0/12 ({error})") \
                from None
        return value

    @field_validator("rate_limit_default", "rate_limit_login", "rate_limit_anon_chat")
    @classmethod
    def _rate_limit_parses(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError("must look like 10/minute (several joined by ';')") from None
        return value

    @model_validator(mode="after")
    def _int8_needs_onnx(self) -> Settings:
        if self.embedding_backend == "torch" and self.embedding_precision == "int8":
            if "embedding_precision" in self.model_fields_set:
                raise ValueError(
                    "EMBEDDING_PRECISION=int8 runs only on ONNX Runtime, and "
                    "EMBEDDING_BACKEND=torch never uses it: set EMBEDDING_BACKEND=auto (or "
                    "onnx), or EMBEDDING_PRECISION=float32")
            self.embedding_precision = "float32"  # the default, not asked for: torch's own
        return self

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

    @property
    def effective_embedding_cache_path(self) -> Path:
        return self.embedding_cache_path or self.data_dir / "embedding-cache"

    @property
    def effective_models_path(self) -> Path:
        return self.models_path or self.data_dir / "models"

    @property
    def effective_feedback_dataset_path(self) -> Path:
        return self.feedback_dataset_path or self.data_dir / "feedback"

    @property
    def effective_backup_path(self) -> Path:
        return self.backup_path or self.data_dir / "backups"


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
