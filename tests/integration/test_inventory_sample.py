"""The sample inventory in ``docs/samples/`` is what ``docs/csv-format.md`` promises: it
imports whole on SQLite and PostgreSQL, and a second run captures nothing."""

from __future__ import annotations

from pathlib import Path

from api.demo import SCHOOLS
from application.importing import ImportReport, command_line_archivist, import_inventory
from application.policy import Principal
from infrastructure.bootstrap import Runtime

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "inventory-sample.csv"


def register_schools(rt: Runtime) -> None:
    for code, name in SCHOOLS.items():
        rt.custody.register_school(Principal.system(), code, name)


class TestTheDocumentedSampleInventory:
    def test_the_sample_imports_with_no_row_rejected(self, runtime: Runtime) -> None:
        register_schools(runtime)
        report = import_inventory(runtime.custody, command_line_archivist(), SAMPLE)
        assert report == ImportReport(captured_students=3, captured_general=3,
                                      already_captured=0, rejected=[], rows=9)

    def test_importing_the_sample_again_captures_nothing(self, runtime: Runtime) -> None:
        register_schools(runtime)
        import_inventory(runtime.custody, command_line_archivist(), SAMPLE)
        again = import_inventory(runtime.custody, command_line_archivist(), SAMPLE)
        assert (again.captured_students, again.captured_general, again.already_captured) == (
            0, 0, 6)
