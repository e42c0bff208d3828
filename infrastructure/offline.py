"""Decoding stored events without any secret: for the offline verifier and certificates.

Personal data stays sealed (the verifier has no keys); everything else decodes exactly
as the service's mapper does.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex
from eventsourcing.utils import resolve_topic

from application.ports import FeedItem
from infrastructure.signed_events import Envelope, check_stored_event
from infrastructure.verification import Row


def transcoder() -> JSONTranscoder:
    t = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        t.register(transcoding)
    return t


def decode(row: Row, keys: Any, codec: JSONTranscoder | None = None, *,
           verified: bool = False) -> FeedItem:
    """One stored event as a feed item; ``verified`` skips a signature already checked."""
    seq, rid, version, topic, state = row
    checked = check_stored_event(rid, version, topic, state, keys, verify_signature=not verified)
    payload: dict[str, Any] = (codec or transcoder()).decode(Envelope.parse(state).payload)
    payload["originator_id"] = UUID(rid)
    payload["originator_version"] = version
    event = object.__new__(resolve_topic(topic))
    object.__setattr__(event, "__dict__", payload)
    return FeedItem(seq, event, checked.prev, checked.event_hash)
