"""All configuration, from ``CUSTODY_*`` environment variables or given by tests."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUSTODY_", extra="ignore")

    data_dir: Path = Path("./var")
    """SQLite files and key material (the signing key, the master key)."""
    database_url: str | None = None
    """``postgresql://user@host:port/db`` selects PostgreSQL; unset means SQLite."""
    database_schema: str = "public"
    """PostgreSQL schema holding every table (one schema per municipality)."""
    signing_key: Path | None = None
    """Ed25519 private key (PEM); default ``<data_dir>/signing-key.pem``, made on first start."""
    master_key: Path | None = None
    """32 random bytes that wrap per-student keys and key the blind index; default
    ``<data_dir>/master.key``, made on first start."""
    log_origin: str = "records-custody"
    """The origin line of checkpoints and the name of the signing key."""
    checkpoint_interval: float = 1.0
    """Seconds between checkpoints while events are being stored."""
    projection_wait_timeout: float = 5.0
    """How long a query waits for the views to reach the caller's last write."""
    worker_threads: int = 12
    """Requests handled at once by one process (the rest wait in line)."""
    lease_interval: float = 1.0
    """PostgreSQL: seconds between attempts to take the followers' lease (and checks that
    the connection holding it lives); a dead leader is replaced within about this time."""

    session_idle_minutes: float = 30
    """A web session not used for this long has ended (sign in again)."""
    session_max_hours: float = 10
    """A web session ends this long after sign-in, however busy."""
    oidc_issuer: str | None = None
    """The municipality's OpenID provider (its ``iss``); with the client id and secret it
    turns on sign-in through that provider."""
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_role_claim: str = "roles"
    """The ID-token claim holding the user's roles (a string or a list)."""
    oidc_school_claim: str = "school_unit"
    """The ID-token claim holding the user's school unit id."""
    oidc_role_map: str = ""
    """``claim value=role`` pairs, comma-separated (``BUN-Arkiv=archivist``); a claim
    value equal to a role's name maps to that role anyway."""
    public_url: str | None = None
    """The service's own address as the browser sees it (``https://custody.example.se``),
    used for the sign-in redirect URI; default: the address of the request."""

    @property
    def uses_oidc(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)
    max_body_bytes: int = 1024 * 1024
    """The largest request body accepted (413 above it, refused while it streams in)."""
    max_upload_bytes: int = 50 * 1024 * 1024
    """The largest inventory upload (``POST /api/v1/inventory``)."""

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def signing_key_path(self) -> Path:
        return self.signing_key or self.data_dir / "signing-key.pem"

    @property
    def master_key_path(self) -> Path:
        return self.master_key or self.data_dir / "master.key"
