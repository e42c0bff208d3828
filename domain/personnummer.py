"""Swedish personal identity numbers (personnummer) as a validated value object.

A pupil's record is identified by a personnummer, or by a coordination number
(samordningsnummer, day of month + 60) for people not registered in Sweden.
This module parses the written forms, decides the century of 10-digit forms,
checks the calendar date and the Luhn check digit, and gives a normalized
12-digit form and a century-aware sort key.

It imports only the standard library, so the domain layer stays free of
framework and I/O dependencies.

Error messages say what is wrong without repeating the whole number, so they
can be shown to a user or logged without leaking the full identity number.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Final

__all__ = [
    "InvalidPersonnummerError",
    "Personnummer",
    "luhn_check_digit",
    "synthetic",
]


def synthetic(
    birth: datetime.date, birth_number: int, *, coordination: bool = False
) -> Personnummer:
    """Build a valid Personnummer for test data, computing the check digit.

    ``birth`` is the real birth date; with ``coordination=True`` the day is
    written as day + 60 (a samordningsnummer). ``birth_number`` is 0-999.
    """
    if not 0 <= birth_number <= 999:
        raise InvalidPersonnummerError(
            f"birth number must be between 000 and 999, not {birth_number}"
        )
    written_day = birth.day + (_COORDINATION_OFFSET if coordination else 0)
    yymmdd = f"{birth.year % 100:02d}{birth.month:02d}{written_day:02d}"
    nnn = f"{birth_number:03d}"
    return Personnummer(
        century=birth.year // 100,
        yymmdd=yymmdd,
        birth_number=nnn,
        check_digit=luhn_check_digit(yymmdd + nnn),
    )


class InvalidPersonnummerError(ValueError):
    """Raised with a message that says exactly what is wrong, a stable ``code`` for each
    distinct meaning (``personnummer_check_digit``...) and the values the message names
    (``params``), so that other languages need not parse the English."""

    def __init__(self, message: str = "", *, code: str = "personnummer_invalid",
                 **params: object) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


_COORDINATION_OFFSET: Final = 60

_EXPECTED_FORMS: Final = (
    "expected YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC, YYYYMMDD-NNNC or YYYYMMDDNNNC"
)

# [0-9] rather than \d: \d also matches non-ASCII digits (Arabic-Indic, full-width, ...).
_PATTERN: Final = re.compile(
    r"(?P<century>[0-9]{2})?(?P<yymmdd>[0-9]{6})(?P<sep>[-+]?)"
    r"(?P<birth_number>[0-9]{3})(?P<check>[0-9])"
)

_MONTH_NAMES: Final = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def luhn_check_digit(nine_digits: str) -> int:
    """Return the Luhn check digit for the nine digits YYMMDDNNN.

    Weights 2, 1, 2, 1, ... from the left; the digits of each product are
    summed; the check digit is (10 - sum % 10) % 10.
    """
    if len(nine_digits) != 9 or not all("0" <= c <= "9" for c in nine_digits):
        raise InvalidPersonnummerError(
            f"Luhn input must be exactly 9 digits (YYMMDDNNN), got {len(nine_digits)} characters"
        )
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _is_digits(value: str, length: int) -> bool:
    return len(value) == length and all("0" <= c <= "9" for c in value)


def _real_birth_date(century: int, yymmdd: str) -> datetime.date:
    """The real birth date, or an error naming the part that does not exist."""
    year = century * 100 + int(yymmdd[0:2])
    month = int(yymmdd[2:4])
    written_day = int(yymmdd[4:6])
    if year < datetime.MINYEAR:
        raise InvalidPersonnummerError(f"year {year:04d} does not exist",
                                       code="personnummer_year", year=f"{year:04d}")
    if not 1 <= month <= 12:
        raise InvalidPersonnummerError(f"month {month:02d} does not exist",
                                       code="personnummer_month", month=f"{month:02d}")
    if written_day > _COORDINATION_OFFSET:
        day = written_day - _COORDINATION_OFFSET
        note = f" (coordination number day {written_day} - 60)"
    elif written_day > 31:
        raise InvalidPersonnummerError(
            f"day {written_day} does not exist "
            "(days are 01-31, or 61-91 for a coordination number)",
            code="personnummer_day", day=written_day,
        )
    else:
        day = written_day
        note = ""
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise InvalidPersonnummerError(
            f"day {day} does not exist in {_MONTH_NAMES[month - 1]} {year}{note}",
            code="personnummer_day_in_month", day=day, month=month, year=year,
        ) from None


def _age_on(birth: datetime.date, today: datetime.date) -> int:
    """Completed years on ``today`` (someone born on 29 February ages on 1 March)."""
    had_birthday = (today.month, today.day) >= (birth.month, birth.day)
    return today.year - birth.year - (0 if had_birthday else 1)


def _century_for_short_form(yymmdd: str, separator: str, today: datetime.date) -> int:
    """Century for a 10-digit form, relative to ``today``.

    The latest century in which the (real) birth date is not after today;
    with ``+`` (100 or older) one century earlier. Compared as tuples so that
    a date that does not exist is reported later by the calendar check.
    """
    yy = int(yymmdd[0:2])
    month = int(yymmdd[2:4])
    day = int(yymmdd[4:6])
    if day > _COORDINATION_OFFSET:
        day -= _COORDINATION_OFFSET
    century = today.year // 100
    if (century * 100 + yy, month, day) > (today.year, today.month, today.day):
        century -= 1
    if separator == "+":
        century -= 1
    return century


@dataclass(frozen=True, slots=True)
class Personnummer:
    """A valid Swedish personnummer or samordningsnummer.

    Construct with :meth:`parse` (which also checks the date against today
    and the meaning of a ``+`` separator) or :func:`synthetic`. Direct
    construction validates the fields, the calendar date and the check digit.
    """

    century: int
    yymmdd: str
    birth_number: str
    check_digit: int

    def __post_init__(self) -> None:
        if isinstance(self.century, bool) or not isinstance(self.century, int):
            raise InvalidPersonnummerError("century must be an integer")
        if not 0 <= self.century <= 99:
            raise InvalidPersonnummerError(f"century must be between 0 and 99, not {self.century}")
        if not isinstance(self.yymmdd, str) or not _is_digits(self.yymmdd, 6):
            raise InvalidPersonnummerError("date part must be exactly 6 digits (YYMMDD)")
        if not isinstance(self.birth_number, str) or not _is_digits(self.birth_number, 3):
            raise InvalidPersonnummerError("birth number must be exactly 3 digits")
        if isinstance(self.check_digit, bool) or not isinstance(self.check_digit, int):
            raise InvalidPersonnummerError("check digit must be an integer")
        if not 0 <= self.check_digit <= 9:
            raise InvalidPersonnummerError(
                f"check digit must be between 0 and 9, not {self.check_digit}"
            )
        _real_birth_date(self.century, self.yymmdd)
        expected = luhn_check_digit(self.yymmdd + self.birth_number)
        if self.check_digit != expected:
            raise InvalidPersonnummerError(
                f"check digit should be {expected}, not {self.check_digit}",
                code="personnummer_check_digit", expected=expected, found=self.check_digit,
            )

    @classmethod
    def parse(cls, text: str, *, today: datetime.date | None = None) -> Personnummer:
        """Parse a written personnummer or samordningsnummer.

        Accepts ``YYMMDD-NNNC``, ``YYMMDD+NNNC``, ``YYMMDDNNNC``,
        ``YYYYMMDD-NNNC`` and ``YYYYMMDDNNNC`` (surrounding whitespace is
        ignored); ``YYYYMMDD+NNNC`` only for someone who is 100 or older.
        For the 10-digit forms the century is decided relative to ``today``
        (default: the current date): ``-`` or no separator means under 100,
        ``+`` means 100 or older.
        """
        if today is None:
            today = datetime.date.today()
        match = _PATTERN.fullmatch(text.strip())
        if match is None:
            raise InvalidPersonnummerError(f"not a personnummer: {_EXPECTED_FORMS}",
                                           code="personnummer_format")
        yymmdd = match["yymmdd"]
        separator = match["sep"]
        if match["century"] is None:
            century = _century_for_short_form(yymmdd, separator, today)
        else:
            century = int(match["century"])

        birth = _real_birth_date(century, yymmdd)
        if birth > today:
            raise InvalidPersonnummerError(
                f"birth date {birth.isoformat()} is in the future (today is {today.isoformat()})",
                code="personnummer_in_future", birth=birth.isoformat(), today=today.isoformat(),
            )
        if match["century"] is not None and separator == "+":
            age = _age_on(birth, today)
            if age < 100:
                raise InvalidPersonnummerError(
                    f"'+' separator means 100 years or older, but this person is {age}",
                    code="personnummer_plus_separator", age=age,
                )
        return cls(
            century=century,
            yymmdd=yymmdd,
            birth_number=match["birth_number"],
            check_digit=int(match["check"]),
        )

    @property
    def is_coordination_number(self) -> bool:
        """True for a samordningsnummer (day of month written as day + 60)."""
        return int(self.yymmdd[4:6]) > _COORDINATION_OFFSET

    @property
    def birth_date(self) -> datetime.date:
        """The real birth date (day - 60 for coordination numbers)."""
        return _real_birth_date(self.century, self.yymmdd)

    @property
    def normalized(self) -> str:
        """The 12 digits ``YYYYMMDDNNNC``."""
        return f"{self.century:02d}{self.yymmdd}{self.birth_number}{self.check_digit}"

    def formatted(self) -> str:
        """The 12-digit form with a hyphen, ``YYYYMMDD-NNNC``."""
        return f"{self.century:02d}{self.yymmdd}-{self.birth_number}{self.check_digit}"

    @property
    def sort_key(self) -> tuple[datetime.date, str, int]:
        """(real birth date with century, birth number, check digit)."""
        return (self.birth_date, self.birth_number, self.check_digit)

    def __str__(self) -> str:
        return self.formatted()
