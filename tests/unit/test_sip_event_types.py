"""Every stored event topic has a PREMIS event type, so a new event forces a mapping."""

from __future__ import annotations

import pytest

from infrastructure.sip.event_types import (
    EVENT_TYPE_SCHEME,
    EVENT_TYPES,
    PREMIS_EVENTS,
    UnmappedEventError,
    mapping_for,
)
from tests.unit.test_topics import PINNED, declared_topics

EVENT_TOPICS = {topic for topic in PINNED if "." in topic}


def test_every_pinned_event_topic_has_a_premis_event_type() -> None:
    missing = sorted(EVENT_TOPICS - set(PREMIS_EVENTS))
    assert missing == [], f"add these topics to infrastructure/sip/event_types.py: {missing}"


def test_every_declared_event_topic_has_a_premis_event_type() -> None:
    declared = {topic for topic in declared_topics() if "." in topic}
    assert declared <= set(PREMIS_EVENTS)


def test_the_table_names_no_topic_that_does_not_exist() -> None:
    assert set(PREMIS_EVENTS) <= EVENT_TOPICS


def test_every_event_type_is_a_term_of_the_loc_vocabulary() -> None:
    for topic, mapping in PREMIS_EVENTS.items():
        assert mapping.event_type in EVENT_TYPES, topic
        assert mapping.value_uri.startswith(EVENT_TYPE_SCHEME + "/")
        assert mapping.why, f"{topic}: say why this event type"


def test_no_free_text_field_is_copied_into_premis() -> None:
    """Notes, reasons, purposes, witnesses and names may name a person."""
    free_text = {"note", "reason", "purpose", "witness", "name", "personal", "to_actor",
                 "condition", "refusal", "title", "label"}
    codes = {  # fields of these names that are one of a few codes there, not free text
        "custody:Record.StudentDeparted": {"reason"},
        "custody:Record.CopyPrinted": {"purpose"},
    }
    for topic, mapping in PREMIS_EVENTS.items():
        assert set(mapping.details) & free_text <= codes.get(topic, set()), topic


def test_an_unmapped_topic_is_refused_by_name() -> None:
    with pytest.raises(UnmappedEventError, match=r"custody:Record\.Invented"):
        mapping_for("custody:Record.Invented")
