"""Two service instances on one store: nothing cached in one outlives a cull or a
revocation made in the other (PostgreSQL: ``LISTEN/NOTIFY``; SQLite: one process, the
vaults on the same key file are told directly)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from uuid import UUID

import psycopg
import pytest

from domain.errors import NotAuthenticatedError
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.factories import cull_through_list, pnr, seed_staff, student

FOREVER = 3600.0
"""B's key cache lifetime in these tests: only an invalidation can end what it holds."""


@pytest.fixture
def pair(settings: Settings) -> Iterator[tuple[Runtime, Runtime]]:
    a, b = bootstrap(settings), bootstrap(settings)
    b.vault.CACHE_SECONDS = FOREVER
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def culled_copy_ready(rt: Runtime) -> tuple[UUID, UUID, UUID, object]:
    """A student whose school copy may be culled: (record, copy, copy's subject, staff)."""
    staff = seed_staff(rt.custody)
    c = rt.custody
    number = pnr(2002, 4, 4, 123)
    record_id = c.capture_student(staff.archivist, student(number, "Bo Ek", "holmes"))
    copy_id = c.print_copy(staff.archivist, record_id, "school", "holmes")
    c.deliver_copy(staff.custodians["holmes"], record_id, copy_id, "holmes")
    c.record_departure(staff.custodians["holmes"], number,
                       reason="finished_compulsory_school", to_school_id=None,
                       date="2018-06-15")
    return record_id, copy_id, c.record(record_id).copy(copy_id).subject, staff


def test_a_cull_in_one_instance_blanks_the_copy_in_the_other_within_a_second(
        pair: tuple[Runtime, Runtime]) -> None:
    a, b = pair
    record_id, copy_id, subject, staff = culled_copy_ready(a)
    # B reads the copy's data: its key is unwrapped and cached (for an hour, here).
    probe = b.vault.seal(subject, {"name": "Bo Ek"})
    assert b.vault.open(subject, probe) == {"name": "Bo Ek"}
    assert b.custody.record(record_id).copy(copy_id).contents is not None

    cull_through_list(a, staff, record_id, copy_id, "holmes")  # type: ignore[arg-type]
    culled_at = time.monotonic()
    while b.vault.open(subject, probe) is not None:
        assert time.monotonic() - culled_at < 1.0, "B still decrypts the culled copy"
        time.sleep(0.005)
    # ...and never again from its cache.
    for _ in range(50):
        assert b.vault.open(subject, probe) is None
    b.vault.prefetch([subject])
    assert b.vault.open(subject, probe) is None
    assert b.custody.record(record_id).copy(copy_id).contents is None
    if b.settings.uses_postgres:
        assert b.invalidation is not None and b.invalidation.received >= 1


def test_without_the_invalidation_the_cached_key_would_still_decrypt(
        pair: tuple[Runtime, Runtime]) -> None:
    """The guard above can fail: a key destroyed behind B's back (no announcement) is
    still served from B's cache — which is why every destruction is announced."""
    a, b = pair
    _, _, subject, _ = culled_copy_ready(a)
    probe = b.vault.seal(subject, {"name": "Bo Ek"})
    with b.vault._db.transaction() as cur:  # what a destroy() without NOTIFY would do
        cur.execute(f"UPDATE {b.vault._table} SET wrapped = NULL WHERE subject = %s",
                    (subject.hex,))
    time.sleep(0.2)
    assert b.vault.open(subject, probe) == {"name": "Bo Ek"}
    assert b.vault.is_destroyed(subject)


def test_a_token_withdrawn_in_one_instance_is_refused_at_once_by_the_other(
        pair: tuple[Runtime, Runtime]) -> None:
    a, b = pair
    staff = seed_staff(a.custody)
    teacher_token = staff.tokens["teacher"]
    assert b.custody.authenticate(teacher_token).id == staff.teacher.id
    token_id, laptop = a.credentials.issue_token(staff.admin, staff.teacher_id, "laptop", None)
    assert b.custody.authenticate(laptop).id == staff.teacher.id
    session = b.credentials.start_session(b.custody.authenticate(laptop))
    assert b.credentials.session_principal(session).id == staff.teacher.id

    a.credentials.withdraw_token(staff.admin, staff.teacher_id, token_id)
    with pytest.raises(NotAuthenticatedError):
        b.custody.authenticate(laptop)
    assert b.custody.authenticate(teacher_token).id == staff.teacher.id  # the other one

    a.credentials.revoke(staff.admin, staff.teacher_id, "left the school")
    with pytest.raises(NotAuthenticatedError):
        b.custody.authenticate(teacher_token)
    with pytest.raises(NotAuthenticatedError):
        b.credentials.session_principal(session)


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_lost_listener_reconnects_and_drops_everything_cached(
        pair: tuple[Runtime, Runtime]) -> None:
    """Notifications sent while the listener was away are lost: on reconnecting it
    drops every cached key, and a cull announced afterwards is heard again."""
    a, b = pair
    _, _, subject, _ = culled_copy_ready(a)
    listener = b.invalidation
    assert listener is not None
    resets = listener.resets
    probe = b.vault.seal(subject, {"name": "Bo Ek"})
    assert b.vault.open(subject, probe) is not None
    with psycopg.connect(b.settings.database_url or "", autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
        # A key destroyed while B is not listening: nobody tells B.
        conn.execute(f'UPDATE "{b.settings.database_schema}".custody_subject_keys '
                     "SET wrapped = NULL WHERE subject = %s", (subject.hex,))
    deadline = time.monotonic() + 5
    while listener.resets == resets:
        assert time.monotonic() < deadline, "the listener did not come back"
        time.sleep(0.02)
    assert b.vault.open(subject, probe) is None
    # Listening again: the next announced cull is heard.
    other = a.vault.new_subject()
    probe = b.vault.seal(other, {"name": "Cia"})
    a.vault.destroy(other)
    deadline = time.monotonic() + 1
    while b.vault.open(other, probe) is not None:
        assert time.monotonic() < deadline
        time.sleep(0.005)



def test_healthz_says_how_caches_are_invalidated(pair: tuple[Runtime, Runtime]) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    _, b = pair
    with TestClient(create_app(runtime=b)) as client:
        body = client.get("/healthz").json()
    wanted = "listening" if b.settings.uses_postgres else "in process"
    assert body["cache_invalidation"] == wanted
