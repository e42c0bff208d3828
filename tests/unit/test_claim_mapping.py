"""How an identity provider's claims become our role and school unit (no I/O)."""

from __future__ import annotations

import datetime as dt
from uuid import uuid4

import pytest

from application.credentials import ClaimMapping
from domain.actor import Actor, Role
from domain.errors import IllegalTransitionError, InvalidInputError

MAPPING = ClaimMapping(role_map=ClaimMapping.parse_role_map(
    "BUN-Arkiv=archivist, BUN-Rektor=principal,BUN-Admin=admin"))
NOW = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)


class TestClaimMapping:
    def test_a_mapped_value_gives_its_role(self) -> None:
        assert MAPPING.role_of({"roles": ["Kök", "BUN-Rektor"]}) is Role.PRINCIPAL

    def test_a_single_string_claim_counts_like_a_list_of_one(self) -> None:
        assert MAPPING.role_of({"roles": "BUN-Arkiv"}) is Role.ARCHIVIST

    def test_our_own_role_names_map_to_themselves(self) -> None:
        assert ClaimMapping().role_of({"roles": ["auditor"]}) is Role.AUDITOR

    def test_of_several_roles_the_first_in_our_order_wins(self) -> None:
        assert MAPPING.role_of({"roles": ["BUN-Rektor", "BUN-Arkiv"]}) is Role.ARCHIVIST

    def test_no_known_value_gives_no_role(self) -> None:
        assert MAPPING.role_of({"roles": ["Kök", 7, None]}) is None
        assert MAPPING.role_of({}) is None

    def test_claim_names_are_configurable(self) -> None:
        custom = ClaimMapping(role_claim="groups", school_claim="skolenhet")
        claims = {"groups": ["teacher"], "skolenhet": " holmes "}
        assert (custom.role_of(claims), custom.school_of(claims)) == (Role.TEACHER, "holmes")

    def test_a_map_naming_a_role_we_do_not_have_is_refused_at_start(self) -> None:
        with pytest.raises(ValueError, match="janitor"):
            ClaimMapping.parse_role_map("BUN-Vakt=janitor")
        with pytest.raises(ValueError, match="value=role"):
            ClaimMapping.parse_role_map("archivist")


class TestActorTokens:
    def actor(self) -> Actor:
        return Actor.register(uuid4(), "Arne Arkivarie", Role.ARCHIVIST, None, "", actor="t")

    def test_a_token_is_accepted_until_it_expires(self) -> None:
        actor, token_id = self.actor(), uuid4()
        actor.issue_token(token_id, "laptop", "ab" * 32, NOW + dt.timedelta(hours=1), NOW,
                          actor="t")
        assert actor.accepts("ab" * 32, token_id, NOW)
        assert not actor.accepts("cd" * 32, token_id, NOW)
        assert not actor.accepts("ab" * 32, token_id, NOW + dt.timedelta(hours=1))

    def test_a_withdrawn_token_and_a_revoked_actor_are_refused(self) -> None:
        actor, first, second = self.actor(), uuid4(), uuid4()
        actor.issue_token(first, "a", "ab" * 32, None, NOW, actor="t")
        actor.issue_token(second, "b", "cd" * 32, None, NOW, actor="t")
        actor.withdraw_token(first, actor="t")
        assert not actor.accepts("ab" * 32, first, NOW)
        assert actor.accepts("cd" * 32, second, NOW)
        with pytest.raises(IllegalTransitionError):
            actor.withdraw_token(first, actor="t")
        actor.revoke("left", actor="t")
        assert not actor.accepts("cd" * 32, second, NOW)
        with pytest.raises(IllegalTransitionError):
            actor.issue_token(uuid4(), "c", "ef" * 32, None, NOW, actor="t")

    def test_an_expiry_without_a_time_zone_or_in_the_past_is_refused(self) -> None:
        actor = self.actor()
        with pytest.raises(InvalidInputError):
            actor.issue_token(uuid4(), "x", "ab" * 32, dt.datetime(2030, 1, 1), NOW, actor="t")
        with pytest.raises(InvalidInputError):
            actor.issue_token(uuid4(), "x", "ab" * 32, NOW, NOW, actor="t")

    def test_a_profile_change_is_recorded_only_when_something_changed(self) -> None:
        actor = self.actor()
        actor.change_profile("Arne Arkivarie", Role.ARCHIVIST, None, actor="t")
        assert len(actor.collect_events()) == 1  # the registration only
        actor.change_profile("Arne Arkivarie", Role.AUDITOR, None, actor="t")
        assert [type(e).__name__ for e in actor.collect_events()] == ["ProfileChanged"]
        assert actor.role is Role.AUDITOR
