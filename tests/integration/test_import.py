"""``custody import`` on SQLite and PostgreSQL: a generated inventory is captured once,
re-runs and longer files capture only what is new, bad rows are named, an import killed
between batches resumes to exactly what an uninterrupted one stores, and the seed story
(``custody demo``) runs clean."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from api.demo import (
    SCHOOLS,
    SyntheticGeneral,
    inventory_csv,
    run_demo,
    synthetic_students,
)
from application.importing import (
    ImportReport,
    command_line_archivist,
    general_record_id,
    import_inventory,
)
from application.policy import Principal
from domain.actor import Role
from domain.errors import NotAuthorisedError
from infrastructure.audit import verify_live
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.culling_protocol import issue_and_check
from infrastructure.settings import Settings
from tests.factories import pnr, student

STUDENTS = 200
DOCUMENTS = 5
GENERAL = [
    SyntheticGeneral("holmes", "newsletter", "Veckobrev v. 47"),
    SyntheticGeneral("kvistberg", "blog_post", "Klassbloggen: höstutflykt"),
    SyntheticGeneral("fryken", "statistics", "Frånvarostatistik 2016/17"),
]
ARCHIVIST = command_line_archivist()


class InjectedCrashError(RuntimeError):
    """Stands in for ``kill -9`` between two batches."""


def register_schools(rt: Runtime) -> None:
    for code, name in SCHOOLS.items():
        rt.custody.register_school(Principal.system(), code, name)


def inventory(count: int = STUDENTS) -> str:
    return inventory_csv(synthetic_students(count), documents=DOCUMENTS, general=GENERAL)


def events(rt: Runtime) -> int:
    return rt.custody.recorder.max_notification_id() or 0


def students_in_views(rt: Runtime) -> int:
    rt.queries.fresh()
    return len(rt.queries.students())


def captured_records(rt: Runtime) -> dict[str, Any]:
    """Every record in the views, as content that must not depend on when it was saved."""
    rt.queries.fresh()
    return {
        doc["id"]: (doc["kind"], doc["school_id"], doc["fingerprint"], doc["document_count"],
                    doc["personal"], doc["version"])
        for doc in rt.views.all("records")
    }


@pytest.fixture
def schools_registered(runtime: Runtime) -> Runtime:
    register_schools(runtime)
    return runtime


@pytest.fixture
def twin_runtime(settings: Settings, tmp_path: Path) -> Iterator[Runtime]:
    """A second, empty store with the same master key (so the same record ids)."""
    if settings.uses_postgres:
        url = settings.database_url or ""
        schema = f"t_{secrets.token_hex(4)}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        twin = Settings(data_dir=tmp_path / "twin", database_url=url, database_schema=schema,
                        master_key=settings.master_key_path)
    else:
        twin = Settings(data_dir=tmp_path / "twin", master_key=settings.master_key_path)
    rt = bootstrap(twin)
    register_schools(rt)
    yield rt
    rt.close()


class TestImportingTheInventory:
    def test_a_generated_inventory_becomes_one_record_per_student(
        self, schools_registered: Runtime
    ) -> None:
        rt = schools_registered
        before = events(rt)
        report = import_inventory(rt.custody, ARCHIVIST, inventory(), batch_size=64)
        assert report == ImportReport(captured_students=STUDENTS, captured_general=3,
                                      already_captured=0, rejected=[],
                                      rows=STUDENTS * DOCUMENTS + 3)
        assert events(rt) - before == STUDENTS + 3
        assert students_in_views(rt) == STUDENTS

    def test_a_captured_student_reads_back_with_every_document(
        self, schools_registered: Runtime
    ) -> None:
        rt = schools_registered
        one = synthetic_students(1)[0]
        import_inventory(rt.custody, ARCHIVIST, inventory(3))
        record = rt.custody.record(rt.custody.student_record_id(one.personnummer))
        assert record.personal is not None
        assert record.personal["personnummer"] == one.personnummer
        assert record.personal["name"] == one.name
        assert record.personal["class"] == one.class_name
        assert len(record.personal["documents"]) == DOCUMENTS
        assert record.school_id == one.school_id
        assert record.version == 1

    def test_general_information_gets_a_keyed_record_id(self, schools_registered: Runtime
                                                        ) -> None:
        rt = schools_registered
        import_inventory(rt.custody, ARCHIVIST, inventory(1))
        item = GENERAL[0]
        record = rt.custody.record(general_record_id(rt.custody, item.school_id, item.sha256,
                                                     item.title))
        assert record.category == "newsletter"
        assert record.personal == {"title": item.title}

    def test_running_the_same_file_again_captures_nothing_twice(
        self, schools_registered: Runtime
    ) -> None:
        rt = schools_registered
        text = inventory()
        import_inventory(rt.custody, ARCHIVIST, text)
        before = events(rt)
        again = import_inventory(rt.custody, ARCHIVIST, text)
        assert (again.captured, again.already_captured, again.rejected) == (0, STUDENTS + 3, [])
        assert events(rt) == before

    def test_an_extended_file_captures_only_the_new_students(
        self, schools_registered: Runtime
    ) -> None:
        rt = schools_registered
        import_inventory(rt.custody, ARCHIVIST, inventory(150))
        report = import_inventory(rt.custody, ARCHIVIST, inventory(STUDENTS))
        assert (report.captured_students, report.captured_general) == (STUDENTS - 150, 0)
        assert report.already_captured == 150 + 3
        assert students_in_views(rt) == STUDENTS

    def test_a_few_new_students_in_a_big_store_are_looked_up_one_by_one(
        self, schools_registered: Runtime
    ) -> None:
        """The existence check without a scan: few candidates against many events."""
        rt = schools_registered
        import_inventory(rt.custody, ARCHIVIST, inventory())
        extra = inventory_csv(synthetic_students(2, offset=STUDENTS - 1), documents=DOCUMENTS)
        report = import_inventory(rt.custody, ARCHIVIST, extra)
        assert (report.captured_students, report.already_captured) == (1, 1)

    def test_bad_rows_are_named_and_the_good_rows_captured(
        self, schools_registered: Runtime
    ) -> None:
        rt = schools_registered
        lines = inventory(10).splitlines()
        valid = pnr(2004, 3, 15, 123)
        wrong = valid[:-1] + str((int(valid[-1]) + 1) % 10)
        lines[4] = lines[4].replace(",holmes,", ",hogwarts,")  # the first student's first row
        lines.append(f"student_documentation,{wrong},Ville Vilse,holmes,7A,IUP,iup,{'b' * 64},2")
        lines.append(f"general_information,,,fryken,,Skolfoto,portrait,{'c' * 64},")
        report = import_inventory(rt.custody, ARCHIVIST, "\n".join(lines) + "\n")
        assert report.captured_students == 9
        assert report.captured_general == 3
        rejected = {e.line: e.reason for e in report.rejected}
        first_student = range(5, 5 + DOCUMENTS)  # header, 3 general rows, then student 0
        assert rejected[5] == "school unit 'hogwarts' is not registered"
        assert all(rejected[n].startswith("not captured") for n in first_student[1:])
        assert rejected[len(lines) - 1].startswith("personnummer: check digit should be")
        assert rejected[len(lines)].startswith("category 'portrait' is not general information")
        assert not report.ok

    def test_progress_counts_rows_up_to_the_total(self, schools_registered: Runtime) -> None:
        calls: list[tuple[int, int]] = []
        import_inventory(schools_registered.custody, ARCHIVIST, inventory(50),
                         progress=lambda done, total: calls.append((done, total)),
                         batch_size=20)
        rows = 50 * DOCUMENTS + 3
        assert calls[0] == (0, rows) and calls[-1] == (rows, rows)
        assert [done for done, _ in calls] == sorted({done for done, _ in calls})
        assert len(calls) == 1 + 3  # the start, then one call per saved batch

    def test_only_the_archivist_imports_the_inventory(self, schools_registered: Runtime
                                                      ) -> None:
        custodian = Principal("someone", "Cecilia", Role.CUSTODIAN, "holmes")
        with pytest.raises(NotAuthorisedError):
            import_inventory(schools_registered.custody, custodian, inventory(1))

    def test_a_student_captured_meanwhile_is_counted_as_already_captured(
        self, schools_registered: Runtime
    ) -> None:
        """The batch meets an existing record, and is saved again record by record."""
        rt = schools_registered
        first = synthetic_students(1)[0]

        def someone_else_captures(done: int, total: int) -> None:
            if done == 0:  # after the existence check, before the first batch is saved
                rt.custody.capture_student(ARCHIVIST, student(first.personnummer,
                                                              first.name, first.school_id))

        report = import_inventory(rt.custody, ARCHIVIST, inventory(30),
                                  progress=someone_else_captures, batch_size=10)
        assert (report.captured_students, report.already_captured) == (29, 1)
        assert students_in_views(rt) == 30


class TestResumingAfterACrash:
    def run_until_crash(self, rt: Runtime, text: str, batches: int) -> None:
        calls = 0

        def crash_after_batches(done: int, total: int) -> None:
            nonlocal calls
            calls += 1
            if calls > batches:  # the first call announces the total
                raise InjectedCrashError

        with pytest.raises(InjectedCrashError):
            import_inventory(rt.custody, ARCHIVIST, text, progress=crash_after_batches,
                             batch_size=25)

    def test_a_rerun_after_a_crash_between_batches_stores_what_one_run_stores(
        self, schools_registered: Runtime, twin_runtime: Runtime
    ) -> None:
        rt, text = schools_registered, inventory()
        self.run_until_crash(rt, text, batches=3)
        assert students_in_views(rt) == 3 * 25 - 3  # the general items came first
        resumed = import_inventory(rt.custody, ARCHIVIST, text, batch_size=25)
        assert resumed.already_captured == 3 * 25
        assert resumed.captured == STUDENTS + 3 - 3 * 25
        import_inventory(twin_runtime.custody, ARCHIVIST, text, batch_size=25)
        assert captured_records(rt) == captured_records(twin_runtime)
        assert events(rt) == events(twin_runtime)

    def test_a_crash_inside_a_save_leaves_no_student_half_captured(
        self, schools_registered: Runtime, twin_runtime: Runtime, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Keys made, events not stored: the re-run captures that batch whole."""
        rt, text = schools_registered, inventory()
        real_save: Callable[..., Any] = rt.custody.save
        saves = 0

        def dying_save(*aggregates: Any, **kwargs: Any) -> Any:
            nonlocal saves
            saves += 1
            if saves == 4:
                raise InjectedCrashError
            return real_save(*aggregates, **kwargs)

        monkeypatch.setattr(rt.custody, "save", dying_save)
        with pytest.raises(InjectedCrashError):
            import_inventory(rt.custody, ARCHIVIST, text, batch_size=25)
        monkeypatch.setattr(rt.custody, "save", real_save)
        assert len(captured_records(rt)) == 3 * 25
        resumed = import_inventory(rt.custody, ARCHIVIST, text, batch_size=25)
        assert resumed.captured + resumed.already_captured == STUDENTS + 3
        import_inventory(twin_runtime.custody, ARCHIVIST, text, batch_size=25)
        assert captured_records(rt) == captured_records(twin_runtime)
        assert all(version == 1 for *_, version in captured_records(rt).values())

    def test_the_resumed_store_verifies_intact(self, schools_registered: Runtime) -> None:
        rt, text = schools_registered, inventory(60)
        self.run_until_crash(rt, text, batches=1)
        import_inventory(rt.custody, ARCHIVIST, text, batch_size=25)
        report = verify_live(rt, workers=1)
        assert report.faults == []
        assert report.events == events(rt)


class TestTheSeedStory:
    def test_the_demo_runs_clean_and_reports_the_right_counts(self, runtime: Runtime) -> None:
        lines: list[str] = []
        code = run_demo(runtime, lines.append,
                        lambda: [f.line() for f in verify_live(runtime, workers=1).faults],
                        protocol=lambda list_id: issue_and_check(runtime, list_id))
        text = "\n".join(lines)
        assert code == 0, text
        # The new story: the closing proposes, a second archivist approves, the holders
        # destroy, the protocol verifies offline, the archive countersigns the delivery.
        assert "inget gallras av avslutningen" in text
        assert "attesterad av Berit Arkivchef" in text
        assert "kontrollerat offline: ja" in text
        assert "kontrasignerad av Asta Arkivet" in text
        assert "60 arkivexemplar i personnummerordning" in text
        assert "2 beställningar" in text
        assert "15 gallringar" in text
        assert "intakt: " in text

    def test_the_demo_leaves_the_views_as_the_story_tells(self, runtime: Runtime) -> None:
        run_demo(runtime, lambda _: None, lambda: [])
        archivist = command_line_archivist()
        shelf = runtime.queries.shelf_list(archivist)
        assert len(shelf) == 60 and all(row["verified"] for row in shelf)
        log = runtime.queries.request_log(archivist)
        assert sorted(r["status"] for r in log) == ["refused", "returned"]
        culls = runtime.queries.culls(archivist)
        assert sum(c["point"] == 1 for c in culls) == 5
        assert sum(c["point"] == 4 for c in culls) == 10
        assert runtime.queries.readiness(Principal.system())["terminated"] is True
        coordination = [r for r in shelf if int(r["personnummer"][6:8]) > 60]
        assert len(coordination) == 1
        holdings = [runtime.queries.holdings(archivist, code) for code in SCHOOLS]
        # Ten culled, one handed over to another organiser.
        assert sum(len(h["copies"]) for h in holdings) == 60 - 10 - 1



class TestAtFullSize:
    @pytest.mark.slow
    def test_a_100000_row_inventory_of_10000_students(self, schools_registered: Runtime
                                                      ) -> None:
        """The municipality's real size: every student captured once, every view right."""
        text = inventory_csv(synthetic_students(10_000), documents=10, general=GENERAL)
        report = import_inventory(schools_registered.custody, ARCHIVIST, text)
        assert report.rows == 100_003
        assert (report.captured_students, report.captured_general) == (10_000, 3)
        assert report.rejected == []
        assert students_in_views(schools_registered) == 10_000
        progress = {p["school_id"]: p["captured"]
                    for p in schools_registered.queries.progress(Principal.system())}
        assert sum(progress.values()) == 10_000
        again = import_inventory(schools_registered.custody, ARCHIVIST, text)
        assert (again.captured, again.already_captured) == (0, 10_003)
