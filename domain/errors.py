"""The domain's named errors, one tree rooted at :class:`DomainError`.

The API maps each class to an HTTP status in one table (``api/problems.py``); the CLI
prints the message. Messages are written for the person who made the mistake.
"""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """Base of every rule the domain enforces."""

    title = "Domain rule violated"


class InvalidInputError(DomainError, ValueError):
    """Input that can never be valid (a malformed value), independent of state."""

    title = "Invalid input"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFoundError(DomainError, LookupError):
    title = "Not found"


class AlreadyExistsError(DomainError):
    """Something with that identity exists already (a second capture of a student...)."""

    title = "Already exists"

    def __init__(self, message: str, *, existing_id: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id


class IllegalTransitionError(DomainError):
    """The command is not allowed in the current state of the aggregate."""

    title = "Illegal transition"


class ArchiveCopyCannotBeCulledError(IllegalTransitionError):
    title = "The archive copy of student documentation is never culled"


class CullNotLawfulError(IllegalTransitionError):
    title = "No lawful basis for this cull"


class CopyOnLoanError(IllegalTransitionError):
    title = "The copy is on loan"


class RecordOnHoldError(IllegalTransitionError):
    title = "The record is on hold"


class AlreadyCulledError(IllegalTransitionError):
    title = "Already culled"


class AgreementNotReadyError(IllegalTransitionError):
    title = "The archive agreement cannot be terminated yet"

    def __init__(self, message: str, *, missing: Sequence[dict[str, object]]) -> None:
        super().__init__(message)
        self.missing = list(missing)


class AgreementTerminatedError(IllegalTransitionError):
    title = "The archive agreement was terminated"


class ConcurrentChangeError(DomainError):
    """Someone else changed the same aggregate between our read and our write."""

    title = "Concurrent change"


class NotAuthorisedError(DomainError):
    """The acting staff member's role or relationship does not allow the command."""

    title = "Not authorised"

    def __init__(self, message: str, *, logged_request_id: str | None = None) -> None:
        super().__init__(message)
        self.logged_request_id = logged_request_id


class NotAuthenticatedError(DomainError):
    title = "Not authenticated"
