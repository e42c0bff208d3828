"""A box's first and last personnummer (finding aid, delivery receipt) follow the one
disclosure rule for every principal; only the archive's own copy (the SIP) keeps the
number whoever the student is."""

from __future__ import annotations

import pytest

from application import policy
from application.policy import Disclosure, Principal
from tests.unit.test_policy_predicates import PRINCIPALS


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: p.id)
@pytest.mark.parametrize("protected", [False, True])
def test_a_bound_is_disclosed_as_any_student(principal: Principal, protected: bool) -> None:
    assert policy.box_bound_disclosure(principal, protected=protected) is policy.disclosure(
        principal, protected=protected)


def test_the_register_readers_see_what_the_readme_says() -> None:
    shown = {p.id: (policy.box_bound_disclosure(p, protected=False),
                    policy.box_bound_disclosure(p, protected=True))
             for p in PRINCIPALS if policy.may_read_archive_register(p)}
    identity, reference = Disclosure.IDENTITY, Disclosure.REFERENCE
    assert shown == {"archivist-none": (identity, identity),
                     "custodian-none": (identity, identity),
                     "auditor-none": (reference, reference),
                     "admin-none": (reference, reference)}


def test_the_archives_own_copy_keeps_the_number() -> None:
    assert policy.box_bound_disclosure(None, protected=True) is Disclosure.IDENTITY
