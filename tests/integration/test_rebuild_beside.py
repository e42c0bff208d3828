"""A rebuild of the views is built beside them and switched in one transaction: a shelf
list read while it runs is always complete, and writes made meanwhile are not lost."""

from __future__ import annotations

import threading

from application.projections import VIEWS, view_digest
from infrastructure.bootstrap import Runtime
from tests.factories import pnr, seed_staff, student

FILED = 40


def file_students(rt: Runtime) -> None:
    staff = seed_staff(rt.custody)
    arch = staff.archivist
    for n in range(FILED):
        record_id = rt.custody.capture_student(
            arch, student(pnr(2001, 1 + n % 12, 1 + n % 28, 200 + n), f"Elev {n}"))
        copy_id = rt.custody.print_copy(arch, record_id, "archive", None)
        rt.custody.archive_copy(arch, record_id, copy_id, box=f"A{n:03d}", shelf="1")


def test_a_shelf_list_read_during_a_rebuild_is_always_complete(runtime: Runtime) -> None:
    file_students(runtime)
    principal = runtime.custody.authenticate(_archivist_token(runtime))
    assert len(runtime.queries.shelf_list(principal)) == FILED
    # The polls are reads of personal data, so each is logged (the "access" view grows);
    # every other view must come out of the rebuilds as it went in.
    custody_views = [view for view in VIEWS if view != "access"]
    before = {view: view_digest(runtime.views, view) for view in custody_views}
    runtime.runner.batch_size = 7  # many small steps: many chances to see a half-built view
    seen: list[int] = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            seen.append(len(runtime.queries.shelf_list(principal)))

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        for _ in range(3):
            runtime.runner.rebuild()
    finally:
        done.set()
        reader.join(30)
    assert len(seen) > 3
    assert set(seen) == {FILED}, f"incomplete shelf lists seen: {sorted(set(seen))}"
    assert {view: view_digest(runtime.views, view) for view in custody_views} == before
    assert runtime.views.all("heads")  # the rebuilt chain heads are in place


def test_writes_during_a_rebuild_are_in_the_views_after_it(runtime: Runtime) -> None:
    file_students(runtime)
    principal = runtime.custody.authenticate(_archivist_token(runtime))
    runtime.runner.batch_size = 7
    original = runtime.views.take_over

    def write_then_take_over(built):  # type: ignore[no-untyped-def]
        runtime.custody.capture_student(principal, student(pnr(2002, 2, 2, 222), "Sen Elev"))
        return original(built)

    runtime.views.take_over = write_then_take_over  # type: ignore[method-assign]
    runtime.runner.rebuild()
    runtime.queries.fresh()
    assert len(runtime.views.all("records")) == FILED + 1
    runtime.runner.catch_up()
    assert runtime.runner.error is None


def _archivist_token(rt: Runtime) -> str:
    from application.policy import Principal

    _, token = rt.custody.register_actor(Principal.system(), "Arkivarie", "archivist", None)
    return token
