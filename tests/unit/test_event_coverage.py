"""Every pinned event topic is handled where events are read back: the projector has a
handler for it (else the views stop at it), and the web pages can show it — a record's
events in its timeline (a title in both languages), the other aggregates' events are
named here as not shown in a timeline, so a new event needs a decision either way."""

from __future__ import annotations

from eventsourcing.utils import get_topic, resolve_topic

from api.web.i18n import load_catalogue
from application.projections import Projector
from tests.unit.test_topics import AGGREGATES, PINNED

AGGREGATE_TOPICS = {get_topic(aggregate) for aggregate in AGGREGATES}
EVENT_TOPICS = PINNED - AGGREGATE_TOPICS

NOT_IN_A_RECORDS_TIMELINE = {
    # Set-up, requests and the migration's milestones have pages of their own (staff,
    # the request log, the overview), not a place in one record's history.
    "custody:SchoolUnit.Registered", "custody:Actor.Registered",
    "custody:Actor.AssignmentGranted", "custody:Actor.AssignmentEnded",
    "custody:Actor.TokenRevoked", "custody:DocumentRequest.Made",
    "custody:DocumentRequest.Decided", "custody:DocumentRequest.HandedOut",
    "custody:DocumentRequest.Returned", "custody:ArchiveAgreement.Terminated",
    "custody:SchoolYear.Closed",
    # Sign-in and tokens: the staff pages show a person's tokens and identity, never a
    # record's history (and a token event says nothing about a record).
    "custody:Actor.TokenIssued", "custody:Actor.TokenWithdrawn",
    "custody:Actor.IdentityLinked", "custody:Actor.ProfileChanged",
    # Culling lists and the decision register are events of their own aggregates, shown
    # on the culling pages; what happens to a copy is the record's own CopyCulled/Culled,
    # which is in the timeline with its certificate.
    "custody:CullingDecision.Registered", "custody:CullingList.Proposed",
    "custody:CullingList.Approved", "custody:CullingList.Rejected",
    "custody:CullingList.ItemWithdrawn", "custody:CullingList.ItemDestroyed",
    # Deliveries to the archive authority: a delivery of its own, with its receipt.
    "custody:ArchiveDelivery.Delivered", "custody:ArchiveDelivery.Received",
    # Who read a record is the access log, shown to those allowed to see it, never in
    # the record's own timeline (that would tell every reader who else looked).
    "custody:AccessLog.Opened", "custody:AccessLog.Recorded",
    # An alias only links a renumbered pupil's old number to the new; the record's own
    # Renumbered event is in the timeline.
    "custody:StudentAlias.Created",
}


def test_every_pinned_event_has_a_projector_handler() -> None:
    handled = {get_topic(event_class) for event_class in Projector().handlers}
    assert EVENT_TOPICS - handled == set()


def test_every_pinned_event_has_a_presenter_entry_or_is_named_as_not_shown() -> None:
    catalogues = {lang: load_catalogue(lang) for lang in ("sv", "en")}
    missing = []
    for topic in sorted(EVENT_TOPICS - NOT_IN_A_RECORDS_TIMELINE):
        name = resolve_topic(topic).__name__
        for lang, catalogue in catalogues.items():
            if f"event.{name}.title" not in catalogue:
                missing.append(f"{topic} ({lang})")
    assert missing == []


def test_the_list_of_events_not_shown_names_only_pinned_events() -> None:
    assert NOT_IN_A_RECORDS_TIMELINE <= EVENT_TOPICS
