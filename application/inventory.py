"""Reading the Unikum inventory (``custody import FILE.csv``, and the same CSV posted to
the API): its format, ``;``/``,`` detection, the BOM and the row errors.

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
- **Two passes over the file.** The first validates every row and groups rows by
  student, keeping per student only its identity and row count; the second reads the
  documents again and captures each student as soon as its last row has been read. No
  document is held longer than its student needs (a file sorted by student holds one
  student's documents at a time): memory is about 450 bytes per student and 8 per row,
  some 0.5 GB for 1.1 million students. A checksum of each row, taken in the first pass,
  stops the import (with everything captured so far intact) if the file changed between.

Only the file is read here (no database: ``school_exists`` says which school units
exist); :mod:`application.importing` captures what this module reads. The rules of a
document's fields and of a personnummer are the domain's (:mod:`domain.documents`,
:mod:`domain.fingerprints`, :mod:`domain.personnummer`): each row is checked with them,
every problem of a row reported at once.
"""


from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from application.service import StudentCapture
from domain.culling import GENERAL_INFORMATION_CATEGORIES
from domain.documents import Document, check_category, check_pages, check_title
from domain.errors import InvalidInputError
from domain.fingerprints import Fingerprint
from domain.personnummer import InvalidPersonnummerError, Personnummer
from domain.record import Kind

COLUMNS: Final = ("kind", "personnummer", "name", "school_id", "class", "title", "category",
                  "sha256", "pages")
"""The inventory's header, in the documented order (any order is accepted)."""

# Positions in a row's values, which are always read in the order of COLUMNS.
KIND, PERSONNUMMER, NAME, SCHOOL_ID, CLASS, TITLE, CATEGORY, SHA256, PAGES = range(9)

STUDENT: Final = Kind.STUDENT_DOCUMENTATION.value
GENERAL: Final = Kind.GENERAL_INFORMATION.value

_NO_STUDENT: Final = -1
_SHOWN_LINES: Final = 5

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


def _problems(*checks: Callable[[], object]) -> list[str]:
    """What each of the domain's checks says is wrong (every check runs)."""
    problems = []
    for check in checks:
        try:
            check()
        except InvalidInputError as error:
            problems.append(str(error))
    return problems


def _check_document(title: str, sha256: str, pages: str | None) -> list[str]:
    """The domain's document rules on a row's fields (``pages`` None: not checked)."""
    return _problems(lambda: check_title(title), lambda: Fingerprint.parse(sha256),
                     *(() if pages is None else (lambda: check_pages(pages),)))


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
        problems += _problems(lambda: check_category(v[CATEGORY]))
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
        pending: dict[int, list[tuple[int, Document]]] = {}
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
            # The first pass checked these fields with the domain's rules.
            document = Document(fields[title].strip(), fields[category].strip(),
                                Fingerprint(fields[sha256].strip().lower()),
                                int(fields[pages]))
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

    def _complete(self, owner: int, documents: list[tuple[int, Document]]
                  ) -> Iterator[InventoryItem]:
        student = self._students[owner]
        first_seen: dict[Fingerprint, int] = {}
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
            personnummer=Personnummer.parse(student.personnummer, today=self._today),
            name=student.name,
            school_id=student.school_id,
            class_name=student.class_name or None,
            documents=[d for _, d in documents],
        )
        yield StudentItem(self._key_of(owner), capture, tuple(line for line, _ in documents))
