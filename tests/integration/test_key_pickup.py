"""A running service picks up a key rotation made elsewhere (``custody keys rotate`` in
another process) within seconds: its next events are signed with the new key and
``/api/v1/keys`` shows the new key as the active one — no restart."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from api.app import create_app
from application.policy import Principal
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from infrastructure.signed_events import Envelope
from tests.factories import pnr, seed_staff, student


def rotate_elsewhere(settings: Settings) -> str:
    """What ``custody keys rotate`` does, from a runtime of its own (another process)."""
    other = bootstrap(settings)
    try:
        return other.keyring.rotate(hand_over=other.log.hand_over)
    finally:
        other.close()


def last_key_id(rt: Runtime, record_id: object) -> str:
    stored = rt.custody.recorder.select_events(record_id, desc=True, limit=1)  # type: ignore[arg-type]
    return Envelope.parse(bytes(stored[0].state)).kid


def test_a_rotation_elsewhere_signs_the_next_events_within_seconds(
    runtime: Runtime, settings: Settings
) -> None:
    staff = seed_staff(runtime.custody)
    record_id = runtime.custody.capture_student(staff.archivist, student(pnr(2004, 3, 3, 123)))
    old = runtime.keyring.active_key_id
    assert last_key_id(runtime, record_id) == old
    runtime.seal()

    new = rotate_elsewhere(settings)
    assert new != old
    deadline = time.monotonic() + 5
    signed_with = old
    while signed_with == old and time.monotonic() < deadline:
        runtime.custody.place_hold(staff.archivist, record_id, "rotation check")
        signed_with = last_key_id(runtime, record_id)
        time.sleep(0.2)
    assert signed_with == new
    # The service reads back what the new key signed, and the log signs with it too.
    runtime.queries.fresh()
    assert runtime.custody.record(record_id).version >= 2
    assert runtime.log.seal_and_checkpoint() is not None


def test_the_keys_endpoint_shows_a_rotation_made_elsewhere(
    runtime: Runtime, settings: Settings
) -> None:
    _, token = runtime.custody.register_actor(Principal.system(), "Ada", "admin", None)
    with TestClient(create_app(runtime=runtime)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        before = client.get("/api/v1/keys", headers=headers).json()["keys"]
        new = rotate_elsewhere(settings)
        deadline = time.monotonic() + 5
        active: list[str] = []
        while new not in active and time.monotonic() < deadline:
            keys = client.get("/api/v1/keys", headers=headers).json()["keys"]
            active = [k["key_id"] for k in keys if k["active"]]
            time.sleep(0.2)
    assert active == [new]
    assert len(keys) == len(before) + 1
