"""Bulk capture of the Unikum inventory: ``custody import FILE.csv`` (and the same CSV
posted to the API).

The inventory is UTF-8 CSV with a header and one row per document::

    kind,personnummer,name,school_id,class,title,category,sha256,pages

``kind`` is ``student_documentation`` or ``general_information``; general information
leaves ``personnummer``, ``name``, ``class`` and ``pages`` empty and has a ``category``
from point 1 of the decision (newsletter, blog_post, statistics, compilation, other).
All rows of one student (same personnummer, in any written form) become one record.

Choices, and why:

- **A student is captured whole or not at all.** If any row of a student is bad, none of
  that student's rows is captured, and every one of them is reported with its line: the
  bad ones with what is wrong, the others as held back because of them. A record is
  captured once and a re-run skips it as already captured, so capturing a student with
  a document missing would leave the archive copy silently incomplete for good. Fix the
  named lines and run the same file again: only the held-back students are captured.
- A row whose personnummer cannot be read still belongs to someone: it is attributed to
  the student in the file with the same name and school unit (when exactly one), so a
  typo in one row's personnummer holds back the rest of that student too.
- The rows of a student agree on name and school unit; the class may be left empty on
  some rows but may not differ. A document listed twice (same sha256) for one student is
  a mistake in the inventory and holds the student back as well.
- Each general-information row is independent: a bad one is rejected alone. Its record
  id is derived with the blind index's keyed HMAC over school unit, sha256 and title
  (titles may be personal, so an unkeyed hash would leak them); a re-run finds the same
  id. Two rows naming the same item are one item: the second is rejected as a duplicate.
- **Idempotent and resumable.** Every record id is derived from the row's content, so a
  second run (of the same file, a longer file, or after ``kill -9``) skips what is in
  the store and counts it as already captured, not as an error. One record is one
  aggregate with one event, saved atomically with its batch, so no student is ever half
  captured; per-student data keys are committed before the events that use them, so a
  crash in between leaves an unused key, never an unreadable event.
- **Batched for speed.** Records are saved ``batch_size`` at a time in one ``save`` (one
  transaction, one table lock on PostgreSQL) with their data keys made in one bulk
  call. If a batch meets a record someone captured meanwhile (``IntegrityError``), that
  batch is saved again record by record, skipping the existing ones. Keys made for a
  record that turns out to exist are left alone, never destroyed: on PostgreSQL a lost
  commit acknowledgement surfaces as a conflict, and the key may be in use after all.
- **Two passes over the file.** The first validates every row and groups rows by
  student, keeping per student only its identity and row count; the second reads the
  documents again and captures each student as soon as its last row has been read. No
  document is held longer than its student needs (a file sorted by student holds one
  student's documents at a time): memory is about 450 bytes per student and 8 per row,
  some 0.5 GB for 1.1 million students. A checksum of each row, taken in the first pass,
  stops the import (with everything captured so far intact) if the file changed between.
- What is in the store already is found before anything is saved: nothing in an empty
  store; one existence query per candidate when the file is small against the store;
  otherwise one scan of the store's capture events.

This module may import the domain and the application's service and policy; it never
touches infrastructure.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.policy import SYSTEM, Principal, require_capture
from application.service import (
    Custody,
    DocumentIn,
    StudentCapture,
    check_documents,
    fingerprint,
)
from domain.actor import Role
from domain.culling import GENERAL_INFORMATION_CATEGORIES
from domain.errors import DomainError, InvalidInputError
from domain.fingerprints import is_sha256
from domain.personnummer import InvalidPersonnummerError, Personnummer
from domain.record import Kind, Record
from domain.school import ARCHIVE, school_unit_id

COLUMNS: Final = ("kind", "personnummer", "name", "school_id", "class", "title", "category",
                  "sha256", "pages")
"""The inventory's header, in the documented order (any order is accepted)."""

# Positions in a row's values, which are always read in the order of COLUMNS.
KIND, PERSONNUMMER, NAME, SCHOOL_ID, CLASS, TITLE, CATEGORY, SHA256, PAGES = range(9)

STUDENT: Final = Kind.STUDENT_DOCUMENTATION.value
GENERAL: Final = Kind.GENERAL_INFORMATION.value
DEFAULT_BATCH_SIZE: Final = 200

_POSITIVE = re.compile(r"[0-9]+")
_NO_STUDENT: Final = -1
_SHOWN_LINES: Final = 5
# A store scan reads one capture event in the time of ~1/20 of an existence query, so
# few candidates in a big store are looked up one by one, and otherwise the store is
# scanned once for every capture event.
_LOOKUPS_PER_SCANNED_EVENT: Final = 20
_SCAN_PAGE: Final = 5_000
_PROGRESS_EVERY: Final = 10_000  # rows, when nothing is saved (a re-run)
_CAPTURE_TOPICS: Final = (Record.StudentDocumentationCaptured.TOPIC,
                          Record.GeneralInformationCaptured.TOPIC)

Progress = Callable[[int, int], None]
"""Called with (rows done, rows in the file): at the start, after each batch, at the end."""

InventorySource = Path | str | Iterable[str]
"""A ``Path`` is opened as UTF-8 (a BOM is allowed); a ``str`` is the CSV text itself;
any other iterable of lines (an open text file, a list) is read once into memory."""


# -- results ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """A rejected row: its line in the file (the header is line 1) and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


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


@dataclass(frozen=True)
class StudentItem:
    """One student whose rows are all good: ready to capture."""

    normalized: str
    capture: StudentCapture
    lines: tuple[int, ...]


@dataclass(frozen=True)
class GeneralItem:
    """One good row of general information."""

    line: int
    school_id: str
    category: str
    title: str
    sha256: str


InventoryItem = StudentItem | GeneralItem | RowError


# -- reading and checking the file (no database) ----------------------------------------


class _Student:
    """What the first pass keeps per student: identity, row count, bad lines."""

    __slots__ = ("bad_lines", "class_name", "first_line", "name", "personnummer", "rows",
                 "school_id")

    def __init__(self, personnummer: str) -> None:
        self.personnummer = personnummer
        self.name = ""
        self.school_id = ""
        self.class_name = ""
        self.first_line = 0  # the first row with a good name and school unit
        self.rows = 0
        self.bad_lines: list[int] | None = None

    def reject(self, line: int) -> None:
        if self.bad_lines is None:
            self.bad_lines = []
        self.bad_lines.append(line)


def _held_back(bad_lines: Sequence[int]) -> str:
    shown = ", ".join(str(n) for n in sorted(bad_lines)[:_SHOWN_LINES])
    more = ", …" if len(bad_lines) > _SHOWN_LINES else ""
    which = "line" if len(bad_lines) == 1 else "lines"
    return (f"not captured: a student's rows are captured together, and {which} "
            f"{shown}{more} of this student {'is' if len(bad_lines) == 1 else 'are'} rejected")


def _check_document(title: str, sha256: str, pages: str | None) -> list[str]:
    problems = []
    if not title:
        problems.append("title is missing")
    if not is_sha256(sha256):
        problems.append("sha256 is missing" if not sha256 else
                        "sha256 must be 64 hexadecimal digits (a SHA-256 hash)")
    if pages is not None and not (_POSITIVE.fullmatch(pages) and int(pages) > 0):
        problems.append("pages is missing" if not pages else
                        f"pages must be a positive whole number, not {pages!r}")
    return problems


def sniff_delimiter(lines: Iterable[str]) -> tuple[Iterator[str], str]:
    """The file's lines again and its delimiter: ``;`` when the header line has more
    semicolons than commas (what Swedish Excel writes for "CSV UTF-8"), else ``,``."""
    iterator = iter(lines)
    first: list[str] = []
    for line in iterator:
        first.append(line)
        if line.strip():
            break
    header = first[-1] if first else ""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    return itertools.chain(first, iterator), delimiter


class Inventory:
    """The inventory file, checked: the first pass runs on construction, the second in
    :meth:`items`. Needs no database: ``school_exists`` says which school units exist."""

    def __init__(self, source: InventorySource, *, school_exists: Callable[[str], bool],
                 today: dt.date | None = None) -> None:
        if isinstance(source, Path | str):
            self._source: Path | str | list[str] = source
        else:
            self._source = list(source)
        self._school_exists = school_exists
        self._today = today or dt.date.today()
        self._students: list[_Student] = []
        self._by_personnummer: dict[int, int] = {}  # the 12 digits, as a number
        self._owners = array("i")  # per data row: its student's index, or _NO_STUDENT
        self._checksums = array("I")  # per data row: to notice a file changed in between
        self._errors: dict[int, str] = {}
        self._general: dict[int, GeneralItem] = {}
        self._order: tuple[int, ...] = ()
        self._unreadable: list[tuple[int, str, str]] = []
        self._last_text: str | None = None
        self._last_parsed: Personnummer | InvalidPersonnummerError = InvalidPersonnummerError()
        self.rows = 0
        """Data rows in the file (blank lines are not rows)."""
        self._survey()

    # -- public view of the first pass ----------------------------------------------

    @property
    def students(self) -> int:
        """Distinct students named in the file (good or bad)."""
        return len(self._students)

    @property
    def good_students(self) -> int:
        """Students with no bad row (captured unless already in the store)."""
        return sum(1 for s in self._students if not s.bad_lines)

    def candidates(self) -> Iterator[str]:
        """Normalised personnummer of every student that will be captured if new."""
        for student_index, student in enumerate(self._students):
            if not student.bad_lines:
                yield self._key_of(student_index)

    def general_items(self) -> list[GeneralItem]:
        return list(self._general.values())

    # -- reading ----------------------------------------------------------------------

    def _open(self) -> AbstractContextManager[Iterable[str]]:
        if isinstance(self._source, Path):
            return self._source.open(encoding="utf-8-sig", newline="")
        if isinstance(self._source, str):
            return nullcontext(io.StringIO(self._source.removeprefix("\ufeff"), newline=""))
        lines = self._source
        if lines and lines[0].startswith("\ufeff"):
            lines = [lines[0][1:], *lines[1:]]
        return nullcontext(lines)

    def _records(self) -> Iterator[tuple[int, list[str]]]:
        """(first line of the row, fields) for every data row; checks the header."""
        line = 0
        try:
            with self._open() as opened:
                lines, delimiter = sniff_delimiter(opened)
                reader = csv.reader(lines, delimiter=delimiter, strict=True)
                header: list[str] | None = None
                for fields in reader:
                    start, line = line + 1, reader.line_num
                    if not any(f.strip() for f in fields):
                        continue  # blank lines (and rows of empty cells) are not rows
                    if header is None:
                        header = fields
                        order = self._read_header(start, header)
                        if self._order and order != self._order:
                            raise self._changed()
                        self._order = order
                        continue
                    yield start, fields
                if header is None:
                    raise InvalidInputError("the inventory is empty: it needs a header line "
                                            f"({','.join(COLUMNS)})", field="file")
        except csv.Error as error:
            raise InvalidInputError(f"line {line + 1}: the CSV cannot be read ({error})",
                                    field="file") from None
        except UnicodeDecodeError:
            raise InvalidInputError(f"the file is not UTF-8 (after line {line})",
                                    field="file") from None

    @staticmethod
    def _read_header(line: int, header: list[str]) -> tuple[int, ...]:
        """Where each of COLUMNS is in the file's rows."""
        names = [h.strip().lower() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        unknown = [n for n in names if n not in COLUMNS]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if missing or unknown or repeated:
            problems = []
            if missing:
                problems.append("missing " + ", ".join(missing))
            if unknown:
                problems.append("unknown " + ", ".join(repr(u) for u in unknown))
            if repeated:
                problems.append("repeated " + ", ".join(repeated))
            raise InvalidInputError(
                f"line {line}: the header must name the columns {','.join(COLUMNS)} "
                f"({'; '.join(problems)})", field="file")
        return tuple(names.index(name) for name in COLUMNS)

    @staticmethod
    def _checksum(fields: list[str]) -> int:
        # Both passes run in one process, so the built-in hash is stable between them.
        return hash(tuple(fields)) & 0xFFFFFFFF

    def _values(self, fields: list[str]) -> list[str]:
        """The row's values in the order of COLUMNS, stripped ("" where missing)."""
        count = len(fields)
        return [fields[i].strip() if i < count else "" for i in self._order]

    # -- first pass ---------------------------------------------------------------------

    def _survey(self) -> None:
        seen_general: dict[tuple[str, str, str], int] = {}
        for line, fields in self._records():
            self.rows += 1
            self._checksums.append(self._checksum(fields))
            values = self._values(fields)
            kind = values[KIND]
            if len(fields) != len(COLUMNS):
                # The values may have slid into the wrong columns: check nothing else.
                self._reject(line, values, f"expected {len(COLUMNS)} fields, found "
                             f"{len(fields)} (a comma inside a value needs quotes)")
            elif kind == GENERAL:
                self._owners.append(_NO_STUDENT)
                self._survey_general(line, values, seen_general)
            elif kind == STUDENT:
                self._survey_student(line, values)
            else:
                self._reject(line, values, f"kind {kind!r} is unknown; use {STUDENT} or "
                             f"{GENERAL}" if kind else f"kind is missing ({STUDENT} or "
                             f"{GENERAL})")
        self._attribute_unreadable()

    def _parse(self, text: str) -> Personnummer | InvalidPersonnummerError:
        # A student's rows usually follow each other: parse each written form once.
        if text != self._last_text:
            self._last_text = text
            try:
                self._last_parsed = Personnummer.parse(text, today=self._today)
            except InvalidPersonnummerError as error:
                self._last_parsed = error
        return self._last_parsed

    def _survey_student(self, line: int, v: list[str]) -> None:
        text, name, school = v[PERSONNUMMER], v[NAME], v[SCHOOL_ID]
        parsed = self._parse(text) if text else None
        problems: list[str] = []
        if parsed is None:
            problems.append("personnummer is missing")
        elif isinstance(parsed, InvalidPersonnummerError):
            problems.append(f"personnummer: {parsed}")
        if not name:
            problems.append("name is missing")
        if not school:
            problems.append("school_id is missing")
        elif not self._school_exists(school):
            problems.append(f"school unit {school!r} is not registered")
        identified = not problems or bool(name and school and self._school_exists(school))
        problems += _check_document(v[TITLE], v[SHA256].lower(), v[PAGES])
        if not v[CATEGORY]:
            problems.append("category is missing")
        if isinstance(parsed, Personnummer):
            student = self._owner(parsed)
            if identified:  # only a row with a good name and school unit speaks for them
                problems += self._disagreements(student, line, name, school, v[CLASS])
            if problems:
                student.reject(line)
        else:
            self._orphan(line, name, school)
        if problems:
            self._errors[line] = "; ".join(problems)

    def _reject(self, line: int, v: list[str], reason: str) -> None:
        """A row that is bad as a whole; it still holds back the student it names."""
        self._errors[line] = reason
        parsed = self._parse(v[PERSONNUMMER]) if v[PERSONNUMMER] else None
        if isinstance(parsed, Personnummer):
            self._owner(parsed).reject(line)
        else:
            self._orphan(line, v[NAME], v[SCHOOL_ID])

    def _owner(self, pnr: Personnummer) -> _Student:
        """The student this row belongs to (made on their first row); counts the row."""
        key = int(pnr.normalized)
        index = self._by_personnummer.get(key)
        if index is None:
            index = len(self._students)
            self._by_personnummer[key] = index
            self._students.append(_Student(pnr.formatted()))
        self._owners.append(index)
        student = self._students[index]
        student.rows += 1
        return student

    def _orphan(self, line: int, name: str, school: str) -> None:
        self._owners.append(_NO_STUDENT)
        self._unreadable.append((line, name.casefold(), school))

    @staticmethod
    def _disagreements(student: _Student, line: int, name: str, school: str,
                       class_name: str) -> list[str]:
        """How this row disagrees with the student's first row that named them."""
        if not student.first_line:
            student.name, student.school_id, student.first_line = name, sys.intern(school), line
        problems = []
        if name != student.name:
            problems.append(f"name differs from line {student.first_line} of this student")
        if school != student.school_id:
            problems.append(f"school_id differs from line {student.first_line} of this "
                            "student")
        if class_name:
            if not student.class_name:
                student.class_name = sys.intern(class_name)
            elif class_name != student.class_name:
                problems.append(f"class differs from the class on this student's earlier "
                                f"rows ({student.class_name!r})")
        return problems

    def _attribute_unreadable(self) -> None:
        """Rows without a readable personnummer hold back the student with the same name
        and school unit, when the file has exactly one."""
        if not self._unreadable:
            return
        by_name: dict[tuple[str, str], list[_Student]] = {}
        for student in self._students:
            by_name.setdefault((student.name.casefold(), student.school_id), []).append(student)
        for line, name, school in self._unreadable:
            matches = by_name.get((name, school), [])
            if name and len(matches) == 1:
                matches[0].reject(line)

    def _survey_general(self, line: int, v: list[str],
                        seen: dict[tuple[str, str, str], int]) -> None:
        problems = []
        present = [COLUMNS[c] for c in (PERSONNUMMER, NAME, CLASS, PAGES) if v[c]]
        if present:
            problems.append("general information leaves personnummer, name, class and pages "
                            f"empty (found: {', '.join(present)})")
        school, category, title, sha256 = v[SCHOOL_ID], v[CATEGORY], v[TITLE], v[SHA256].lower()
        if not school:
            problems.append("school_id is missing")
        elif not self._school_exists(school):
            problems.append(f"school unit {school!r} is not registered")
        if category not in GENERAL_INFORMATION_CATEGORIES:
            allowed = ", ".join(sorted(GENERAL_INFORMATION_CATEGORIES))
            problems.append(f"category {category!r} is not general information; use one of "
                            f"{allowed}" if category else f"category is missing ({allowed})")
        problems += _check_document(title, sha256, None)
        if not problems:
            identity = (school, sha256, title)
            if identity in seen:
                problems.append("the same general information (school unit, title, sha256) "
                                f"as line {seen[identity]}")
            else:
                seen[identity] = line
                self._general[line] = GeneralItem(line, school, category, title, sha256)
        if problems:
            self._errors[line] = "; ".join(problems)

    def _key_of(self, student_index: int) -> str:
        # The normalised form is the formatted one without its hyphen (YYYYMMDDNNNC).
        return self._students[student_index].personnummer.replace("-", "")

    # -- second pass ----------------------------------------------------------------------

    def items(self) -> Iterator[InventoryItem]:
        """Every row's outcome in file order; a student when its last row is read."""
        pending: dict[int, list[tuple[int, DocumentIn]]] = {}
        index = -1
        # Where the document's fields are (the first pass has read the header).
        title, category, sha256, pages = (self._order[c] for c in (TITLE, CATEGORY, SHA256,
                                                                   PAGES))
        for index, (line, fields) in enumerate(self._records()):
            if index >= self.rows or self._checksums[index] != self._checksum(fields):
                raise self._changed()
            error = self._errors.get(line)
            if error is not None:
                yield RowError(line, error)
                continue
            general = self._general.get(line)
            if general is not None:
                yield general
                continue
            owner = self._owners[index]
            if owner == _NO_STUDENT:
                raise self._changed()
            student = self._students[owner]
            if student.bad_lines:
                yield RowError(line, _held_back(student.bad_lines))
                continue
            document = DocumentIn(fields[title].strip(), fields[category].strip(),
                                  fields[sha256].strip().lower(), int(fields[pages]))
            documents = pending.setdefault(owner, [])
            documents.append((line, document))
            if len(documents) == student.rows:
                del pending[owner]
                yield from self._complete(owner, documents)
        if pending or index + 1 != self.rows:
            raise self._changed()

    @staticmethod
    def _changed() -> InvalidInputError:
        return InvalidInputError("the file changed while it was being imported; what was "
                                 "captured so far is complete, run the import again",
                                 field="file")

    def _complete(self, owner: int, documents: list[tuple[int, DocumentIn]]
                  ) -> Iterator[InventoryItem]:
        student = self._students[owner]
        first_seen: dict[str, int] = {}
        repeated: dict[int, int] = {}
        for line, document in documents:
            if document.sha256 in first_seen:
                repeated[line] = first_seen[document.sha256]
            else:
                first_seen[document.sha256] = line
        if repeated:
            for line, _ in documents:
                yield RowError(line, f"the same document (sha256) as line {repeated[line]} of "
                               "this student" if line in repeated else _held_back(list(repeated)))
            return
        capture = StudentCapture(
            personnummer=student.personnummer,
            name=student.name,
            school_id=student.school_id,
            class_name=student.class_name or None,
            documents=[d for _, d in documents],
        )
        yield StudentItem(self._key_of(owner), capture, tuple(line for line, _ in documents))


# -- capturing -----------------------------------------------------------------------------


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


def captured_already(custody: Custody, candidates: Iterable[UUID], count: int) -> set[UUID]:
    """Which of ``count`` candidate record ids are in the store already (read lazily:
    an empty store, or a scan of its capture events, never holds them all)."""
    stored = custody.recorder.max_notification_id() or 0
    if stored == 0 or count == 0:
        return set()
    if count * _LOOKUPS_PER_SCANNED_EVENT < stored:
        return {record_id for record_id in candidates if custody.exists(record_id)}
    found: set[UUID] = set()
    position = 0
    while True:
        page = custody.recorder.select_notifications(
            position, _SCAN_PAGE, topics=_CAPTURE_TOPICS, inclusive_of_start=False)
        found.update(UUID(str(n.originator_id)) for n in page)
        if len(page) < _SCAN_PAGE:
            return found
        position = page[-1].id


@dataclass(frozen=True)
class _Pending:
    item: StudentItem | GeneralItem
    record_id: UUID


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
    """Makes the data keys, builds the records and saves one batch in one ``save``."""

    def __init__(self, custody: Custody, principal: Principal) -> None:
        self.custody = custody
        self.principal = principal

    def save(self, batch: list[_Pending]) -> _Outcome:
        outcome = _Outcome()
        subjects = self.custody.keys.new_subjects(len(batch))
        built = []
        for pending, subject in zip(batch, subjects, strict=True):
            try:
                built.append((pending, self._record(pending, subject), subject))
            except DomainError as error:  # a rule the file check does not know: report it
                outcome.rejected += [RowError(n, str(error)) for n in _lines_of(pending.item)]
                outcome.rows += _rows_of(pending.item)
        try:
            with self.custody.gate.capturing():
                self.custody.require_agreement_open()
                # bulk: the store may write a whole batch at once (binary COPY on
                # PostgreSQL), with the same lock, order and conflict check.
                self.custody.save(*(record for _, record, _ in built), bulk=True)
        except IntegrityError:
            self._save_one_by_one(built, outcome)
        else:
            for pending, _, _ in built:
                outcome.captured(pending.item)
        return outcome

    def _record(self, pending: _Pending, subject: UUID) -> Record:
        item = pending.item
        if isinstance(item, GeneralItem):
            return self.custody.prepare_general(
                self.principal, category=item.category, title=item.title,
                school_id=item.school_id, sha256=item.sha256, subject=subject,
                record_id=pending.record_id)
        # As Custody.prepare_student, minus its per-student queries: the file check
        # already knows the school units, and existence is settled per batch.
        capture = item.capture
        documents = check_documents(capture.documents)
        return Record.capture_student_documentation(
            pending.record_id,
            subject=subject,
            personnummer=capture.personnummer,
            name=capture.name,
            school_id=capture.school_id,
            class_name=capture.class_name or None,
            documents=documents,
            fingerprint=fingerprint(documents),
            actor=self.principal.id,
        )

    def _save_one_by_one(self, built: list[tuple[_Pending, Record, UUID]],
                         outcome: _Outcome) -> None:
        # The failed save has taken the records' pending events: build them again, with
        # the same keys.
        for pending, _, subject in built:
            if self.custody.exists(pending.record_id):
                outcome.skipped(pending.item)
                continue
            try:
                with self.custody.gate.capturing():
                    self.custody.require_agreement_open()
                    self.custody.save(self._record(pending, subject))
            except IntegrityError:
                outcome.skipped(pending.item)  # captured by someone else this very moment
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
        documents = check_documents(item.capture.documents)
        return bool(self.custody.record(record_id).fingerprint != fingerprint(documents))

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
    require_capture(principal, doing="import the Unikum inventory")
    if batch_size < 1:
        raise InvalidInputError("the batch size must be at least 1", field="batch_size")
    inventory = Inventory(source, school_exists=registered_schools(custody))
    general = inventory.general_items()
    candidates = itertools.chain(
        (custody.blind.student_record_id(key) for key in inventory.candidates()),
        (general_record_id(custody, g.school_id, g.sha256, g.title) for g in general))
    existing = captured_already(custody, candidates, inventory.good_students + len(general))
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
