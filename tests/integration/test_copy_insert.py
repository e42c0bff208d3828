"""The import's binary ``COPY`` (PostgreSQL) stores what the library's insert stores.

On PostgreSQL a bulk save (``save(..., bulk=True)``, what the import does) writes its
rows by ``COPY … FROM STDIN (FORMAT BINARY)`` under the library's table lock and
notification; everywhere else, and on SQLite always, the library's insert. Checked: the
rows are byte-identical to the library's (every column, the same notification ids in the
same order), the returned notification ids are the stored ones, a duplicate raises the
library's ``IntegrityError`` and stores nothing, and the views and the transparency log
follow a bulk import.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder

from api.demo import inventory_csv, synthetic_students
from application.importing import command_line_archivist, general_record_id, import_inventory
from application.service import GeneralCapture
from domain.record import Record
from infrastructure.audit import verify_live
from infrastructure.bootstrap import Runtime
from infrastructure.copy_insert import CopyWriter
from infrastructure.settings import Settings
from infrastructure.signed_events import SignedEventStore
from tests.factories import sha
from tests.integration.test_import import events, register_schools, students_in_views

ARCHIVIST = command_line_archivist()
STUDENTS = 60


def rows(recorder: PostgresApplicationRecorder) -> list[tuple[Any, ...]]:
    """Every stored row, every column, in notification-id order."""
    schema, table = recorder.datastore.schema, recorder.events_table_name
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(f'SELECT originator_id, originator_version, topic, state, notification_id '
                     f'FROM "{schema}"."{table}" ORDER BY notification_id')
        return [(r["originator_id"], r["originator_version"], r["topic"], bytes(r["state"]),
                 r["notification_id"]) for r in curs.fetchall()]


def bare_application(pg_url: str) -> Application[Any]:
    """The library's own PostgreSQL application in a fresh schema (no custody code)."""
    schema = f"t_{secrets.token_hex(4)}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    info = psycopg.conninfo.conninfo_to_dict(pg_url)
    return Application({
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": str(info["dbname"]), "POSTGRES_HOST": str(info.get("host")),
        "POSTGRES_PORT": str(info.get("port", 5432)), "POSTGRES_USER": str(info.get("user")),
        "POSTGRES_PASSWORD": "", "POSTGRES_SCHEMA": schema,
    })


def postgres_recorder(app: Application[Any]) -> PostgresApplicationRecorder:
    recorder = app.recorder
    assert isinstance(recorder, PostgresApplicationRecorder)
    return recorder


def general_records(rt: Runtime, count: int, tag: str) -> list[Record]:
    subjects = rt.custody.keys.new_subjects(count)
    records = []
    for n, subject in enumerate(subjects):
        title, digest = f"Veckobrev {tag} {n}", sha(f"{tag}-{n}")
        records.append(rt.custody.prepare(
            ARCHIVIST, GeneralCapture("newsletter", title, "holmes", digest,
                                      general_record_id(rt.custody, "holmes", digest, title)),
            subject=subject))
    return records


class CountingWriter:
    """The store's real COPY writer, counting the events it wrote."""

    def __init__(self, store: SignedEventStore) -> None:
        writer = store._copy_writer
        assert writer is not None, "a PostgreSQL store has a COPY writer"
        self.real: Callable[..., list[int]] = writer.insert_events
        self.events = 0
        writer.insert_events = self

    def __call__(self, stored_events: list[StoredEvent], **kwargs: Any) -> list[int]:
        self.events += len(stored_events)
        return self.real(stored_events, **kwargs)


@pytest.fixture
def store(runtime: Runtime) -> Runtime:
    register_schools(runtime)
    return runtime


class TestTheRowsAreTheLibrarys:
    """PostgreSQL only: COPY is what the library's insert would have stored."""

    @pytest.fixture
    def database(self, settings: Settings) -> str:
        if not settings.uses_postgres:
            pytest.skip("binary COPY is the PostgreSQL store's")
        return settings.database_url or ""

    def test_an_import_writes_by_copy_and_the_same_rows_by_the_library_are_identical(
            self, store: Runtime, database: str) -> None:
        rt = store
        assert isinstance(rt.custody.events, SignedEventStore)
        counted = CountingWriter(rt.custody.events)
        before = events(rt)
        text = inventory_csv(synthetic_students(STUDENTS), documents=3, general=[])
        report = import_inventory(rt.custody, ARCHIVIST, text, batch_size=25)
        assert report.captured_students == STUDENTS
        assert counted.events == STUDENTS  # every capture went through COPY
        rt.custody.save(*general_records(rt, 1, "after"))  # one more by the library
        stored = rows(postgres_recorder(rt.custody))
        assert len(stored) == before + STUDENTS + 1

        # The library's insert, given the same events in the same saves, in a fresh table.
        bare = bare_application(database)
        try:
            library = postgres_recorder(bare)
            end = before + STUDENTS
            saves = [stored[:before]] + [stored[i:min(i + 25, end)] for i in
                                         range(before, end, 25)] + [stored[end:]]
            for save in saves:
                ids = library.insert_events([StoredEvent(*row[:4]) for row in save])
                assert ids == [row[4] for row in save]
            assert rows(library) == stored
        finally:
            bare.close()

    def test_copy_and_the_library_store_byte_identical_rows_with_the_same_ids(
            self, database: str) -> None:
        events_in_saves = [[StoredEvent(UUID(int=secrets.randbits(128)), version,
                                        f"bench:T{version}", secrets.token_bytes(size))
                            for version, size in ((1, 0), (2, 1), (3, 700))]
                           for _ in range(4)]
        apps = [bare_application(database), bare_application(database)]
        try:
            library, copied = (postgres_recorder(app) for app in apps)
            writer = CopyWriter(copied)
            for save in events_in_saves:
                assert library.insert_events(save) == writer.insert_events(save)
            assert rows(library) == rows(copied)
            assert [r[4] for r in rows(copied)] == list(range(1, 13))
        finally:
            for app in apps:
                app.close()

    def test_a_copy_notifies_the_channel_a_follower_listens_on(self, database: str) -> None:
        app = bare_application(database)
        try:
            recorder = postgres_recorder(app)
            subscription = recorder.subscribe(gt=0)
            try:
                CopyWriter(recorder).insert_events(
                    [StoredEvent(UUID(int=7), 1, "bench:T", b"x"),
                     StoredEvent(UUID(int=7), 2, "bench:T", b"y")])
                received = [next(subscription).id, next(subscription).id]
            finally:
                subscription.stop()
            assert received == [1, 2]
        finally:
            app.close()


class TestConflicts:
    def test_a_batch_with_a_record_already_stored_raises_and_stores_nothing(
            self, store: Runtime) -> None:
        rt = store
        taken = general_records(rt, 1, "taken")[0]
        rt.custody.save(taken)
        before = events(rt)
        batch = general_records(rt, 3, "new")
        again = general_records(rt, 1, "taken")[0]  # same record id, version 1 again
        assert again.id == taken.id
        with pytest.raises(IntegrityError):
            rt.custody.save(batch[0], again, batch[1], batch[2], bulk=True)
        assert events(rt) == before
        assert not any(rt.custody.exists(r.id) for r in batch)

    def test_the_same_record_twice_in_one_batch_raises_and_stores_nothing(
            self, store: Runtime) -> None:
        rt = store
        before = events(rt)
        first, second = general_records(rt, 1, "twice") + general_records(rt, 1, "twice")
        with pytest.raises(IntegrityError):
            rt.custody.save(first, second, bulk=True)
        assert events(rt) == before

    def test_after_a_conflict_the_next_bulk_save_continues_the_order(
            self, store: Runtime) -> None:
        rt = store
        taken = general_records(rt, 1, "taken")[0]
        rt.custody.save(taken)
        with pytest.raises(IntegrityError):
            rt.custody.save(general_records(rt, 1, "taken")[0], *general_records(rt, 2, "x"),
                            bulk=True)
        last = events(rt)
        recordings = rt.custody.save(*general_records(rt, 3, "y"), bulk=True)
        ids = [r.notification.id for r in recordings]
        assert ids == sorted(ids) and ids[0] > last and ids[-1] == events(rt)


class TestTheViewsAndTheLogFollow:
    def test_a_bulk_import_is_projected_sealed_and_verifies(self, store: Runtime) -> None:
        rt = store
        text = inventory_csv(synthetic_students(STUDENTS), documents=2, general=[])
        import_inventory(rt.custody, ARCHIVIST, text, batch_size=20)
        rt.custody.save(*general_records(rt, 2, "between"))  # the library's insert between
        import_inventory(rt.custody, ARCHIVIST,
                         inventory_csv(synthetic_students(STUDENTS + 20), documents=2,
                                       general=[]), batch_size=20)
        assert students_in_views(rt) == STUDENTS + 20
        rt.seal()
        assert rt.log.size() == events(rt)
        report = verify_live(rt, workers=1)
        assert report.faults == []
        assert report.events == events(rt)

    def test_the_returned_notification_ids_are_the_stored_ones_in_order(
            self, store: Runtime) -> None:
        rt = store
        recordings = rt.custody.save(*general_records(rt, 5, "ids"), bulk=True)
        stored = rt.custody.recorder.select_notifications(
            recordings[0].notification.id, 5)
        assert [(n.id, n.originator_id, n.originator_version, n.state) for n in stored] == [
            (r.notification.id, r.notification.originator_id,
             r.notification.originator_version, r.notification.state) for r in recordings]
        assert [r.notification.id for r in recordings] == list(
            range(recordings[0].notification.id, recordings[0].notification.id + 5))

