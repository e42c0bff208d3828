"""The signed, chained event store on SQLite and PostgreSQL: capture, read back, every
kind of tampering found and named, no personal data in plaintext anywhere."""

from __future__ import annotations

import base64
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from application.culling import Culling, ItemIn, ItemsNotCullableError
from application.policy import Principal
from domain.errors import (
    AlreadyExistsError,
    ArchiveCopyCannotBeCulledError,
    CullNotLawfulError,
    IllegalTransitionError,
    InvalidInputError,
)
from infrastructure.audit import verify_live
from infrastructure.bootstrap import Runtime
from infrastructure.signed_events import Envelope, TamperedEventError, signing_input
from infrastructure.verification import Fault
from tests.factories import Staff, cull_through_list, pnr, seed_staff, student
from tests.integration.tamper import Tamperer

ANNA = pnr(2004, 3, 15, 123)
BO = pnr(2005, 7, 1, 456)


def event_count(rt: Runtime) -> int:
    return rt.custody.recorder.max_notification_id() or 0


def archived_student(rt: Runtime, staff: Staff, personnummer: str, name: str) -> UUID:
    c = rt.custody
    record_id = c.capture_student(staff.archivist, student(personnummer, name))
    copy_id = c.print_copy(staff.archivist, record_id, "archive", None)
    c.archive_copy(staff.archivist, record_id, copy_id, box="A-001", shelf="1")
    return record_id


def faults_for(rt: Runtime) -> list[Fault]:
    return verify_live(rt, workers=1).faults


class TestCaptureAndReadBack:
    def test_captured_student_reads_back_with_personal_data(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        record_id = archived_student(runtime, staff, ANNA, "Anna Holm")
        record = runtime.custody.record(record_id)
        assert record.personal is not None
        assert record.personal["personnummer"] == ANNA
        assert record.personal["name"] == "Anna Holm"
        assert record.archive_copy is not None and record.archive_copy.box == "A-001"
        assert record.version == 3

    def test_second_capture_of_the_same_student_is_refused_with_the_existing_id(
        self, runtime: Runtime
    ) -> None:
        staff = seed_staff(runtime.custody)
        first = runtime.custody.capture_student(staff.archivist, student(ANNA))
        before = event_count(runtime)
        with pytest.raises(AlreadyExistsError) as caught:
            runtime.custody.capture_student(staff.archivist, student(ANNA, "Other Name"))
        assert caught.value.existing_id == str(first)
        assert event_count(runtime) == before

    def test_ten_digit_form_finds_the_same_student(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        record_id = runtime.custody.capture_student(staff.archivist, student(ANNA))
        short = ANNA[2:]  # YYMMDD-NNNC
        assert runtime.custody.student_record_id(short) == record_id

    def test_wrong_check_digit_is_refused_and_nothing_is_stored(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        wrong = ANNA[:-1] + str((int(ANNA[-1]) + 1) % 10)
        before = event_count(runtime)
        with pytest.raises(InvalidInputError, match=f"check digit should be {ANNA[-1]}"):
            runtime.custody.capture_student(staff.archivist, student(wrong))
        assert event_count(runtime) == before

    def test_verify_of_an_unchanged_store_is_clean(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        archived_student(runtime, staff, ANNA, "Anna Holm")
        report = verify_live(runtime, workers=1)
        assert report.faults == []
        assert report.events == event_count(runtime)


class TestIllegalTransitionsStoreNothing:
    def test_culling_the_archive_copy_is_refused(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        record_id = archived_student(runtime, staff, ANNA, "Anna Holm")
        copy = runtime.custody.record(record_id).archive_copy
        assert copy is not None
        runtime.custody.ensure_seed_decision()  # as on the service's first start
        before = event_count(runtime)
        with pytest.raises(ItemsNotCullableError) as refused:
            Culling(runtime.custody, runtime.queries).propose(
                staff.archivist, decision="BU 2017/503 § 88", point=4,
                items=[ItemIn(record_id, copy.id)], note=None)
        assert "never culled" in refused.value.items[0]["problem"]
        with pytest.raises(ArchiveCopyCannotBeCulledError):
            runtime.custody.record(record_id).cullable_copy(
                copy.id, runtime.custody.legal_basis("BU 2017/503 § 88", 4),
                today=runtime.custody.today())
        assert event_count(runtime) == before

    def test_school_copy_cannot_be_culled_before_student_finished(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        c = runtime.custody
        record_id = c.capture_student(staff.archivist, student(ANNA))
        copy_id = c.print_copy(staff.archivist, record_id, "school", "holmes")
        c.deliver_copy(staff.custodians["holmes"], record_id, copy_id, "holmes")
        c.ensure_seed_decision()  # as on the service's first start
        before = event_count(runtime)
        with pytest.raises(ItemsNotCullableError) as refused:
            Culling(c, runtime.queries).propose(
                staff.archivist, decision="BU 2017/503 § 88", point=4,
                items=[ItemIn(record_id, copy_id)], note=None)
        assert "finished compulsory school" in refused.value.items[0]["problem"]
        with pytest.raises(CullNotLawfulError, match="finished compulsory school"):
            c.record(record_id).cullable_copy(copy_id, c.legal_basis("BU 2017/503 § 88", 4),
                                              today=c.today())
        assert event_count(runtime) == before

    def test_handing_out_a_culled_copy_is_refused(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        c = runtime.custody
        record_id = c.capture_student(staff.archivist, student(ANNA))
        copy_id = c.print_copy(staff.archivist, record_id, "school", "holmes")
        c.deliver_copy(staff.custodians["holmes"], record_id, copy_id, "holmes")
        c.record_departure(staff.custodians["holmes"], ANNA,
                           reason="finished_compulsory_school", to_school_id=None,
                           date="2018-06-15")
        cull_through_list(runtime, staff, record_id, copy_id, "holmes")
        record = c.record(record_id)
        before = event_count(runtime)
        with pytest.raises(IllegalTransitionError, match="culled"):
            record.lend(copy_id, request_id=copy_id, to_actor="x", actor="y")
        assert event_count(runtime) == before


class TestPersonalDataNeverInPlaintext:
    def test_personnummer_and_name_are_nowhere_in_the_store(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        c = runtime.custody
        record_id = archived_student(runtime, staff, ANNA, "Zebulon Quarnström")
        c.print_copy(staff.archivist, record_id, "school", "holmes")
        c.assign(staff.admin, staff.teacher_id, ANNA)
        dump = Tamperer(runtime).dump_everything()
        digits = ANNA.replace("-", "")
        for needle in (ANNA, digits, ANNA[2:], digits[2:], "Zebulon", "Quarnström",
                       "Quarnstr"):
            assert needle.encode() not in dump, needle
        # ...while the service itself still reads them.
        record = c.record(record_id)
        assert record.personal is not None and record.personal["name"] == "Zebulon Quarnström"


class TestTamperingIsFoundAndNamed:
    @pytest.fixture
    def story(self, runtime: Runtime) -> tuple[Runtime, UUID, UUID, Tamperer]:
        staff = seed_staff(runtime.custody)
        anna = archived_student(runtime, staff, ANNA, "Anna Holm")
        bo = archived_student(runtime, staff, BO, "Bo Ek")
        assert faults_for(runtime) == []
        return runtime, anna, bo, Tamperer(runtime)

    def assert_named(self, faults: list[Fault], record: UUID, version: int, seq: int | None,
                     words: str) -> None:
        named = [f for f in faults if f.record_id == record.hex and f.version == version]
        assert named, faults
        assert any(words in f.problem for f in named), named
        if seq is not None:
            assert any(f.seq == seq for f in named)

    def test_flipped_byte_in_state(self, story: tuple[Runtime, UUID, UUID, Tamperer]) -> None:
        rt, anna, _, t = story
        seq = t.seq(anna, 2)
        t.flip_byte(anna, 2)
        self.assert_named(faults_for(rt), anna, 2, seq, "signature does not verify")
        with pytest.raises(TamperedEventError, match="version=2"):
            rt.custody.record(anna)

    def test_changed_topic(self, story: tuple[Runtime, UUID, UUID, Tamperer]) -> None:
        rt, anna, _, t = story
        _, state = t.row(anna, 3)
        t.set_row(anna, 3, "custody:Record.CopyVerified", state)
        self.assert_named(faults_for(rt), anna, 3, t.seq(anna, 3), "signature does not verify")

    def test_deleted_event_in_the_middle(self, story: tuple[Runtime, UUID, UUID, Tamperer]) -> None:
        rt, anna, _, t = story
        t.delete(anna, 2)
        self.assert_named(faults_for(rt), anna, 3, t.seq(anna, 3), "version 2 is missing")
        with pytest.raises(TamperedEventError):
            rt.custody.record(anna)

    def test_two_events_swapped(self, story: tuple[Runtime, UUID, UUID, Tamperer]) -> None:
        rt, anna, _, t = story
        topic2, state2 = t.row(anna, 2)
        topic3, state3 = t.row(anna, 3)
        t.set_row(anna, 2, topic3, state3)
        t.set_row(anna, 3, topic2, state2)
        faults = faults_for(rt)
        self.assert_named(faults, anna, 2, t.seq(anna, 2), "signature does not verify")
        self.assert_named(faults, anna, 3, t.seq(anna, 3), "signature does not verify")

    def test_event_signed_with_a_key_the_service_never_had(
        self, story: tuple[Runtime, UUID, UUID, Tamperer]
    ) -> None:
        rt, anna, _, t = story
        _, state3 = t.row(anna, 3)
        real = Envelope.parse(state3)
        forger = Ed25519PrivateKey.generate()
        payload = real.payload
        prev = real.prev  # even a correct chain link does not help
        message = signing_input(anna.hex, 4, "custody:Record.HoldPlaced", "deadbeef", prev,
                                payload)
        forged = Envelope("deadbeef", prev, forger.sign(message), payload).encode()
        t.insert(anna, 4, "custody:Record.HoldPlaced", forged)
        self.assert_named(faults_for(rt), anna, 4, t.seq(anna, 4), "unknown key deadbeef")

    def test_event_replaced_by_a_validly_signed_event_of_another_record(
        self, story: tuple[Runtime, UUID, UUID, Tamperer]
    ) -> None:
        rt, anna, bo, t = story
        topic, state = t.row(bo, 2)
        t.set_row(anna, 2, topic, state)
        assert base64  # the envelope is intact and validly signed - for Bo, not Anna
        self.assert_named(faults_for(rt), anna, 2, t.seq(anna, 2), "signature does not verify")


class TestKeyRotation:
    def test_events_signed_under_an_old_key_still_verify(self, runtime: Runtime) -> None:
        staff = seed_staff(runtime.custody)
        old = runtime.keyring.active_key_id
        record_id = archived_student(runtime, staff, ANNA, "Anna Holm")
        new = runtime.keyring.rotate()
        assert new != old
        copy = runtime.custody.record(record_id).archive_copy
        assert copy is not None
        runtime.custody.verify_copy(staff.archivist, record_id, copy.id, outcome="ok", note=None)
        t = Tamperer(runtime)
        assert Envelope.parse(t.row(record_id, 1)[1]).kid == old
        assert Envelope.parse(t.row(record_id, 4)[1]).kid == new
        assert faults_for(runtime) == []
        assert runtime.custody.record(record_id).version == 4


def test_system_principal_is_admin_only() -> None:
    assert Principal.system().role.value == "admin"


class TestSavesOfSeveralEventsAreSignedOnce:
    """A save of several events carries one signature over the root of their hashes; each
    event keeps its own path to that root, so each is still checked on its own."""

    def _batch(self, runtime: Runtime) -> tuple[list[UUID], Tamperer]:
        staff = seed_staff(runtime.custody)
        c = runtime.custody
        records = [c.prepare(staff.archivist, student(pnr(2003, 1, day, 100 + day)))
                   for day in range(1, 6)]
        c.save(*records)
        return [r.id for r in records], Tamperer(runtime)

    def test_one_signature_covers_the_save_and_every_event_verifies(self, runtime: Runtime
                                                                    ) -> None:
        ids, t = self._batch(runtime)
        envelopes = [Envelope.parse(t.row(record_id, 1)[1]) for record_id in ids]
        assert {e.size for e in envelopes} == {5}
        assert len({e.signature for e in envelopes}) == 1
        assert [e.index for e in envelopes] == [0, 1, 2, 3, 4]
        assert faults_for(runtime) == []
        assert all(runtime.custody.record(record_id).version == 1 for record_id in ids)

    def test_an_altered_event_in_a_save_is_named_alone(self, runtime: Runtime) -> None:
        ids, t = self._batch(runtime)
        t.flip_byte(ids[2], 1)
        faults = faults_for(runtime)
        assert [(f.record_id, f.version) for f in faults if "signature" in f.problem] == [
            (ids[2].hex, 1)]

    def test_an_event_moved_to_another_record_of_the_same_save_is_found(
        self, runtime: Runtime
    ) -> None:
        ids, t = self._batch(runtime)
        topic, state = t.row(ids[0], 1)
        t.set_row(ids[1], 1, topic, state)
        faults = faults_for(runtime)
        assert any(f.record_id == ids[1].hex and "signature does not verify" in f.problem
                   for f in faults), faults

    def test_a_forged_root_with_a_borrowed_signature_is_found(self, runtime: Runtime) -> None:
        ids, t = self._batch(runtime)
        topic, state = t.row(ids[3], 1)
        env = Envelope.parse(state)
        forged = Envelope(env.kid, env.prev, env.signature, env.payload, 0, 1).encode()
        t.set_row(ids[3], 1, topic, forged)  # claims to be a single save: signature fails
        assert any(f.record_id == ids[3].hex for f in faults_for(runtime))
