"""Races on PostgreSQL: sixteen threads issue the same command on the same record at once.

PostgreSQL is where requests really run in parallel (SQLite serialises every writer), so
these tests use a PostgreSQL store only. For each race exactly one command wins; every other
one is refused as a concurrent change or an illegal transition (HTTP 409) and stores
nothing; afterwards the record's events form one unbroken chain (versions 1..n, gap-free
notification ids, ``verify_live`` without faults) holding exactly the winner's events.

Each race runs through the application layer (``runtime.custody``) and through the HTTP
app (a ``TestClient`` shared by the threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.culling import Culling, Destruction, ItemIn
from application.migration import Migration
from application.policy import Principal
from domain.errors import (
    AgreementTerminatedError,
    ConcurrentChangeError,
    IllegalTransitionError,
    NotAuthorisedError,
)
from infrastructure.audit import verify_live
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.conftest import new_schema
from tests.factories import Staff, pnr, seed_staff, student

RACERS = 16
REFUSALS: tuple[type[Exception], ...] = (ConcurrentChangeError, IllegalTransitionError)
PROBLEMS = {ConcurrentChangeError: (409, "/concurrent-change"),
            IllegalTransitionError: (409, "/illegal-transition"),
            NotAuthorisedError: (403, "/not-authorised")}


@pytest.fixture
def pg_runtime(pg_url: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = bootstrap(Settings(data_dir=tmp_path / "data", database_url=pg_url,
                            database_schema=new_schema(pg_url)))
    yield rt
    rt.close()


@dataclass
class Scene:
    """A PostgreSQL store with the seed's staff and one student whose school copy is at
    holmes; ``door`` runs a command through the application layer or over HTTP."""

    runtime: Runtime
    staff: Staff
    client: TestClient | None
    record_id: UUID
    personnummer: str
    copy_id: UUID

    @property
    def holmes(self) -> Principal:
        return self.staff.custodians["holmes"]

    def events(self) -> int:
        return self.runtime.custody.recorder.max_notification_id() or 0


@pytest.fixture(params=["application", "http"])
def scene(request: pytest.FixtureRequest, pg_runtime: Runtime) -> Iterator[Scene]:
    custody = pg_runtime.custody
    staff = seed_staff(custody)
    personnummer = pnr(2002, 5, 17, 246)
    record_id = custody.capture_student(staff.archivist, student(personnummer, "Sam Lopp"))
    copy_id = custody.print_copy(staff.archivist, record_id, "school", "holmes")
    custody.deliver_copy(staff.custodians["holmes"], record_id, copy_id, "holmes")
    if request.param == "application":
        yield Scene(pg_runtime, staff, None, record_id, personnummer, copy_id)
        return
    with TestClient(create_app(runtime=pg_runtime), raise_server_exceptions=False) as client:
        yield Scene(pg_runtime, staff, client, record_id, personnummer, copy_id)


@dataclass(frozen=True)
class Race:
    wins: list[Any]
    losses: list[Any]


def race(scene: Scene, command: Callable[[], Any], http: tuple[str, str, str, Any],
         refusals: tuple[type[Exception], ...] = REFUSALS) -> Race:
    """Run the command in RACERS threads released together. Over HTTP ``http`` is
    (token key, method, path, json); a win is a 2xx response, a loss any other response
    (checked by ``assert_losers_were_refused``). Through the application a loss is one of
    ``refusals``; anything else is raised."""
    barrier = threading.Barrier(RACERS)

    def through_application() -> tuple[bool, Any]:
        barrier.wait()
        try:
            return True, command()
        except refusals as error:
            return False, error

    def through_http() -> tuple[bool, Any]:
        assert scene.client is not None
        who, method, path, body = http
        headers = {"Authorization": f"Bearer {scene.staff.tokens[who]}"}
        barrier.wait()
        response = scene.client.request(method, path, json=body, headers=headers)
        return response.is_success, response

    run = through_http if scene.client is not None else through_application
    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = [f.result() for f in [pool.submit(run) for _ in range(RACERS)]]
    return Race([o for won, o in outcomes if won], [o for won, o in outcomes if not won])


def assert_losers_were_refused(scene: Scene, result: Race,
                               refusals: tuple[type[Exception], ...] = REFUSALS) -> None:
    assert len(result.wins) == 1, result
    assert len(result.losses) == RACERS - 1
    if scene.client is None:
        return
    allowed = {PROBLEMS[kind] for kind in refusals}
    for response in result.losses:
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = (response.status_code, "/" + response.json()["type"].rsplit("/", 1)[-1])
        assert problem in allowed, response.text


def assert_one_unbroken_chain(scene: Scene, before: int, added: int,
                              *aggregates: UUID) -> None:
    """Exactly ``added`` events since ``before``, gap-free, each aggregate's versions 1..n,
    and every signature, chain and the transparency log intact."""
    recorder = scene.runtime.custody.recorder
    after = scene.events()
    new = recorder.select_notifications(before + 1, limit=1000)
    # Reads answered with the record are logged (the access log): not custody events. An
    # access-log entry stored after the refused saves shows the positions those saves took
    # from PostgreSQL's sequence; no event is missing (the chains and the log say so below).
    custody = [n for n in new if not n.topic.startswith("custody:AccessLog")]
    assert len(custody) == added
    assert [n.id for n in new] == sorted(n.id for n in new) and new[-1].id == after
    for aggregate_id in aggregates:
        versions = [e.originator_version for e in recorder.select_events(aggregate_id)]
        assert versions == list(range(1, len(versions) + 1))
    scene.runtime.seal()
    report = verify_live(scene.runtime, workers=1)
    assert report.faults == []


def copies_path(scene: Scene) -> str:
    return f"/api/v1/records/{scene.record_id}/copies/{scene.copy_id}"


class TestSixteenCustodiansTransferTheSameSchoolCopy:
    # A loser that loads the record after the winner's commit finds the copy on its way to
    # kvistberg: no longer in the custody of holmes's custodian, so the refusal is 403
    # (policy is checked before state); one that loaded before it is refused at the save.
    TRANSFER_REFUSALS = (*REFUSALS, NotAuthorisedError)

    def test_exactly_one_transfer_wins_and_the_chain_is_unbroken(self, scene: Scene) -> None:
        before = scene.events()
        result = race(
            scene,
            lambda: scene.runtime.custody.transfer_copy(scene.holmes, scene.record_id,
                                                        scene.copy_id, "kvistberg"),
            ("custodian_holmes", "POST", f"{copies_path(scene)}/transfer",
             {"to_school_id": "kvistberg"}),
            self.TRANSFER_REFUSALS,
        )
        assert_losers_were_refused(scene, result, self.TRANSFER_REFUSALS)
        assert_one_unbroken_chain(scene, before, 1, scene.record_id)
        record = scene.runtime.custody.record(scene.record_id)
        assert record.copies[scene.copy_id].school_id == "kvistberg"


class TestSixteenCustodiansCullTheSameSchoolCopy:
    def test_exactly_one_destruction_wins_with_one_certificate(self, scene: Scene) -> None:
        custody = scene.runtime.custody
        culling = Culling(custody, scene.runtime.queries)
        custody.record_departure(scene.holmes, scene.personnummer,
                                 reason="finished_compulsory_school", to_school_id=None,
                                 date="2018-06-15")
        listed = culling.propose(scene.staff.archivist, decision="BU 2017/503 § 88", point=4,
                                 items=[ItemIn(scene.record_id, scene.copy_id)], note=None)
        list_id = UUID(listed["id"])
        culling.decide(scene.staff.principals["holmes"], list_id, approved=True, reason="ok")
        body = {"method": "shredding", "date": "2018-08-20", "witness": "Greta"}
        before = scene.events()
        result = race(
            scene,
            lambda: culling.destroy(scene.holmes, list_id, scene.copy_id,
                                    Destruction("shredding", "2018-08-20", "Greta")),
            ("custodian_holmes", "POST",
             f"/api/v1/culling-lists/{list_id}/items/{scene.copy_id}/destruction", body),
        )
        assert_losers_were_refused(scene, result)
        # The cull and the list's confirmation, committed together.
        assert_one_unbroken_chain(scene, before, 2, scene.record_id, list_id)
        culls = [e for e in custody.recorder.select_events(scene.record_id)
                 if e.topic.endswith("CopyCulled")]
        assert len(culls) == 1


class TestTerminationRacesCaptures:
    def test_the_agreement_never_ends_with_a_student_lacking_a_verified_archive_copy(
        self, pg_runtime: Runtime
    ) -> None:
        """Four archivists terminate while twelve capture new students, all at once: a
        capture that got in first makes the termination wait and then refuse (not ready);
        one that comes after is refused (409). Never both."""
        custody = pg_runtime.custody
        staff = seed_staff(custody)
        arch = staff.archivist
        for number in range(3):
            record_id = custody.capture_student(arch, student(pnr(2003, 1, 1 + number, 100)))
            copy_id = custody.print_copy(arch, record_id, "archive", None)
            custody.archive_copy(arch, record_id, copy_id, box="A", shelf="1")
            custody.verify_copy(arch, record_id, copy_id, outcome="ok", note=None)
        migration = Migration(custody, pg_runtime.queries)
        barrier = threading.Barrier(RACERS)

        def racer(index: int) -> str:
            barrier.wait()
            try:
                if index % 4 == 0:
                    migration.terminate_agreement(arch)
                    return "terminated"
                custody.capture_student(arch, student(pnr(2004, 2, index, 200), f"Ny {index}"))
                return "captured"
            except AgreementTerminatedError:
                return "capture refused"
            except IllegalTransitionError:
                return "termination refused"

        with ThreadPoolExecutor(RACERS) as pool:
            outcomes = list(pool.map(racer, range(RACERS)))
        assert outcomes.count("terminated") <= 1
        readiness = pg_runtime.queries.readiness(arch)
        students = readiness["students"]
        if "terminated" in outcomes:
            assert readiness["terminated"] is True
            assert readiness["missing"] == []
            assert students == 3 + outcomes.count("captured") == readiness["verified"]
        else:
            assert readiness["terminated"] is False
            assert outcomes.count("captured") == 12
        assert outcomes.count("captured") + outcomes.count("capture refused") == 12


class TestSixteenCustodiansHandOutTheSameGrantedRequest:
    def test_exactly_one_hand_out_wins_and_the_copy_is_lent_once(self, scene: Scene) -> None:
        custody = scene.runtime.custody
        custody.assign(scene.staff.admin, scene.staff.teacher_id, scene.personnummer)
        request = custody.make_request(scene.staff.teacher, scene.record_id, "samtal")
        custody.decide_request(scene.holmes, request.id, granted=True, reason="assigned")
        before = scene.events()
        result = race(
            scene,
            lambda: custody.hand_out(scene.holmes, request.id),
            ("custodian_holmes", "POST", f"/api/v1/requests/{request.id}/handout", None),
        )
        assert_losers_were_refused(scene, result)
        # The winner's two events, request and record, committed together.
        assert_one_unbroken_chain(scene, before, 2, scene.record_id, request.id)
        lent = [e for e in custody.recorder.select_events(scene.record_id)
                if e.topic.endswith("CopyLent")]
        assert len(lent) == 1
        assert custody.request(request.id).status.value == "handed_out"
