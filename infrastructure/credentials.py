"""The token-hash index and the server-side web sessions, in tables of our own.

Both are read on every authenticated request and never cached in the process, so a
change made by one service instance (a session ended, a staff member revoked) holds in
every instance sharing the database from the next request on. Neither table is the
truth about who may do what: the staff member's signed events are. The index only says
which staff member a token hash belongs to; a session row only says who signed in and
when, and is deleted on sign-out, time-out and revocation.

Times are stored as ISO 8601 text (UTC), the same on SQLite and PostgreSQL.

May import the application's ports and ``infrastructure.sql``.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.ports import TokenEntry, WebSession
from infrastructure.sql import Database

TOKENS = "custody_token_index"
SESSIONS = "custody_web_sessions"


class SQLCredentialStore:
    """Implements :class:`~application.ports.TokenIndex` and
    :class:`~application.ports.SessionStore`."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {TOKENS} ("
                "token_sha256 TEXT PRIMARY KEY, actor_id TEXT NOT NULL, token_id TEXT NOT NULL)"
            )
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {SESSIONS} ("
                "id_sha256 TEXT PRIMARY KEY, actor_id TEXT NOT NULL, "
                "created_at TEXT NOT NULL, last_used_at TEXT NOT NULL)"
            )
            cur.execute(
                f"CREATE INDEX IF NOT EXISTS {SESSIONS}_actor ON {SESSIONS} (actor_id)"
            )

    # -- the token index ---------------------------------------------------------------

    def add(self, token_sha256: str, entry: TokenEntry) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {TOKENS} (token_sha256, actor_id, token_id) VALUES (%s, %s, %s)",
                (token_sha256, str(entry.actor_id), str(entry.token_id)),
            )

    def find(self, token_sha256: str) -> TokenEntry | None:
        with self.db.reading() as cur:
            cur.execute(f"SELECT actor_id, token_id FROM {TOKENS} WHERE token_sha256 = %s",
                        (token_sha256,))
            row = cur.fetchone()
        return TokenEntry(UUID(row[0]), UUID(row[1])) if row else None

    # -- web sessions --------------------------------------------------------------------

    def create(self, id_sha256: str, session: WebSession) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                f"INSERT INTO {SESSIONS} (id_sha256, actor_id, created_at, last_used_at) "
                "VALUES (%s, %s, %s, %s)",
                (id_sha256, str(session.actor_id), session.created_at.isoformat(),
                 session.last_used_at.isoformat()),
            )

    def get(self, id_sha256: str) -> WebSession | None:
        with self.db.reading() as cur:
            cur.execute(f"SELECT actor_id, created_at, last_used_at FROM {SESSIONS} "
                        "WHERE id_sha256 = %s", (id_sha256,))
            row = cur.fetchone()
        if row is None:
            return None
        return WebSession(UUID(row[0]), datetime.fromisoformat(row[1]),
                          datetime.fromisoformat(row[2]))

    def touch(self, id_sha256: str, at: datetime) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"UPDATE {SESSIONS} SET last_used_at = %s WHERE id_sha256 = %s",
                        (at.isoformat(), id_sha256))

    def delete(self, id_sha256: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"DELETE FROM {SESSIONS} WHERE id_sha256 = %s", (id_sha256,))

    def delete_for_actor(self, actor_id: UUID) -> int:
        with self.db.transaction() as cur:
            result = cur.execute(f"DELETE FROM {SESSIONS} WHERE actor_id = %s",
                                 (str(actor_id),))
            return int(getattr(result, "rowcount", 0) or getattr(cur, "rowcount", 0) or 0)
