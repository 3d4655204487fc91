"""One place for every setting. Values come from the environment (prefix-free names as in
`.env.sample`) or a `.env` file; defaults run fully offline with embedded stores."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def project_file(relative: str) -> Path:
    """A file that ships beside the package (prompts/, manifest.json…): in the checkout, or in
    the working folder of an installed copy (the container's /app)."""
    here = PROJECT_ROOT / relative
    return here if here.exists() else Path.cwd() / relative


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_file_encoding="utf-8")

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        validation_alias="ITAKU_DATA_DIR",
        description="Where the index (Chroma, lexical index, manifests) lives.",
    )
    knowledge_dir: Path = Field(
        default=PROJECT_ROOT / "knowledge",
        validation_alias="ITAKU_KNOWLEDGE_DIR",
        description="Default folder indexed by `itaku index`.",
    )
    chroma_url: str | None = Field(
        default=None,
        validation_alias="CHROMA_URL",
        description="http://host:port of a Chroma server; unset means embedded PersistentClient.",
    )
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    chat_model: str = Field(
        default="gpt-4o-mini",
        validation_alias="ITAKU_CHAT_MODEL",
        description="Chat model for LLM answers (only when OPENAI_BASE_URL or OPENAI_API_KEY is set).",
    )
    llm_timeout_s: float = Field(
        default=20.0,
        gt=0,
        le=300,
        validation_alias="ITAKU_LLM_TIMEOUT",
        description="Seconds before a chat call gives up (the client's own default is 600 s).",
    )
    llm_max_retries: int = Field(default=1, ge=0, le=5, validation_alias="ITAKU_LLM_RETRIES")
    pii_policy: Literal["mask", "refuse", "allow"] = Field(
        default="mask",
        validation_alias="ITAKU_PII_POLICY",
        description="Personal data before anything goes to the LLM: mask it, refuse (answer offline), or allow (an endpoint inside the company).",
    )
    llm_stream: bool = Field(default=True, validation_alias="ITAKU_LLM_STREAM")
    embedding_model: str = Field(
        default="text-embedding-3-small", validation_alias="ITAKU_EMBEDDING_MODEL"
    )
    offline_embedder: Literal["e5", "hashing"] = Field(
        default="e5",
        validation_alias="ITAKU_EMBEDDER",
        description="Offline vectors: e5 (the bundled multilingual model) or hashing (no model).",
    )
    embeddings: Literal["endpoint", "bundled"] = Field(
        default="endpoint",
        validation_alias="ITAKU_EMBEDDINGS",
        description="With an LLM endpoint: its embeddings (endpoint), or the bundled model's (bundled: no text goes out to embed, and the calibrated refusal applies).",
    )
    embedding_cache: Path | None = Field(
        default=None,
        validation_alias="ITAKU_EMBEDDING_CACHE",
        description="SQLite file of vectors by model and text hash (default: in the data folder).",
    )
    embedding_timeout_s: float = Field(
        default=20.0, gt=0, validation_alias="ITAKU_EMBEDDING_TIMEOUT"
    )
    top_k: int = Field(default=5, ge=1, le=20, validation_alias="ITAKU_TOP_K")
    max_question_chars: int = Field(
        default=2000, ge=50, validation_alias="ITAKU_MAX_QUESTION_CHARS"
    )

    database_url: str | None = Field(
        default=None,
        validation_alias="DATABASE_URL",
        description="SQLAlchemy URL (postgresql+psycopg://...); unset means SQLite in the data folder.",
    )

    # Slack
    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(
        default="https://slack.com/api/",
        validation_alias="SLACK_API_URL",
        description="Slack Web API base URL; a local stand-in in tests and benchmarks.",
    )
    slack_workers: int = Field(
        default=16,
        ge=1,
        le=256,
        validation_alias="ITAKU_SLACK_WORKERS",
        description="Threads that deliver answers (mostly waiting on Slack, and on its retries).",
    )
    answer_concurrency: int = Field(
        default=1,
        ge=1,
        le=64,
        validation_alias="ITAKU_ANSWER_CONCURRENCY",
        description="Answers computed at once. Offline answering is CPU-bound Python: one at a time is fastest (the GIL); raise it for an LLM.",
    )
    slack_http_threads: int = Field(default=16, ge=2, le=256, validation_alias="ITAKU_HTTP_THREADS")
    slack_max_body_bytes: int = Field(
        default=256 * 1024, ge=4096, validation_alias="ITAKU_MAX_BODY_BYTES"
    )
    http_connections: int = Field(
        default=500,
        ge=10,
        le=10_000,
        validation_alias="ITAKU_HTTP_CONNECTIONS",
        description="Connections held open at once in HTTP mode (slow or idle clients included).",
    )
    http_read_timeout: float = Field(
        default=15.0,
        gt=0,
        le=300,
        validation_alias="ITAKU_HTTP_READ_TIMEOUT",
        description="Seconds a connection may stay idle (a body that stops arriving) before it is closed.",
    )
    slack_drain_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=4096,
        validation_alias="ITAKU_DRAIN_BODY_BYTES",
        description="A body over ITAKU_MAX_BODY_BYTES but within this is read and discarded before the 413, so the client is not reset mid-send; beyond it the server answers 413 at once and closes.",
    )
    slack_api_retries: int = Field(default=4, ge=0, le=10, validation_alias="ITAKU_SLACK_RETRIES")
    event_lease_s: float = Field(
        default=120.0,
        gt=0,
        validation_alias="ITAKU_EVENT_LEASE",
        description="Seconds after which an unfinished event may be taken over by a retry or a replica.",
    )
    # Microsoft Teams (Bot Framework); empty strings mean unset
    teams_app_id: str = Field(
        default="",
        validation_alias="TEAMS_APP_ID",
        description="The bot's Microsoft App ID: the audience of inbound tokens, the client id of outbound ones.",
    )
    teams_app_password: SecretStr = Field(
        default=SecretStr(""),
        validation_alias="TEAMS_APP_PASSWORD",
        description="The bot's client secret, for the Bot Connector token.",
    )
    teams_tenant_id: str = Field(
        default="",
        validation_alias="TEAMS_TENANT_ID",
        description="The bot's home tenant (single-tenant bot); empty: multi-tenant (botframework.com).",
    )
    teams_allowed_tenants: str = Field(
        default="",
        validation_alias="TEAMS_ALLOWED_TENANTS",
        description="Tenant ids whose activities are accepted, comma-separated; empty: TEAMS_TENANT_ID alone; both empty: any.",
    )
    teams_openid_metadata_url: str = Field(
        default="https://login.botframework.com/v1/.well-known/openidconfiguration",
        validation_alias="TEAMS_OPENID_METADATA_URL",
        description="OpenID metadata whose jwks_uri lists the keys that sign inbound tokens.",
    )
    teams_token_url: str = Field(
        default="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        validation_alias="TEAMS_TOKEN_URL",
        description="Client-credentials token endpoint for Bot Connector calls ({tenant}: TEAMS_TENANT_ID or botframework.com).",
    )
    teams_approvals_conversation: str = Field(
        default="",
        validation_alias="TEAMS_APPROVALS_CONVERSATION",
        description="The Teams channel (conversation id 19:…@thread.tacv2) where subcontracting requests are posted; empty: not posted.",
    )
    teams_service_url: str = Field(
        default="https://smba.trafficmanager.net/teams/",
        validation_alias="TEAMS_SERVICE_URL",
        description="Bot Connector service URL for proactive messages (request cards, reminders, direct messages).",
    )
    dialog_ttl_s: float = Field(
        default=7 * 24 * 3600,
        gt=0,
        validation_alias="ITAKU_DIALOG_TTL",
        description="Seconds an unfinished dialog (an NDA half-way) is kept for resuming.",
    )
    drafts_dir: Path = Field(
        default=Path("drafts"),
        validation_alias="ITAKU_DRAFTS_DIR",
        description="Where `itaku chat` writes finished drafts (.docx and .md).",
    )
    approval_policy_path: Path = Field(
        default_factory=lambda: project_file("approval_policy.yaml"),
        validation_alias="ITAKU_APPROVAL_POLICY",
        description="Who approves subcontracting requests, per risk level (YAML).",
    )
    approvals_channel: str | None = Field(
        default=None,
        validation_alias="ITAKU_APPROVALS_CHANNEL",
        description="Slack channel id where requests are posted (overrides the policy's channel).",
    )
    reminder_check_s: float = Field(
        default=300.0,
        gt=0,
        validation_alias="ITAKU_REMINDER_CHECK",
        description="Seconds between checks for requests waiting too long.",
    )
    security_channel: str | None = Field(
        default=None,
        validation_alias="ITAKU_SECURITY_CHANNEL",
        description="Slack channel id told of overdue contractor reviews and corrective actions (unset: nobody is told).",
    )
    incidents_channel: str | None = Field(
        default=None,
        validation_alias="ITAKU_INCIDENTS_CHANNEL",
        description="Slack channel id where incidents at contractors are posted with their timeline and checklist (unset: the reporter alone gets the report and the reminders).",
    )
    thread_history: int = Field(default=3, ge=0, le=20, validation_alias="ITAKU_THREAD_HISTORY")
    retention_days: float = Field(
        default=180.0,
        gt=0,
        validation_alias="ITAKU_RETENTION_DAYS",
        description="Days questions, answers, votes and processed events are kept; older ones are purged by the periodic sweep.",
    )
    environment: Literal["production", "development"] = Field(
        default="production",
        validation_alias="ITAKU_ENV",
        description="development lets `itaku serve` run without ITAKU_AUDIT_KEY (entries are then sealed with a published development key, which proves nothing).",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        min_length=16,
        validation_alias="ITAKU_AUDIT_KEY",
        description="The secret that seals the audit trail (HMAC). Keep it out of the database and its backups.",
    )
    audit_key_id: str = Field(
        default="k1", pattern=r"^[A-Za-z0-9_.-]{1,16}$", validation_alias="ITAKU_AUDIT_KEY_ID"
    )
    audit_old_keys: SecretStr | None = Field(
        default=None,
        validation_alias="ITAKU_AUDIT_OLD_KEYS",
        description="Rotated keys that still verify older entries: id=key,id=key.",
    )
    audit_anchor: Path | None = Field(
        default=None,
        validation_alias="ITAKU_AUDIT_ANCHOR",
        description="Append-only file that receives every entry's sequence number and MAC (default: audit-anchor.log in the data folder; put it on other storage than the database).",
    )

    @field_validator(
        "chroma_url",
        "embedding_cache",
        "openai_base_url",
        "openai_api_key",
        "database_url",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
        "audit_key",
        "audit_old_keys",
        "audit_anchor",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'itaku.db'}"

    @property
    def resolved_embedding_cache(self) -> Path:
        return self.embedding_cache or self.data_dir / "embeddings.sqlite3"

    @property
    def resolved_audit_anchor(self) -> Path:
        return self.audit_anchor or self.data_dir / "audit-anchor.log"

    def audit_old_key_map(self) -> dict[str, bytes]:
        if self.audit_old_keys is None:
            return {}
        out: dict[str, bytes] = {}
        for pair in self.audit_old_keys.get_secret_value().split(","):
            key_id, sep, key = pair.strip().partition("=")
            if not sep or not key_id or not key:
                raise ValueError("ITAKU_AUDIT_OLD_KEYS must read id=key,id=key")
            out[key_id] = key.encode("utf-8")
        return out

    @property
    def uses_llm(self) -> bool:
        return self.openai_base_url is not None or self.openai_api_key is not None

    @property
    def uses_remote_embeddings(self) -> bool:
        return self.uses_llm and self.embeddings == "endpoint"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
