"""Bulk capture of the Unikum inventory: ``custody import FILE.csv`` (and the same CSV
posted to the API).

:mod:`application.inventory` reads and checks the file; this module captures what it
reads, through the one capture path, :meth:`Custody.capture_batch`, a batch at a time.

- **Idempotent and resumable.** Every record id is derived from the row's content, so a
  second run (of the same file, a longer file, or after ``kill -9``) skips what is in
  the store and counts it as already captured, not as an error. One record is one
  aggregate with one event, saved atomically with its batch, so no student is ever half
  captured; per-student data keys are committed before the events that use them, so a
  crash in between leaves an unused key, never an unreadable event.
- **Batched for speed.** Records are saved ``batch_size`` at a time in one ``save`` (one
  transaction, one table lock on PostgreSQL) with their data keys made in one bulk
  call. If a batch meets a record someone captured meanwhile (``AlreadyExistsError``)
  or a rule the file check does not know, that batch is captured again record by
  record, skipping the existing ones and reporting the refused ones. Keys made for a
  record that turns out to exist are left alone, never destroyed: on PostgreSQL a lost
  commit acknowledgement surfaces as a conflict, and the key may be in use after all.
- What is in the store already is found before anything is saved, reading ids only
  (never the events): nothing in an empty store; otherwise the candidates' ids are
  looked up in chunks (``Custody.stored_ids``, an index scan on both backends).

This module may import the domain and the application's service and policy; it never
touches infrastructure.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Final
from uuid import UUID

from application.inventory import (
    COLUMNS,
    GENERAL,
    STUDENT,
    GeneralItem,
    Inventory,
    InventoryItem,
    InventorySource,
    RowError,
    StudentItem,
    sniff_delimiter,
)
from application.policy import SYSTEM, Principal, require_capture
from application.service import CaptureItem, Custody, GeneralCapture, checked_documents
from domain.actor import Role
from domain.documents import documentation_fingerprint
from domain.errors import AlreadyExistsError, InvalidInputError
from domain.school import ARCHIVE, school_unit_id

__all__ = [
    "COLUMNS", "DEFAULT_BATCH_SIZE", "GENERAL", "STUDENT", "GeneralItem", "ImportReport",
    "Inventory", "InventoryItem", "InventorySource", "Progress", "RowError", "StudentItem",
    "command_line_archivist", "general_record_id", "import_inventory",
    "registered_schools", "sniff_delimiter",
]

DEFAULT_BATCH_SIZE: Final = 200
_LOOKUP_CHUNK: Final = 5_000  # candidate ids asked for at a time
_PROGRESS_EVERY: Final = 10_000  # rows, when nothing is saved (a re-run)
_DOING: Final = "import the Unikum inventory"

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in the file): at the start, after each batch, at the end."""


@dataclass(frozen=True)
class ImportReport:
    captured_students: int
    captured_general: int
    already_captured: int
    rejected: list[RowError]
    rows: int

    @property
    def captured(self) -> int:
        return self.captured_students + self.captured_general

    @property
    def ok(self) -> bool:
        """True when no row was rejected (the CLI's exit 0)."""
        return not self.rejected

    def summary(self) -> str:
        return (f"{self.rows} rows: captured {self.captured_students} students and "
                f"{self.captured_general} items of general information; "
                f"{self.already_captured} already captured; {len(self.rejected)} rows rejected")


def command_line_archivist() -> Principal:
    """The operator of ``custody import``: acts as ``system:cli`` with the archivist's role."""
    return Principal(SYSTEM, "command line", Role.ARCHIVIST, None)


def general_record_id(custody: Custody, school_id: str, sha256: str, title: str) -> UUID:
    """A keyed, deterministic id for an item of general information (titles stay secret)."""
    content = f"general-information-id v1\n{school_id}\n{sha256}\n{title}".encode()
    return UUID(hex=custody.blind.commitment(content)[:32], version=4)


def registered_schools(custody: Custody) -> Callable[[str], bool]:
    """``school_exists`` for :class:`Inventory`, asking the store once per school unit."""
    known: dict[str, bool] = {}

    def exists(code: str) -> bool:
        if code not in known:
            known[code] = code != ARCHIVE and custody.exists(school_unit_id(code))
        return known[code]

    return exists


def captured_already(custody: Custody, candidates: Iterable[UUID]) -> set[UUID]:
    """Which candidate record ids are in the store already, reading ids only (never the
    events); the candidates are read lazily, a chunk at a time."""
    if not custody.recorder.max_notification_id():
        return set()  # an empty store holds none of them
    found: set[UUID] = set()
    iterator = iter(candidates)
    while chunk := list(itertools.islice(iterator, _LOOKUP_CHUNK)):
        found |= custody.stored_ids(chunk)
    return found


@dataclass(frozen=True)
class _Pending:
    item: StudentItem | GeneralItem
    record_id: UUID

    @property
    def capture(self) -> CaptureItem:
        item = self.item
        if isinstance(item, StudentItem):
            return item.capture
        return GeneralCapture(item.category, item.title, item.school_id, item.sha256,
                              record_id=self.record_id)


@dataclass
class _Outcome:
    """What became of one batch."""

    students: int = 0
    general: int = 0
    already: int = 0
    rows: int = 0
    rejected: list[RowError] = field(default_factory=list)

    def captured(self, item: StudentItem | GeneralItem) -> None:
        if isinstance(item, StudentItem):
            self.students += 1
        else:
            self.general += 1
        self.rows += _rows_of(item)

    def skipped(self, item: StudentItem | GeneralItem) -> None:
        self.already += 1
        self.rows += _rows_of(item)


class _BatchSaver:
    """Captures one batch through :meth:`Custody.capture_batch` (one ``save``); should it
    be refused, captures its items one at a time and reports each outcome."""

    def __init__(self, custody: Custody, principal: Principal) -> None:
        self.custody = custody
        self.principal = principal

    def save(self, batch: list[_Pending]) -> _Outcome:
        outcome = _Outcome()
        try:
            # known_new: the batch's ids were looked up before the file was read again.
            self.custody.capture_batch(self.principal, [p.capture for p in batch],
                                       known_new=True, doing=_DOING)
        except (AlreadyExistsError, InvalidInputError):
            self._save_one_by_one(batch, outcome)
        else:
            for pending in batch:
                outcome.captured(pending.item)
        return outcome

    def _save_one_by_one(self, batch: list[_Pending], outcome: _Outcome) -> None:
        for pending in batch:
            try:
                self.custody.capture_batch(self.principal, [pending.capture], doing=_DOING)
            except AlreadyExistsError:
                outcome.skipped(pending.item)  # captured by someone else meanwhile
            except InvalidInputError as error:  # a rule the file check does not know
                outcome.rejected += [RowError(n, str(error)) for n in _lines_of(pending.item)]
                outcome.rows += _rows_of(pending.item)
            else:
                outcome.captured(pending.item)


class _Capture:
    """Collects batches while reading the file, saves each when full, counts outcomes.

    Progress is reported after each saved batch, so an exception (or a progress callback
    that raises) stops the import after whole, reported batches. (Saving on a thread of
    its own while the next batch is read gained nothing measurable: parsing, signing and
    sealing all need the GIL.)"""

    def __init__(self, custody: Custody, saver: _BatchSaver, *, batch_size: int,
                 existing: set[UUID], total: int, progress: Progress | None) -> None:
        self.custody = custody
        self.saver = saver
        self.batch_size = batch_size
        self.existing = existing
        self.total = total
        self.progress = progress
        self.batch: list[_Pending] = []
        self.done = _Outcome()
        self.reported = 0

    def add(self, item: InventoryItem) -> None:
        if isinstance(item, RowError):
            self.done.rejected.append(item)
            self.done.rows += 1
            return
        if isinstance(item, StudentItem):
            record_id = self.custody.blind.student_record_id(item.normalized)
        else:
            record_id = general_record_id(self.custody, item.school_id, item.sha256,
                                          item.title)
        if record_id in self.existing:
            if isinstance(item, StudentItem) and self._documents_differ(item, record_id):
                reason = ("this student was captured already with other documents; a re-run "
                          "does not change a captured student's documentation (the archive "
                          "copy is printed from it): correct it by hand with the archivist")
                self.done.rejected.extend(RowError(line, reason) for line in item.lines)
                self.done.rows += len(item.lines)
                return
            self.done.skipped(item)
            if self.done.rows - self.reported >= _PROGRESS_EVERY:  # a re-run saves little
                self.report()
            return
        self.batch.append(_Pending(item, record_id))
        if len(self.batch) >= self.batch_size:
            self.save()

    def _documents_differ(self, item: StudentItem, record_id: UUID) -> bool:
        documents = checked_documents(item.capture.documents)
        fingerprint = documentation_fingerprint(documents).hex
        return bool(self.custody.record(record_id).fingerprint != fingerprint)

    def save(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        outcome = self.saver.save(batch)
        done = self.done
        done.students += outcome.students
        done.general += outcome.general
        done.already += outcome.already
        done.rows += outcome.rows
        done.rejected += outcome.rejected
        self.report()

    def report(self) -> None:
        if self.progress and self.done.rows != self.reported:
            self.reported = self.done.rows
            self.progress(self.done.rows, self.total)

    def finish(self) -> _Outcome:
        self.save()
        self.report()
        return self.done


def _rows_of(item: StudentItem | GeneralItem) -> int:
    return len(item.lines) if isinstance(item, StudentItem) else 1


def _lines_of(item: StudentItem | GeneralItem) -> tuple[int, ...]:
    return item.lines if isinstance(item, StudentItem) else (item.line,)


def import_inventory(custody: Custody, principal: Principal, source: InventorySource,
                     progress: Progress | None = None,
                     batch_size: int = DEFAULT_BATCH_SIZE) -> ImportReport:
    """Capture every good student and item of general information in the inventory.

    Raises :class:`InvalidInputError` when the file as a whole cannot be read (no or a
    wrong header, broken quoting, not UTF-8); bad rows are reported, not raised.
    """
    require_capture(principal, doing=_DOING)
    if batch_size < 1:
        raise InvalidInputError("the batch size must be at least 1", field="batch_size")
    inventory = Inventory(source, school_exists=registered_schools(custody))
    general = inventory.general_items()
    candidates = itertools.chain(
        (custody.blind.student_record_id(key) for key in inventory.candidates()),
        (general_record_id(custody, g.school_id, g.sha256, g.title) for g in general))
    existing = captured_already(custody, candidates)
    if progress:
        progress(0, inventory.rows)
    capture = _Capture(custody, _BatchSaver(custody, principal), batch_size=batch_size,
                       existing=existing, total=inventory.rows, progress=progress)
    for item in inventory.items():
        capture.add(item)
    done = capture.finish()
    return ImportReport(
        captured_students=done.students,
        captured_general=done.general,
        already_captured=done.already,
        rejected=sorted(done.rejected, key=lambda e: e.line),
        rows=inventory.rows,
    )
