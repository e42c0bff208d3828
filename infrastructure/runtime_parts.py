"""The parts of the composed runtime that the export bundle and the culling certificates
read, as a Protocol: they are built *by* the composition (``bootstrap.Runtime``
implements it), so they cannot import it, and need not see more than this.

May import the application and infrastructure modules it names; never ``bootstrap``.
"""

from __future__ import annotations

from typing import Protocol

from application.ports import ViewStore
from application.queries import CustodyQueries
from application.service import Custody
from infrastructure.keys import Keyring
from infrastructure.settings import Settings
from infrastructure.subject_keys import SubjectKeyVault
from infrastructure.transparency.log import TransparencyLog
from infrastructure.view_store import SQLViewStore


class StoreParts(Protocol):
    """The store, its keys, the views and the log of one running service."""

    @property
    def settings(self) -> Settings: ...
    @property
    def keyring(self) -> Keyring: ...
    @property
    def vault(self) -> SubjectKeyVault: ...
    @property
    def custody(self) -> Custody: ...
    @property
    def queries(self) -> CustodyQueries: ...
    @property
    def views(self) -> ViewStore: ...
    @property
    def log(self) -> TransparencyLog: ...

    def seal(self) -> str | None:
        """Seal what was stored and sign a checkpoint for it."""


class LiveStoreParts(StoreParts, Protocol):
    """The same, with the views in their database: what ``custody verify`` checks
    (stored rows against their indexed columns, and against a replay of the log)."""

    @property
    def views(self) -> SQLViewStore: ...
