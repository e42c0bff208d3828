"""Document requests and the archive agreement, with no database."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domain.agreement import ArchiveAgreement, Readiness
from domain.errors import AgreementNotReadyError, IllegalTransitionError, InvalidInputError
from domain.request import DocumentRequest, RequestStatus


def request(refusal: str | None = None) -> DocumentRequest:
    return DocumentRequest.make(uuid4(), record_id=uuid4(), copy_id=uuid4(),
                                custodian_location="holmes", purpose="utvecklingssamtal",
                                refusal=refusal, actor="teacher-1")


class TestDocumentRequest:
    def test_a_request_states_its_purpose(self) -> None:
        with pytest.raises(InvalidInputError):
            DocumentRequest.make(uuid4(), record_id=uuid4(), copy_id=None,
                                 custodian_location=None, purpose=" ", refusal=None,
                                 actor="teacher-1")

    def test_an_unauthorised_request_is_kept_as_refused(self) -> None:
        refused = request(refusal="the teacher is not assigned to this student")
        assert refused.status is RequestStatus.REFUSED
        with pytest.raises(IllegalTransitionError):
            refused.decide(granted=True, reason="ändå", actor="custodian-1")

    def test_granted_handed_out_returned(self) -> None:
        asked = request()
        asked.decide(granted=True, reason="behörig", actor="custodian-1")
        asked.hand_out(actor="custodian-1")
        asked.take_back(actor="custodian-1")
        assert asked.status is RequestStatus.RETURNED

    def test_only_a_granted_request_is_handed_out(self) -> None:
        asked = request()
        asked.decide(granted=False, reason="inte behövlig", actor="custodian-1")
        with pytest.raises(IllegalTransitionError):
            asked.hand_out(actor="custodian-1")

    def test_a_decision_states_its_reason(self) -> None:
        with pytest.raises(InvalidInputError):
            request().decide(granted=True, reason="", actor="custodian-1")

    def test_a_request_is_decided_once(self) -> None:
        asked = request()
        asked.decide(granted=True, reason="behörig", actor="custodian-1")
        with pytest.raises(IllegalTransitionError):
            asked.decide(granted=False, reason="ångrat", actor="custodian-1")


class TestArchiveAgreement:
    def test_terminated_only_when_every_student_is_verified(self) -> None:
        missing = [{"record_id": "r1", "missing": "verified"}]
        with pytest.raises(AgreementNotReadyError) as caught:
            ArchiveAgreement.terminate(Readiness(2, 2, 2, 1, missing), actor="archivist-1")
        assert caught.value.missing == missing

    def test_not_ready_while_fewer_are_verified_than_captured(self) -> None:
        assert not Readiness(students=3, printed=3, archived=3, verified=2).ready

    def test_terminated_when_ready(self) -> None:
        agreement = ArchiveAgreement.terminate(Readiness(2, 2, 2, 2), actor="archivist-1")
        assert agreement.terminated
        assert [type(e).__name__ for e in agreement.collect_events()] == ["Terminated"]
