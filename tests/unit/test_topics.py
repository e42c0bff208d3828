"""Stored events are signed and kept forever: their topics must never change."""

from __future__ import annotations

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic, resolve_topic

from domain.actor import Actor
from domain.agreement import ArchiveAgreement, SchoolYear
from domain.culling import CullingDecision
from domain.culling_list import CullingList
from domain.delivery import ArchiveDelivery
from domain.privacy import AccessLog, StudentAlias
from domain.record import Record
from domain.request import DocumentRequest
from domain.school import SchoolUnit

PINNED = {
    "custody:SchoolUnit", "custody:SchoolUnit.Registered",
    "custody:Actor", "custody:Actor.Registered", "custody:Actor.AssignmentGranted",
    "custody:Actor.AssignmentEnded", "custody:Actor.TokenRevoked",
    "custody:Actor.TokenIssued", "custody:Actor.TokenWithdrawn",
    "custody:Actor.IdentityLinked", "custody:Actor.ProfileChanged",
    "custody:Record", "custody:Record.StudentDocumentationCaptured",
    "custody:Record.GeneralInformationCaptured", "custody:Record.CopyPrinted",
    "custody:Record.CopyArchived", "custody:Record.CopyVerified",
    "custody:Record.CopyDelivered", "custody:Record.CopyLent", "custody:Record.CopyReturned",
    "custody:Record.CopyTransferred", "custody:Record.CopyReceived",
    "custody:Record.CopyCulled", "custody:Record.Culled", "custody:Record.EnteredIntoIst",
    "custody:Record.StudentDeparted", "custody:Record.HoldPlaced", "custody:Record.HoldLifted",
    "custody:DocumentRequest", "custody:DocumentRequest.Made",
    "custody:DocumentRequest.Decided", "custody:DocumentRequest.HandedOut",
    "custody:DocumentRequest.Returned",
    "custody:ArchiveAgreement", "custody:ArchiveAgreement.Terminated",
    "custody:SchoolYear", "custody:SchoolYear.Closed",
    "custody:Record.CopyHandedOverExternally", "custody:Record.ExternalHandoverReceipted",
    "custody:CullingDecision", "custody:CullingDecision.Registered",
    "custody:CullingList", "custody:CullingList.Proposed", "custody:CullingList.Approved",
    "custody:CullingList.Rejected", "custody:CullingList.ItemDestroyed",
    "custody:CullingList.ItemWithdrawn",
    "custody:ArchiveDelivery", "custody:ArchiveDelivery.Delivered",
    "custody:ArchiveDelivery.Received",
    "custody:Record.ProtectionSet", "custody:Record.ProtectionLifted",
    "custody:Record.Renumbered",
    "custody:AccessLog", "custody:AccessLog.Opened", "custody:AccessLog.Recorded",
    "custody:StudentAlias", "custody:StudentAlias.Created",
}

AGGREGATES = [SchoolUnit, Actor, Record, DocumentRequest, ArchiveAgreement, SchoolYear,
              CullingDecision, CullingList, ArchiveDelivery,
              AccessLog, StudentAlias]


def declared_topics() -> set[str]:
    topics = set()
    for aggregate in AGGREGATES:
        topics.add(get_topic(aggregate))
        for value in vars(aggregate).values():
            if (isinstance(value, type) and issubclass(value, CanMutateAggregate)
                    and value.__name__ != "Event"):
                topics.add(get_topic(value))
    return topics


def test_every_event_topic_is_pinned_and_none_was_renamed() -> None:
    assert declared_topics() == PINNED


def test_every_pinned_topic_resolves_to_its_class() -> None:
    for topic in PINNED:
        assert get_topic(resolve_topic(topic)) == topic
