"""The composition of everything the service runs on, built from :class:`Settings`.

SQLite (default): ``<data_dir>/events.sqlite`` for the event store, and ``keys.sqlite``,
``log.sqlite``, ``views.sqlite`` beside it, so the writers of keys, the transparency log
and the views never wait on the event writer's lock. PostgreSQL: one database and schema
for all of them. Nothing here runs at import time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, Mapper, Transcoder

from application.access_log import AccessRecorder
from application.credentials import ClaimMapping, Credentials
from application.ports import Clock, StorePorts, TransparencyLogReader
from application.projections import ProjectionRunner
from application.queries import CustodyQueries
from application.service import Custody, SystemClock
from infrastructure.agreement_gate import FileAgreementGate, PostgresAgreementGate
from infrastructure.credentials import SQLCredentialStore
from infrastructure.feed import SignedEventFeed, SignedHistory
from infrastructure.integrity import LogHealth
from infrastructure.invalidation import InvalidationListener
from infrastructure.keys import Keyring, load_or_create_secret
from infrastructure.leadership import Leadership
from infrastructure.live_projection import LiveProjection
from infrastructure.oidc import OpenIdProvider
from infrastructure.settings import Settings
from infrastructure.signed_events import SignedEventStore, SignedMapper
from infrastructure.sql import Database, PostgresDatabase, SQLiteDatabase
from infrastructure.stored_ids import stored_ids
from infrastructure.subject_keys import SUBJECT_KEY, BlindIndex, SubjectKeyVault
from infrastructure.transparency.log import TransparencyLog
from infrastructure.verification import VerifyReport
from infrastructure.view_store import SQLViewStore
from infrastructure.write_outcome import heal_pool

log = logging.getLogger("custody.runtime")


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
        # Not POSTGRES_PRE_PING: the pool's check sleeps 1 s, 2 s, 4 s… after each dead
        # connection. The library retries an operation on a fresh connection instead,
        # and after a failed write the whole pool is checked (write_outcome.py).
        # Never POSTGRES_ENABLE_DB_FUNCTIONS: with concurrent writers a follower of the
        # log would skip events (measured: with 6 concurrent writers a reader skipped
        # 99-223 of ~40k; the plpgsql path skips the table lock and the insert hook).
        "POSTGRES_ENABLE_DB_FUNCTIONS": "n",
    }
    return env


def open_database(settings: Settings, sqlite_name: str) -> Database:
    if settings.uses_postgres:
        return PostgresDatabase(settings.database_url or "", settings.database_schema)
    return SQLiteDatabase(settings.data_dir / sqlite_name)


def missing_store_parts(settings: Settings) -> list[Path]:
    """What a store in ``settings``' data dir lacks (nothing: it exists). The key material
    always lives in the data dir; on SQLite the event store does too. Only ``custody
    init`` and ``custody serve`` create what is missing: anything else run in the wrong
    folder would start a new store with new keys beside the real one."""
    wanted = [settings.master_key_path, settings.signing_key_path]
    if not settings.uses_postgres:
        wanted.insert(0, settings.data_dir / "events.sqlite")
    return [path for path in wanted if not path.exists()]


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
    closers: list[Callable[[], None]] = field(default_factory=list)
    """What ``close()`` stops first: the runner, the log, the agreement gate."""
    log: TransparencyLog = field(init=False)
    log_health: LogHealth = field(init=False)
    """The cheap log check ``/healthz`` runs."""
    invalidation: InvalidationListener | None = None
    """PostgreSQL: the listener that evicts what another instance invalidated."""
    credentials: Credentials = field(init=False)

    leadership: Leadership | None = field(default=None, init=False)

    def start_background(self) -> None:
        """The server's followers: projections and log sealing with checkpoints. On
        PostgreSQL only the instance holding the lease runs them (see ``leadership``)."""
        self.shred_pending()
        self.custody.ensure_seed_decision()
        # From now on a follower (here, or the leader's) moves the views: reads wait only
        # for this process's own pending writes (application.freshness).
        self.queries.pending.followed = True
        if not self.settings.uses_postgres:
            self._start_followers()
            return
        self.leadership = Leadership(self.settings.database_url or "",
                                     self.settings.database_schema,
                                     on_gain=self._start_followers,
                                     on_loss=self._stop_followers,
                                     interval=self.settings.lease_interval)
        self.leadership.start()

    def _start_followers(self) -> None:
        self.runner.start()
        self.log.start()

    def _stop_followers(self) -> None:
        self.runner.stop()
        self.log.stop()

    @property
    def leads(self) -> bool:
        """Whether this process runs the followers (always, on SQLite)."""
        return self.leadership.leader if self.leadership is not None else True

    def shred_pending(self) -> int:
        """Destroy the data key of every cull whose key survived (a crash between the
        cull's commit and the key's destruction)."""
        self.queries.fresh()
        subjects = [UUID(c["shredded_subject"]) for c in self.views.all("culls")]
        return self.vault.destroy_pending(subjects)

    def health(self) -> tuple[bool, dict[str, Any]]:
        """What ``/healthz`` answers: whether the process is healthy, and why (the
        database, the projection, the log, leadership, the cache invalidation)."""
        body: dict[str, Any] = {"status": "ok"}
        try:
            last = self.custody.recorder.max_notification_id() or 0
            body["database"] = "ok"
        except Exception as error:
            return False, {"status": "error", "database": f"unreachable: {error}"}
        position = self.views.position()
        body["events"] = last
        body["projection"] = {"position": position, "lag": max(0, last - position),
                              "follower": self.runner.follower_name,
                              "error": self.runner.error}
        log_problem = self.log_health.problem()
        body["log"] = {"size": self.log.size(), "error": self.log.error or log_problem}
        body["leader"] = self.leads
        listener = self.invalidation
        body["cache_invalidation"] = ("in process" if listener is None else "listening"
                                      if listener.connected.is_set() else "reconnecting")
        if self.runner.error or self.log.error or log_problem:
            body["status"] = "error"
            return False, body
        return True, body

    def gauges(self) -> tuple[int, int, int, bool]:
        """For ``/metrics``: projection lag, view position, log size, projection stopped."""
        return (self.runner.lag(), self.views.position(), self.log.size(),
                self.runner.error is not None)

    @property
    def log_reader(self) -> TransparencyLogReader:
        """The log as the outer layer sees it (checked against the port by mypy)."""
        return self.log

    def export_bundle(self) -> bytes:
        """The export bundle (``StoreExports``)."""
        from infrastructure.bundle import bundle_bytes

        return bundle_bytes(self)

    def export_sip(self, school_year: int | None = None,
                   culling_list: UUID | None = None) -> bytes:
        """An E-ARK SIP as a zip (``StoreExports``)."""
        import tempfile

        from infrastructure.sip.package import write_sip
        from infrastructure.sip.selection import Selection
        from infrastructure.sip.selection import culling_list as culling_list_selection
        from infrastructure.sip.selection import school_year as school_year_selection

        selection: Selection | None = None
        if school_year is not None:
            selection = school_year_selection(school_year)
        elif culling_list is not None:
            selection = culling_list_selection(str(culling_list))
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "custody-sip.zip"
            write_sip(self, path, selection)
            return path.read_bytes()

    def culling_protocol(self, list_id: UUID) -> dict[str, Any]:
        """The signed culling protocol of an executed list (``StoreExports``)."""
        from infrastructure.culling_protocol import build_protocol

        return build_protocol(self, list_id)

    def certificate_text(self, certificate_id: UUID) -> str:
        """A culling certificate's signed text (``StoreExports``)."""
        from infrastructure.certificates import certificate_text

        return certificate_text(self, certificate_id)

    def verify(self, *, workers: int | None = None) -> VerifyReport:
        """Verify the live store: signatures, chains, the log (``StoreExports``)."""
        from infrastructure.audit import verify_live

        return verify_live(self, workers=workers)

    def heal_connections(self) -> None:
        """After a database error: check every idle pooled connection, replace the dead
        ones (PostgreSQL; nothing to do on SQLite)."""
        heal_pool(self.custody.recorder)
        for db in self.databases:
            heal = getattr(db, "heal", None)
            if heal is not None:
                try:
                    heal()
                except Exception as error:  # the next request finds out again
                    log.warning("checking pooled connections failed: %s", error)

    def seal(self) -> str | None:
        """Seal what a command-line write stored and sign a checkpoint for it."""
        return self.log.seal_and_checkpoint()

    @property
    def events_database(self) -> str:
        if self.settings.uses_postgres:
            return f"{self.settings.database_url} (schema {self.settings.database_schema})"
        return str(self.settings.data_dir / "events.sqlite")

    def close(self) -> None:
        if self.leadership is not None:
            self.leadership.stop()
        for closer in self.closers:
            closer()
        self.custody.close()
        seen: set[int] = set()
        for db in self.databases:
            if id(db) not in seen:
                seen.add(id(db))
                db.close()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> Runtime:
    """``clock``: the time the service goes by (token expiry, session time-outs)."""
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

    gate: PostgresAgreementGate | FileAgreementGate
    if settings.uses_postgres:
        gate = PostgresAgreementGate(settings.database_url or "", settings.database_schema)
    else:
        gate = FileAgreementGate(settings.data_dir / "agreement.lock")
    # Sessions are written while pages are used: on SQLite a file of their own, so they
    # never wait on the writers of keys; on PostgreSQL the keys' pool serves them too.
    credentials_db = keys_db if settings.uses_postgres else open_database(
        settings, "credentials.sqlite")
    credential_store = SQLCredentialStore(credentials_db)
    ports = StorePorts(mapper=mapper, event_store=event_store, key_vault=vault,
                       blind_index=blind, agreement_gate=gate, token_index=credential_store,
                       clock=clock or SystemClock(), stored_ids=stored_ids)
    custody = Custody(eventsourcing_env(settings), ports)
    views_db = open_database(settings, "views.sqlite")
    views = SQLViewStore(views_db, vault)
    feed = SignedEventFeed(custody.recorder, cast(SignedMapper, custody.mapper))
    runner = ProjectionRunner(feed, views, search=blind)
    custody.listeners.append(lambda _seq, _n: runner.notify())
    history = SignedHistory(custody.recorder, cast(SignedMapper, custody.mapper))
    access = AccessRecorder(custody.commit)
    queries = CustodyQueries(views, runner, feed, history, settings.projection_wait_timeout,
                             reference=blind.reference, access=access, search=blind)
    custody.commit_watchers.append(queries.pending.wrote)
    rt = Runtime(settings, keyring, vault, blind, custody, views, runner, queries,
                 [keys_db, views_db, credentials_db])
    provider = OpenIdProvider(settings.oidc_issuer or "", settings.oidc_client_id or "",
                              settings.oidc_client_secret or "",
                              custody.clock) if settings.uses_oidc else None
    rt.credentials = Credentials(
        custody, credential_store, idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(hours=settings.session_max_hours), provider=provider,
        mapping=ClaimMapping(settings.oidc_role_claim, settings.oidc_school_claim,
                             ClaimMapping.parse_role_map(settings.oidc_role_map)))
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
    rt.log_health = LogHealth(tlog)
    rt.closers.extend([runner.stop, tlog.close, feed.close])
    if isinstance(gate, PostgresAgreementGate):
        rt.closers.append(gate.close)
    if settings.uses_postgres:
        # A cull in another instance evicts the data key cached here at once.
        invalidation = InvalidationListener(
            settings.database_url or "", settings.database_schema,
            handlers={SUBJECT_KEY: lambda key: vault.evict(UUID(key))},
            on_reset=vault.drop_cached)
        invalidation.start()
        rt.invalidation = invalidation
        rt.closers.insert(0, invalidation.stop)
    return rt
