"""All settings of Omnicopilot, in one pydantic-settings class.

Every field is read from the environment (or a `.env` file) under the name in its `alias`, is listed
in `.env.example` and in the README's configuration table; `tests/test_config.py` fails when one is
missing from either.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Values that appear in docs and examples: refused as real secrets.
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "secret", "please-change", "xxx", "example"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path(".omnicopilot"), alias="OMNICOPILOT_DATA_DIR",
                           description="Data directory: SQLite database, Chroma index, model cache.")
    database_url: str | None = Field(None, alias="OMNICOPILOT_DATABASE_URL",
                                     description="SQLAlchemy URL; default SQLite in the data directory.")
    chroma_url: str | None = Field(None, alias="OMNICOPILOT_CHROMA_URL",
                                   description="Chroma server URL (http://host:port); default embedded in the "
                                               "data directory.")
    embedding_backend: Literal["minilm", "minilm-int8", "minilm-torch", "hashing"] = Field(
        "minilm", alias="OMNICOPILOT_EMBEDDING_BACKEND",
        description="minilm (packaged MiniLM on onnxruntime), minilm-int8 (the same, int8 weights: faster, "
                    "slightly different vectors; reindex when switching), minilm-torch, or hashing (tests only).")
    master_key: SecretStr | None = Field(None, alias="OMNICOPILOT_MASTER_KEY",
                                         description="Key that manages tenants and API keys; unset disables that API.")
    secret_key: SecretStr | None = Field(None, alias="OMNICOPILOT_SECRET_KEY",
                                         description="Encrypts connector secrets at rest; default a key file in the "
                                               "data directory.")
    default_region: str = Field("US", alias="OMNICOPILOT_DEFAULT_REGION",
                                description="Region for phone numbers written without a country code.")
    engine: Literal["offline", "llm"] = Field("offline", alias="OMNICOPILOT_ENGINE",
                                              description="Text engine: offline (default) or llm.")
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY",
                                             description="Key for the OpenAI-compatible chat model (llm engine).")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL",
                                        description="Base URL of the OpenAI-compatible server; default OpenAI's.")
    llm_model: str = Field("gpt-4o-mini", alias="OMNICOPILOT_LLM_MODEL", description="Chat model name (llm engine).")
    llm_timeout_s: float = Field(8.0, alias="OMNICOPILOT_LLM_TIMEOUT_S", gt=0,
                                 description="Seconds before the llm engine falls back to offline.")
    redis_url: str | None = Field(None, alias="OMNICOPILOT_REDIS_URL",
                                  description="Redis URL for the event bus and the rate limits across workers; "
                                              "default in-process.")
    pull_interval_s: float = Field(60.0, alias="OMNICOPILOT_PULL_INTERVAL_S", ge=0,
                                   description="Seconds between mailbox pulls of each connector, by whichever process "
                                               "does the background work; 0 turns them off.")
    background: Literal["inprocess", "workers"] = Field(
        "inprocess", alias="OMNICOPILOT_BACKGROUND",
        description="Where indexing, webhook deliveries and mailbox pulls run: inprocess (inside each `serve`) "
                    "or workers (only in `omnicopilot worker` processes; needs a Chroma server).")
    lease_s: float = Field(120.0, alias="OMNICOPILOT_LEASE_S", gt=0,
                           description="Seconds a worker's claim on a batch of background work lasts; work a "
                                       "crashed worker held is taken by another once it expires.")
    max_batch: int = Field(1000, alias="OMNICOPILOT_MAX_BATCH", gt=0,
                           description="Most interactions one POST /v1/interactions may carry (413 beyond).")
    max_body_bytes: int = Field(20_000_000, alias="OMNICOPILOT_MAX_BODY_BYTES", gt=0,
                                description="Largest request body accepted (413 beyond).")
    # Requests per minute; each bucket holds a minute's worth, so bursts pass and floods get 429. 0 turns one off.
    rate_limit_per_key: int = Field(12_000, alias="OMNICOPILOT_RATE_LIMIT_PER_KEY", ge=0,
                                    description="Requests per minute one API key may make (429 beyond); 0: no "
                                                "limit.")
    rate_limit_per_ip: int = Field(30_000, alias="OMNICOPILOT_RATE_LIMIT_PER_IP", ge=0,
                                   description="Authenticated requests per minute from one client address (429 "
                                               "beyond); 0: no limit.")
    rate_limit_failed_auth: int = Field(30, alias="OMNICOPILOT_RATE_LIMIT_FAILED_AUTH", ge=0,
                                        description="Failed authentications per minute from one client address "
                                                    "before every call from it is a 429; 0: no limit.")
    metrics_key: SecretStr | None = Field(None, alias="OMNICOPILOT_METRICS_KEY",
                                          description="Key /metrics asks for; with it the counters name tenants, "
                                                      "without it /metrics is open and sums them per connector.")
    delivery_retention_days: float = Field(7.0, alias="OMNICOPILOT_DELIVERY_RETENTION_DAYS", ge=0,
                                           description="Days a processed webhook delivery is kept before it is "
                                                       "purged (its records stay).")
    embed_threads: int = Field(0, alias="OMNICOPILOT_EMBED_THREADS", ge=0,
                               description="Threads the embedding model uses in this process (0: one per core); 1 "
                                           "for each of several workers on one machine.")
    audit_retention_days: float = Field(365.0, alias="OMNICOPILOT_AUDIT_RETENTION_DAYS", ge=0,
                                        description="Days a read stays in the audit log before it is purged "
                                                    "(0 keeps it forever).")
    cache_dir: Path = Field(Path.home() / ".cache" / "omnicopilot", alias="OMNICOPILOT_CACHE_DIR",
                            description="Machine-wide cache: the embedding model exported to ONNX once.")
    log_level: str = Field("info", alias="OMNICOPILOT_LOG_LEVEL", description="Logging level.")
    frame_ancestors: str = Field("'self'", alias="OMNICOPILOT_FRAME_ANCESTORS",
                                 description="Pages allowed to embed the sidebar in an iframe (CSP frame-ancestors "
                                             "sources, space-separated, e.g. https://acme.zendesk.com).")

    @field_validator("master_key", "secret_key", "openai_api_key", "metrics_key")
    @classmethod
    def refuse_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError("is a placeholder from the docs; set a real secret or leave it unset")
        return value

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'omnicopilot.db').resolve()}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"



@lru_cache
def get_settings() -> Settings:
    return Settings()
