"""The read models in SQL (SQLite or PostgreSQL), with their tracking position.

``apply`` moves the position with a compare-and-set and writes the batch's documents in
the same transaction: if another runner got there first, or the process dies, nothing of
the batch is kept, so every event is applied exactly once. Personal data in a document
(``personal``) is sealed under the document's ``subject`` key, like in the events, so
the views hold no personal data in plaintext and a shredded key blanks them too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from application import docjson
from application.ports import Doc, ViewPositionMovedError, ViewWriter
from application.progress import COUNTERS
from domain.record import CopyStatus, Kind, Purpose
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
                return docjson.dumps(doc)
            try:
                doc["personal"] = self.vault.seal(UUID(doc["subject"]), personal)
            except LookupError:
                doc["personal"] = None  # key destroyed meanwhile: nothing readable to keep
        return docjson.dumps(doc)

    def _decode(self, text: str) -> Doc:
        doc: Doc = docjson.loads(text)
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
        """Decode a list, with the keys of its sealed personal data fetched in one query
        per 500 documents (fetched and used 500 at a time: fetched all at once, a long
        list would push the first keys out of the vault's cache before they are used)."""
        docs = [docjson.loads(text) for text in texts]
        for start in range(0, len(docs), 500):
            chunk = [d for d in docs[start : start + 500] if _sealed(d)]
            subjects = {UUID(d["subject"]) for d in chunk}
            if len(subjects) > 1:
                self.vault.prefetch(subjects)
            for doc in chunk:
                doc["personal"] = self.vault.open(UUID(doc["subject"]), doc["personal"])
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
        return self._decode_many([r[0] for r in rows])

    def find_joined(self, view: str, joined: str, on: str,
                    keep: Callable[[Doc], bool] | None = None,
                    **where: str | None) -> list[tuple[Doc, Doc | None]]:
        """One query: the documents of ``view`` found like :meth:`find`, in key order
        (of code points), each with the ``joined`` document under the key in its ``on``
        column (an indexed column), by the primary key. The joined documents' personal
        data is opened only for the rows ``keep`` accepts, with their data keys fetched
        in one query."""
        if on not in INDEXED:
            raise ValueError(f"{on} is not an indexed column")
        clauses = ["a.view = %s"]
        params: list[Any] = [joined, view]
        for column, value in where.items():
            if column not in INDEXED:
                raise ValueError(f"{column} is not an indexed column")
            if value is None:
                clauses.append(f"a.{column} IS NULL")
            else:
                clauses.append(f"a.{column} = %s")
                params.append(value)
        with self.db.reading() as cur:
            # Sorted here, not by ORDER BY: that made SQLite walk the primary key through
            # the whole view to save a sort, instead of the index on the column asked for.
            cur.execute(f"SELECT a.key, a.doc, b.doc FROM {self.table} a "
                        f"LEFT JOIN {self.table} b ON b.view = %s AND b.key = a.{on} "
                        f"WHERE {' AND '.join(clauses)}", params)
            rows = sorted(cur.fetchall(), key=lambda row: str(row[0]))
        found = [(self._decode(a), b) for _, a, b in rows]
        if keep is not None:
            found = [(a, b) for a, b in found if keep(a)]
        texts = [b for _, b in found if b is not None]
        opened = iter(self._decode_many(texts))
        return [(a, next(opened) if b is not None else None) for a, b in found]

    def progress_counts(self) -> dict[str, dict[str, int]]:
        """:func:`application.progress.count_progress` in one aggregate query: no
        document is read into Python, no personal data opened."""
        t = self.table
        if self.db.dialect == "postgres":
            # json_to_record parses each document once for all the fields asked for.
            copies = (f"SELECT record_id, status, f.purpose, f.delivered_at FROM {t} "
                      f"CROSS JOIN LATERAL json_to_record({t}.doc::json) "
                      "AS f(purpose text, delivered_at text) WHERE view = 'copies'")
            records = (f"SELECT key, school_id, status, f.kind, f.ist_entered FROM {t} "
                       f"CROSS JOIN LATERAL json_to_record({t}.doc::json) "
                       "AS f(kind text, ist_entered text) WHERE view = 'records'")
        else:
            copies = ("SELECT record_id, status, json_extract(doc, '$.purpose') AS purpose, "
                      "json_extract(doc, '$.delivered_at') AS delivered_at "
                      f"FROM {t} WHERE view = 'copies'")
            records = ("SELECT key, school_id, status, json_extract(doc, '$.kind') AS kind, "
                       "json_extract(doc, '$.ist_entered') AS ist_entered "
                       f"FROM {t} WHERE view = 'records'")
        archive = (f"purpose = '{Purpose.ARCHIVE.value}' "
                   f"AND COALESCE(status, '') <> '{CopyStatus.REPLACED.value}'")
        filed, verified = f"'{CopyStatus.ARCHIVED.value}'", f"'{CopyStatus.VERIFIED.value}'"
        student = "COALESCE(r.kind, '') = 'student_documentation'"
        sql = f"""
            WITH c AS (
                SELECT record_id,
                    MAX(CASE WHEN {archive} THEN 1 ELSE 0 END) AS printed,
                    MAX(CASE WHEN {archive} AND status IN ({filed}, {verified})
                        THEN 1 ELSE 0 END) AS archived,
                    MAX(CASE WHEN {archive} AND status = {verified} THEN 1 ELSE 0 END)
                        AS verified,
                    MAX(CASE WHEN purpose = 'school' AND COALESCE(delivered_at, '') <> ''
                        THEN 1 ELSE 0 END) AS delivered
                FROM ({copies}) x GROUP BY record_id),
            r AS ({records})
            SELECT r.school_id,
                SUM(CASE WHEN {student} THEN 1 ELSE 0 END),
                SUM(CASE WHEN {student} THEN COALESCE(c.printed, 0) ELSE 0 END),
                SUM(CASE WHEN {student} THEN COALESCE(c.archived, 0) ELSE 0 END),
                SUM(CASE WHEN {student} THEN COALESCE(c.verified, 0) ELSE 0 END),
                SUM(CASE WHEN {student} THEN COALESCE(c.delivered, 0) ELSE 0 END),
                SUM(CASE WHEN {student} AND r.ist_entered IS NOT NULL THEN 1 ELSE 0 END),
                SUM(CASE WHEN {student} THEN 0 ELSE 1 END),
                SUM(CASE WHEN NOT {student} AND r.status = 'culled' THEN 1 ELSE 0 END)
            FROM r LEFT JOIN c ON c.record_id = r.key
            GROUP BY r.school_id"""
        with self.db.reading() as cur:
            cur.execute(sql)
            rows = cur.fetchall()
        # The order of the sums above is the order of COUNTERS.
        return {str(row[0]): {name: int(n or 0) for name, n in zip(COUNTERS, row[1:], strict=True)}
                for row in rows}

    def readiness_counts(self) -> Doc:
        """:func:`application.readiness.count_readiness` in two queries: the counts in one
        aggregate, then only the students still missing something, in key order (as
        :meth:`find` orders). No document is read into Python, no personal data opened."""
        t = self.table
        if self.db.dialect == "postgres":
            copies = (f"SELECT record_id, status, f.purpose FROM {t} "
                      f"CROSS JOIN LATERAL json_to_record({t}.doc::json) "
                      "AS f(purpose text) WHERE view = 'copies'")
            records = (f"SELECT key, school_id, f.kind FROM {t} "
                       f"CROSS JOIN LATERAL json_to_record({t}.doc::json) "
                       "AS f(kind text) WHERE view = 'records'")
        else:
            copies = ("SELECT record_id, status, json_extract(doc, '$.purpose') AS purpose "
                      f"FROM {t} WHERE view = 'copies'")
            records = ("SELECT key, school_id, json_extract(doc, '$.kind') AS kind "
                       f"FROM {t} WHERE view = 'records'")
        # The domain keeps at most one archive copy per record that is neither replaced
        # nor culled, so MIN picks the one application.readiness takes.
        gone = ", ".join(f"'{s.value}'" for s in (CopyStatus.REPLACED, CopyStatus.CULLED))
        verified, archived = f"'{CopyStatus.VERIFIED.value}'", f"'{CopyStatus.ARCHIVED.value}'"
        students = f"""
            WITH a AS (
                SELECT record_id, MIN(status) AS status FROM ({copies}) x
                WHERE purpose = '{Purpose.ARCHIVE.value}'
                    AND COALESCE(status, '') NOT IN ({gone})
                GROUP BY record_id),
            r AS ({records})
            SELECT {{}} FROM r LEFT JOIN a ON a.record_id = r.key
            WHERE r.kind = '{Kind.STUDENT_DOCUMENTATION.value}' {{}}"""
        counts = students.format(
            f"""COUNT(*), SUM(CASE WHEN a.record_id IS NULL THEN 0 ELSE 1 END),
                SUM(CASE WHEN a.status IN ({archived}, {verified}) THEN 1 ELSE 0 END),
                SUM(CASE WHEN a.status = {verified} THEN 1 ELSE 0 END)""", "")
        missing = students.format(
            "r.key, r.school_id, a.status",
            f"AND COALESCE(a.status, '') <> {verified} ORDER BY r.key")
        with self.db.reading() as cur:
            cur.execute(counts)
            row = cur.fetchone()
            cur.execute(missing)
            rows = cur.fetchall()
        n = [int(v or 0) for v in row] if row else [0, 0, 0, 0]
        return {"students": n[0], "printed": n[1], "archived": n[2], "verified": n[3],
                "missing": [{"record_id": str(key), "school_id": school, "archive_copy": status}
                            for key, school, status in rows]}

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
                doc = docjson.loads(row[-1])
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
        """Read every view's documents under these keys in one query per 500 keys, and
        the data keys of their sealed personal data in one more."""
        for start in range(0, len(keys), 500):
            chunk = list(keys[start : start + 500])
            marks = ", ".join(["%s"] * len(chunk))
            self.cur.execute(f"SELECT view, key, doc FROM {self.store.table} "
                             f"WHERE key IN ({marks})", chunk)
            rows = [(view, key, docjson.loads(text)) for view, key, text in self.cur.fetchall()]
            subjects = {UUID(raw["subject"]) for _, _, raw in rows if _sealed(raw)}
            if len(subjects) > 1:
                self.store.vault.prefetch(subjects)
            for view, key, raw in rows:
                self._stage(view, key, raw)
            self.prefetched.update(chunk)

    def _stage(self, view: str, key: str, doc: Doc) -> Doc:
        """Stage a document as read (``doc`` decoded, personal data still sealed)."""
        sealed = doc.get("personal")
        if isinstance(sealed, dict) and _sealed(doc):
            opened = self.store.vault.open(UUID(doc["subject"]), sealed)
            doc["personal"] = opened
            # What the ciphertext holds, to keep it when the personal data is unchanged.
            self.sealed[(view, key)] = (docjson.plain_copy(opened), sealed)
        self.changes[(view, key)] = doc
        return doc

    def get(self, view: str, key: str) -> Doc | None:
        """The staged document itself (no copy): the projector changes it and puts it back."""
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
        return self._stage(view, key, docjson.loads(row[0]))

    def put(self, view: str, key: str, doc: Doc, *, owned: bool = False) -> None:
        """Stage ``doc``. The document handed out by :meth:`get` for this key, put back,
        is staged as it is; any other is copied unless ``owned``."""
        self.dirty.add((view, key))
        if owned or self.changes.get((view, key)) is doc:
            self.changes[(view, key)] = doc
        else:
            self.changes[(view, key)] = docjson.plain_copy(doc)


def _sealed(doc: Doc) -> bool:
    sealed = doc.get("personal")
    return isinstance(sealed, dict) and "sealed" in sealed and bool(doc.get("subject"))
