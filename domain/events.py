"""The base class of every custody event.

Every event names the acting staff member (``actor``: an actor id, or ``system:…`` for
set-up done from the command line). Topics are explicit (``custody:<Aggregate>.<Event>``)
because stored events are signed and kept forever; ``tests/unit/test_topics.py`` pins them.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import AggregateCreated, AggregateEvent


class CustodyEvent(AggregateEvent):
    actor: str


class CustodyCreated(CustodyEvent, AggregateCreated):
    pass


PersonalData = dict[str, Any]
"""Personal data in an event: the store encrypts it under the key of ``subject``."""
