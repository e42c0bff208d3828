"""The read models in SQL (SQLite or PostgreSQL), with their tracking position.

``apply`` moves the position with a compare-and-set and writes the batch's documents in
the same transaction: if another runner got there first, or the process dies, nothing of
the batch is kept, so every event is applied exactly once. Personal data in a document
(``personal``) is sealed under the document's ``subject`` key, like in the events, so
the views hold no personal data in plaintext and a shredded key blanks them too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from application.ports import Doc, ViewPositionMovedError, ViewWriter
from infrastructure.sql import Database
from infrastructure.subject_keys import SubjectKeyVault

INDEXED = ("school_id", "status", "record_id", "actor")


class ProjectionConflictError(ViewPositionMovedError):
    """Another runner moved the views first; this batch was rolled back."""


class SQLViewStore:
    def __init__(self, db: Database, vault: SubjectKeyVault, *, prefix: str = "custody") -> None:
        self.db = db
        self.vault = vault
        self.prefix = prefix
        self.table = f"{prefix}_views"
        self.tracking = f"{prefix}_view_tracking"
        big = "BIGINT" if db.dialect == "postgres" else "INTEGER"
        with db.transaction() as cur:
            cur.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (view TEXT NOT NULL, key TEXT NOT NULL, "
                "school_id TEXT, status TEXT, record_id TEXT, actor TEXT, doc TEXT NOT NULL, "
                "PRIMARY KEY (view, key))"
            )
            for column in INDEXED:
                cur.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_{column} "
                            f"ON {self.table} (view, {column})")
            # The projector's prefetch asks for every view's documents under a set of keys
            # (WHERE key IN ...): the (view, key) primary key cannot serve that, so without
            # this index each batch scanned the whole table and a rebuild grew as O(N^2).
            cur.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_key ON {self.table} (key)")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {self.tracking} "
                        f"(name TEXT PRIMARY KEY, position {big} NOT NULL)")
            cur.execute(f"INSERT INTO {self.tracking} (name, position) VALUES ('views', 0) "
                        "ON CONFLICT (name) DO NOTHING")

    # -- sealing --------------------------------------------------------------------------

    def _encode(self, doc: Doc, sealed_before: tuple[Any, Any] | None = None) -> str:
        personal = doc.get("personal")
        if personal is not None and doc.get("subject"):
            doc = dict(doc)
            if sealed_before is not None and sealed_before[0] == personal:
                # Unchanged personal data keeps its ciphertext: no re-encryption per event.
                doc["personal"] = sealed_before[1]
                return json.dumps(doc, separators=(",", ":"), sort_keys=True, default=str)
            try:
                doc["personal"] = self.vault.seal(UUID(doc["subject"]), personal)
            except LookupError:
                doc["personal"] = None  # key destroyed meanwhile: nothing readable to keep
        return json.dumps(doc, separators=(",", ":"), sort_keys=True, default=str)

    def _decode(self, text: str) -> Doc:
        doc: Doc = json.loads(text)
        sealed = doc.get("personal")
        if isinstance(sealed, dict) and "sealed" in sealed and doc.get("subject"):
            doc["personal"] = self.vault.open(UUID(doc["subject"]), sealed)
        return doc

    # -- port: ViewStore ------------------------------------------------------------------

    def position(self) -> int:
        with self.db.reading() as cur:
            cur.execute(f"SELECT position FROM {self.tracking} WHERE name = 'views'")
            row = cur.fetchone()
        return int(row[0]) if row else 0

    def apply(self, expected_position: int, new_position: int,
              change: Callable[[ViewWriter], None], hints: Sequence[str] = ()) -> None:
        with self.db.transaction() as cur:
            cur.execute(
                f"UPDATE {self.tracking} SET position = %s WHERE name = 'views' AND position = %s",
                (new_position, expected_position),
            )
            if cur.rowcount != 1:
                raise ProjectionConflictError(
                    f"the views are no longer at seq {expected_position}; batch rolled back"
                )
            writer = _Writer(self, cur)
            writer.prefetch(hints)
            change(writer)
            rows = []
            for (view, key), doc in writer.changes.items():
                if (view, key) not in writer.dirty:
                    continue  # read, not changed: nothing to write
                encoded = self._encode(doc, writer.sealed.get((view, key)))
                rows.append((view, key, *(_column(doc, c) for c in INDEXED), encoded))
            if rows:
                cur.executemany(
                    f"INSERT INTO {self.table} (view, key, school_id, status, record_id, actor, "
                    "doc) VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (view, key) DO UPDATE "
                    "SET school_id = excluded.school_id, status = excluded.status, "
                    "record_id = excluded.record_id, actor = excluded.actor, doc = excluded.doc",
                    rows,
                )

    def get(self, view: str, key: str) -> Doc | None:
        with self.db.reading() as cur:
            cur.execute(f"SELECT doc FROM {self.table} WHERE view = %s AND key = %s", (view, key))
            row = cur.fetchone()
        return self._decode(row[0]) if row else None

    def get_many(self, view: str, keys: Sequence[str]) -> list[Doc]:
        if not keys:
            return []
        found: dict[str, str] = {}
        with self.db.reading() as cur:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ", ".join(["%s"] * len(chunk))
                cur.execute(f"SELECT key, doc FROM {self.table} WHERE view = %s "
                            f"AND key IN ({marks})", [view, *chunk])
                found.update((key, text) for key, text in cur.fetchall())
        return self._decode_many([found[key] for key in keys if key in found])

    def _decode_many(self, texts: Sequence[str]) -> list[Doc]:
        """Decode a list, with the keys of its sealed personal data fetched in one go."""
        docs = [json.loads(text) for text in texts]
        subjects = {UUID(d["subject"]) for d in docs
                    if isinstance(d.get("personal"), dict) and d.get("subject")}
        if len(subjects) > 1:
            self.vault.prefetch(subjects)
        for doc in docs:
            sealed = doc.get("personal")
            if isinstance(sealed, dict) and "sealed" in sealed and doc.get("subject"):
                doc["personal"] = self.vault.open(UUID(doc["subject"]), sealed)
        return docs

    def find(self, view: str, **where: str | None) -> list[Doc]:
        clauses = ["view = %s"]
        params: list[Any] = [view]
        for column, value in where.items():
            if column not in INDEXED:
                raise ValueError(f"{column} is not an indexed column")
            if value is None:
                clauses.append(f"{column} IS NULL")
            else:
                clauses.append(f"{column} = %s")
                params.append(value)
        with self.db.reading() as cur:
            cur.execute(f"SELECT doc FROM {self.table} WHERE {' AND '.join(clauses)} ORDER BY key",
                        params)
            rows = cur.fetchall()
        return self._decode_many([r[0] for r in rows])

    def all(self, view: str) -> list[Doc]:
        return self.find(view)

    def page(self, view: str, after: str, limit: int, **where: str | None) -> list[Doc]:
        """Keyset paging on the primary key (``view``, ``key``): the key order is the
        database's, and so is the ``key > after`` comparison, so pages never overlap."""
        clauses = ["view = %s", "key > %s"]
        params: list[Any] = [view, after]
        for column, value in where.items():
            if column not in INDEXED:
                raise ValueError(f"{column} is not an indexed column")
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        params.append(limit)
        with self.db.reading() as cur:
            cur.execute(f"SELECT doc FROM {self.table} WHERE {' AND '.join(clauses)} "
                        "ORDER BY key LIMIT %s", params)
            rows = cur.fetchall()
        return [self._decode(r[0]) for r in rows]

    def reset(self) -> None:
        with self.db.transaction() as cur:
            # The position first, like every apply: an apply in flight (another process)
            # commits before this goes on, so its rows are deleted too, and the two never
            # wait for each other's locks in opposite order.
            cur.execute(f"UPDATE {self.tracking} SET position = 0 WHERE name = 'views'")
            cur.execute(f"DELETE FROM {self.table}")

    def columns_out_of_line(self) -> list[tuple[str, str]]:
        """(view, key) of every row whose indexed columns (what ``find`` filters on, e.g.
        which school unit may read it) disagree with its document: an edit made in the
        database, not by the projector."""
        wrong = []
        with self.db.reading() as cur:
            cur.execute(f"SELECT view, key, {', '.join(INDEXED)}, doc FROM {self.table}")
            for row in cur.fetchall():
                doc = json.loads(row[-1])
                if any(row[2 + i] != _column(doc, c) for i, c in enumerate(INDEXED)):
                    wrong.append((str(row[0]), str(row[1])))
        return wrong

    # -- rebuilding beside the views readers use ---------------------------------------

    def beside(self) -> SQLViewStore:
        """An empty store of the same views in tables of their own (``<prefix>_next_…``)
        to rebuild into while readers go on using these."""
        shadow = SQLViewStore(self.db, self.vault, prefix=f"{self.prefix}_next")
        shadow.reset()
        return shadow

    def take_over(self, built: SQLViewStore) -> int:
        """Replace these views by ``built``'s, with its position, in one transaction:
        a reader sees the old views or the new ones, never a half-built set. Events
        that arrived after ``built``'s position are applied afterwards by whoever
        follows the log (the compare-and-set makes an apply in flight start over).
        Returns the new position."""
        with self.db.transaction() as cur:
            # The position first, like every apply: an apply in flight commits before
            # this goes on, and none starts until this commits.
            cur.execute(f"UPDATE {self.tracking} SET position = position WHERE name = 'views'")
            cur.execute(f"SELECT position FROM {built.tracking} WHERE name = 'views'")
            row = cur.fetchone()
            position = int(row[0]) if row else 0
            cur.execute(f"DELETE FROM {self.table}")
            cur.execute(f"INSERT INTO {self.table} SELECT * FROM {built.table}")
            cur.execute(f"UPDATE {self.tracking} SET position = %s WHERE name = 'views'",
                        (position,))
        built.reset()  # the copy is in place: give the space back
        return position


def _column(doc: Doc, column: str) -> str | None:
    value = doc.get(column)
    return None if value is None else str(value)


class _Writer:
    """Stages a batch's documents; reads see the batch's own earlier writes."""

    def __init__(self, store: SQLViewStore, cur: Any) -> None:
        self.store = store
        self.cur = cur
        self.changes: dict[tuple[str, str], Doc] = {}
        self.sealed: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.prefetched: set[str] = set()
        self.dirty: set[tuple[str, str]] = set()

    def prefetch(self, keys: Sequence[str]) -> None:
        """Read every view's documents under these keys in one query per 500 keys."""
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join(["%s"] * len(chunk))
            self.cur.execute(f"SELECT view, key, doc FROM {self.store.table} "
                             f"WHERE key IN ({marks})", chunk)
            for view, key, text in self.cur.fetchall():
                self._stage(view, key, text)
            self.prefetched.update(chunk)

    def _stage(self, view: str, key: str, text: str) -> Doc:
        raw = json.loads(text)
        doc = self.store._decode(text)
        if isinstance(raw.get("personal"), dict) and "sealed" in raw["personal"]:
            self.sealed[(view, key)] = (json.loads(json.dumps(doc["personal"])), raw["personal"])
        self.changes[(view, key)] = doc
        return doc

    def get(self, view: str, key: str) -> Doc | None:
        staged = self.changes.get((view, key))
        if staged is not None:
            return staged
        if key in self.prefetched:
            return None  # looked for in the prefetch: not there
        self.cur.execute(f"SELECT doc FROM {self.store.table} WHERE view = %s AND key = %s",
                         (view, key))
        row = self.cur.fetchone()
        if row is None:
            return None
        return self._stage(view, key, row[0])

    def put(self, view: str, key: str, doc: Doc, *, owned: bool = False) -> None:
        self.dirty.add((view, key))
        self.changes[(view, key)] = doc if owned else json.loads(json.dumps(doc, default=str))
