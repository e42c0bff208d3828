"""The first answer to every ``Idempotency-Key``, in a table beside the views.

One row per (actor, key): the request's fingerprint (method, path, query and body
hashed), the status, content type and body of the first answer, and when it was claimed.
A row older than :data:`TTL_SECONDS` (24 h) counts for nothing and is deleted by the
next claim. Both backends through :class:`infrastructure.sql.Database`.
"""

from __future__ import annotations

import base64
import time

from application.ports import StoredAnswer
from infrastructure.sql import Database

TTL_SECONDS = 24 * 3600.0


class SQLIdempotencyStore:
    def __init__(self, db: Database, *, prefix: str = "custody",
                 ttl_seconds: float = TTL_SECONDS) -> None:
        self.db = db
        self.table = f"{prefix}_idempotency"
        self.ttl_seconds = ttl_seconds
        real = "DOUBLE PRECISION" if db.dialect == "postgres" else "REAL"
        with db.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (actor TEXT NOT NULL, "
                "key TEXT NOT NULL, fingerprint TEXT NOT NULL, status INTEGER, "
                f"content_type TEXT, body TEXT, created_at {real} NOT NULL, "
                "PRIMARY KEY (actor, key))")
            cur.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_created "
                        f"ON {self.table} (created_at)")

    def claim(self, actor: str, key: str, fingerprint: str) -> StoredAnswer | None:
        now = time.time()
        with self.db.transaction() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE created_at < %s",
                        (now - self.ttl_seconds,))
            cur.execute(f"INSERT INTO {self.table} (actor, key, fingerprint, created_at) "
                        "VALUES (%s, %s, %s, %s) ON CONFLICT (actor, key) DO NOTHING",
                        (actor, key, fingerprint, now))
            if cur.rowcount == 1:
                return None
            cur.execute(f"SELECT fingerprint, status, content_type, body, created_at "
                        f"FROM {self.table} WHERE actor = %s AND key = %s", (actor, key))
            row = cur.fetchone()
        if row is None:  # deleted between the two statements: claim again
            return self.claim(actor, key, fingerprint)
        stored_fingerprint, status, content_type, body, created = row
        return StoredAnswer(str(stored_fingerprint), None if status is None else int(status),
                            str(content_type or ""),
                            base64.b64decode(body) if body else b"", now - float(created))

    def complete(self, actor: str, key: str, status: int, content_type: str,
                 body: bytes) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"UPDATE {self.table} SET status = %s, content_type = %s, body = %s "
                        "WHERE actor = %s AND key = %s",
                        (status, content_type, base64.b64encode(body).decode(), actor, key))

    def release(self, actor: str, key: str) -> None:
        with self.db.transaction() as cur:
            cur.execute(f"DELETE FROM {self.table} WHERE actor = %s AND key = %s AND "
                        "status IS NULL", (actor, key))
