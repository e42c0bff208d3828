"""The domain's named errors, one tree rooted at :class:`DomainError`.

The API maps each class to an HTTP status in one table (``api/problems.py``); the CLI
prints the message. Messages are written for the person who made the mistake.

Every error has a stable snake_case ``code`` (its class's, or a narrower one given with
:meth:`DomainError.with_code` where one class carries several meanings) and ``params``,
the values its message names. The API returns the code in each problem body; the web
pages translate by code (``api/web/error_messages.py``), never by matching English text.
Codes are part of the outer contract: never rename one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar, Self


class DomainError(Exception):
    """Base of every rule the domain enforces."""

    title = "Domain rule violated"
    code: str = "domain_rule"
    params: Mapping[str, Any] = MappingProxyType({})
    CODES: ClassVar[frozenset[str]] = frozenset()
    """Narrower codes an instance of this class may carry (see :meth:`with_code`)."""

    def with_code(self, code: str, **params: Any) -> Self:
        """This error with a narrower code (or its class's own) and the values its message
        names."""
        self.code = code
        self.params = dict(params)
        return self


class InvalidInputError(DomainError, ValueError):
    """Input that can never be valid (a malformed value), independent of state."""

    title = "Invalid input"
    code = "invalid_input"
    CODES = frozenset({
        "personnummer_format", "personnummer_year", "personnummer_month", "personnummer_day",
        "personnummer_day_in_month", "personnummer_in_future", "personnummer_plus_separator",
        "personnummer_check_digit", "personnummer_invalid",
        # the lifecycle forms, departures, holds, school units, capture
        "date_format", "student_name_missing", "title_missing", "archive_copy_for_school",
        "school_copy_school_missing", "archive_box_missing", "verification_outcome_invalid",
        "discrepancy_note_missing", "next_school_missing", "already_attends",
        "next_school_not_for_reason", "hold_reason_missing", "purpose_invalid",
        "school_unit_required", "archive_is_not_a_school_unit", "school_unit_not_registered",
        # a document's fields (the import and the API)
        "category_missing", "pages_missing", "pages_invalid", "sha256_missing", "sha256_invalid",
    })

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(DomainError, LookupError):
    title = "Not found"
    code = "not_found"
    CODES = frozenset({"copy_not_found", "hold_not_found"})


class AlreadyExistsError(DomainError):
    """Something with that identity exists already (a second capture of a student...)."""

    title = "Already exists"
    code = "already_exists"
    CODES = frozenset({"student_already_captured"})

    def __init__(self, message: str, *, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class IllegalTransitionError(DomainError):
    """The command is not allowed in the current state of the aggregate."""

    title = "Illegal transition"
    code = "illegal_transition"
    CODES = frozenset({
        "student_documentation_only", "archive_copy_exists", "school_copy_exists",
        "reprint_without_discrepancy", "only_archive_copy_filed", "copy_not_printed_for_filing",
        "archive_copy_not_filed", "copy_already_verified", "archive_copy_not_delivered",
        "copy_not_printed_for_delivery", "copy_printed_for_other_school",
        "archive_copy_not_transferred", "copy_not_at_school", "copy_already_at_school",
        "copy_not_on_its_way", "already_entered_into_ist", "already_finished_school",
        "school_year_out_of_range", "agreement_already_terminated", "nothing_captured_yet",
    })


class ArchiveCopyCannotBeCulledError(IllegalTransitionError):
    title = "The archive copy of student documentation is never culled"
    code = "archive_copy_never_culled"


class CullNotLawfulError(IllegalTransitionError):
    title = "No lawful basis for this cull"
    code = "cull_not_lawful"
    CODES = frozenset({"school_copy_not_finished"})


class CopyOnLoanError(IllegalTransitionError):
    title = "The copy is on loan"
    code = "copy_on_loan"


class RecordOnHoldError(IllegalTransitionError):
    title = "The record is on hold"
    code = "record_on_hold"


class AlreadyCulledError(IllegalTransitionError):
    title = "Already culled"
    code = "already_culled"
    CODES = frozenset({"copy_culled", "copy_already_culled", "record_already_culled"})


class AgreementNotReadyError(IllegalTransitionError):
    title = "The archive agreement cannot be terminated yet"
    code = "agreement_not_ready"

    def __init__(self, message: str, *, missing: Sequence[dict[str, object]]) -> None:
        super().__init__(message)
        self.missing = list(missing)


class AgreementTerminatedError(IllegalTransitionError):
    title = "The archive agreement was terminated"
    code = "agreement_terminated"


class ConcurrentChangeError(DomainError):
    """Someone else changed the same aggregate between our read and our write."""

    title = "Concurrent change"
    code = "concurrent_change"


class NotAuthorisedError(DomainError):
    """The acting staff member's role or relationship does not allow the command."""

    title = "Not authorised"
    code = "not_authorised"
    CODES = frozenset({
        "role_may_not", "custodian_only", "custodian_or_archivist_only", "records_not_browsable",
    })

    def __init__(self, message: str, *, logged_request_id: str | None = None) -> None:
        super().__init__(message)
        self.logged_request_id = logged_request_id


class NotAuthenticatedError(DomainError):
    title = "Not authenticated"
    code = "not_authenticated"
