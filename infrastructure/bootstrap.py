"""The composition of everything the service runs on, built from :class:`Settings`.

SQLite (default): ``<data_dir>/events.sqlite`` for the event store, and ``keys.sqlite``,
``log.sqlite``, ``views.sqlite`` beside it, so the writers of keys, the transparency log
and the views never wait on the event writer's lock. PostgreSQL: one database and schema
for all of them. Nothing here runs at import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, Mapper, Transcoder

from application.ports import StorePorts, TransparencyLogReader
from application.projections import ProjectionRunner
from application.queries import CustodyQueries
from application.service import Custody
from infrastructure.feed import SignedEventFeed, SignedHistory
from infrastructure.keys import Keyring, load_or_create_secret
from infrastructure.live_projection import LiveProjection
from infrastructure.settings import Settings
from infrastructure.signed_events import SignedEventStore, SignedMapper
from infrastructure.sql import Database, PostgresDatabase, SQLiteDatabase
from infrastructure.subject_keys import BlindIndex, SubjectKeyVault
from infrastructure.transparency.log import TransparencyLog
from infrastructure.verification import VerifyReport
from infrastructure.view_store import SQLViewStore


def eventsourcing_env(settings: Settings) -> dict[str, str]:
    if not settings.uses_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.data_dir / "events.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    url = urlparse(settings.database_url or "")
    if url.scheme not in ("postgresql", "postgres"):
        raise ValueError("CUSTODY_DATABASE_URL must look like postgresql://user@host:port/db")
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "postgres",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_SCHEMA": settings.database_schema,
        # Fail fast instead of hanging when the database is busy or gone.
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_MAX_WAITING": "30",
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "5",
        "POSTGRES_MAX_OVERFLOW": "10",
        # Never POSTGRES_ENABLE_DB_FUNCTIONS: its plpgsql insert skips the table lock, and
        # with six concurrent writers a follower of the log was measured skipping events.
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }
    return env


def open_database(settings: Settings, sqlite_name: str) -> Database:
    if settings.uses_postgres:
        return PostgresDatabase(settings.database_url or "", settings.database_schema)
    return SQLiteDatabase(settings.data_dir / sqlite_name)


@dataclass
class Runtime:
    """Everything one process needs; ``close()`` releases every connection."""

    settings: Settings
    keyring: Keyring
    vault: SubjectKeyVault
    blind: BlindIndex
    custody: Custody
    views: SQLViewStore
    runner: ProjectionRunner
    queries: CustodyQueries
    databases: list[Database] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    log: TransparencyLog = field(init=False)

    def start_background(self) -> None:
        """The server's followers: projections and log sealing with checkpoints."""
        self.shred_pending()
        self.runner.start()
        self.log.start()

    def shred_pending(self) -> int:
        """Destroy the data key of every cull whose key survived (a crash between the
        cull's commit and the key's destruction)."""
        self.queries.fresh()
        subjects = [UUID(c["shredded_subject"]) for c in self.views.all("culls")]
        return self.vault.destroy_pending(subjects)

    @property
    def log_reader(self) -> TransparencyLogReader:
        """The log as the outer layer sees it (checked against the port by mypy)."""
        return self.log

    def export_bundle(self) -> bytes:
        """The export bundle (``StoreExports``)."""
        from infrastructure.bundle import bundle_bytes

        return bundle_bytes(self)

    def certificate_text(self, certificate_id: UUID) -> str:
        """A culling certificate's signed text (``StoreExports``)."""
        from infrastructure.certificates import certificate_text

        return certificate_text(self, certificate_id)

    def verify(self, *, workers: int | None = None) -> VerifyReport:
        """Verify the live store: signatures, chains, the log (``StoreExports``)."""
        from infrastructure.audit import verify_live

        return verify_live(self, workers=workers)

    def seal(self) -> str | None:
        """Seal what a command-line write stored and sign a checkpoint for it."""
        return self.log.seal_and_checkpoint()

    @property
    def events_database(self) -> str:
        if self.settings.uses_postgres:
            return f"{self.settings.database_url} (schema {self.settings.database_schema})"
        return str(self.settings.data_dir / "events.sqlite")

    def close(self) -> None:
        for closer in self.extras.get("closers", []):
            closer()
        self.custody.close()
        seen: set[int] = set()
        for db in self.databases:
            if id(db) not in seen:
                seen.add(id(db))
                db.close()


def bootstrap(settings: Settings | None = None) -> Runtime:
    settings = settings or Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keyring = Keyring(settings.log_origin, settings.signing_key_path,
                      settings.data_dir / "public-keys")
    master = load_or_create_secret(settings.master_key_path)
    keys_db = open_database(settings, "keys.sqlite")
    vault = SubjectKeyVault(keys_db, master)
    blind = BlindIndex(master)

    def mapper(transcoder: Transcoder) -> Mapper[Any]:
        return SignedMapper(transcoder, keyring, vault)

    def event_store(m: Mapper[Any], recorder: AggregateRecorder) -> SignedEventStore:
        if not isinstance(m, SignedMapper):
            raise TypeError("the custody store needs the signing mapper")
        return SignedEventStore(m, recorder)

    ports = StorePorts(mapper=mapper, event_store=event_store, key_vault=vault,
                       blind_index=blind)
    custody = Custody(eventsourcing_env(settings), ports)
    views_db = open_database(settings, "views.sqlite")
    views = SQLViewStore(views_db, vault)
    feed = SignedEventFeed(custody.recorder, cast(SignedMapper, custody.mapper))
    runner = ProjectionRunner(feed, views)
    custody.listeners.append(lambda _seq, _n: runner.notify())
    history = SignedHistory(custody.recorder, cast(SignedMapper, custody.mapper))
    queries = CustodyQueries(views, runner, feed, history, settings.projection_wait_timeout)
    rt = Runtime(settings, keyring, vault, blind, custody, views, runner, queries,
                 [keys_db, views_db])
    if settings.uses_postgres:
        pool = cast(PostgresDatabase, views_db).pool
        tlog = TransparencyLog(keyring, custody.recorder, pg_pool=pool,
                               pg_schema=settings.database_schema, origin=settings.log_origin,
                               interval=settings.checkpoint_interval)
    else:
        tlog = TransparencyLog(keyring, custody.recorder,
                               sqlite_path=settings.data_dir / "log.sqlite",
                               origin=settings.log_origin, interval=settings.checkpoint_interval)
    rt.log = tlog
    if settings.uses_postgres:
        # The library's ProjectionRunner follows the log by LISTEN/NOTIFY.
        runner.follow_with(LiveProjection(runner, cast(SignedMapper, custody.mapper),
                                          eventsourcing_env(settings)))
    custody.listeners.append(lambda _seq, _n: tlog.notify())
    rt.extras["check_log"] = tlog.check
    rt.extras["closers"] = [runner.stop, tlog.close]
    return rt
