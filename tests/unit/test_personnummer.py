"""Behaviour of the Personnummer value object (domain/personnummer.py).

Every test uses a fixed ``TODAY`` so that none depends on the clock.
"""

from __future__ import annotations

import dataclasses
import datetime
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.personnummer import (
    InvalidPersonnummerError,
    Personnummer,
    luhn_check_digit,
    synthetic,
)

TODAY = datetime.date(2026, 11, 29)
# Born on or before this date means 100 or older on TODAY.
HUNDREDTH_BIRTHDAY_CUTOFF = datetime.date(1926, 11, 29)

EXPECTED_FORMS = "expected YYMMDD-NNNC, YYMMDD+NNNC, YYMMDDNNNC, YYYYMMDD-NNNC or YYYYMMDDNNNC"

# "19811218-9876" written with full-width digits (U+FF10..U+FF19), which str.isdigit accepts.
FULL_WIDTH_PERSONNUMMER = "19811218-9876".translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})

birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=TODAY)
birth_numbers = st.integers(min_value=0, max_value=999)


def _with_check(date_digits: str, birth_number: str, separator: str = "-") -> str:
    """Written form with the correct Luhn digit (over the last 6 date digits + NNN)."""
    check = luhn_check_digit(date_digits[-6:] + birth_number)
    return f"{date_digits}{separator}{birth_number}{check}"


def _parse(text: str) -> Personnummer:
    return Personnummer.parse(text, today=TODAY)


class TestKnownValidNumbers:
    @pytest.mark.parametrize(
        ("text", "century", "yymmdd", "birth_number", "check_digit", "birth_date"),
        [
            ("19811218-9876", 19, "811218", "987", 6, datetime.date(1981, 12, 18)),
            ("811218-9876", 19, "811218", "987", 6, datetime.date(1981, 12, 18)),
            ("8112189876", 19, "811218", "987", 6, datetime.date(1981, 12, 18)),
            ("198112189876", 19, "811218", "987", 6, datetime.date(1981, 12, 18)),
            ("19121212-1212", 19, "121212", "121", 2, datetime.date(1912, 12, 12)),
            ("121212+1212", 19, "121212", "121", 2, datetime.date(1912, 12, 12)),
            ("121212-1212", 20, "121212", "121", 2, datetime.date(2012, 12, 12)),
            ("19121212+1212", 19, "121212", "121", 2, datetime.date(1912, 12, 12)),
            ("19701063-2391", 19, "701063", "239", 1, datetime.date(1970, 10, 3)),
            ("7010632391", 19, "701063", "239", 1, datetime.date(1970, 10, 3)),
        ],
    )
    def test_known_number_parses_to_its_fields(
        self,
        text: str,
        century: int,
        yymmdd: str,
        birth_number: str,
        check_digit: int,
        birth_date: datetime.date,
    ) -> None:
        pnr = _parse(text)

        assert pnr.century == century
        assert pnr.yymmdd == yymmdd
        assert pnr.birth_number == birth_number
        assert pnr.check_digit == check_digit
        assert pnr.birth_date == birth_date

    @pytest.mark.parametrize("text", ["19811218-9876", "811218-9876", "8112189876", "198112189876"])
    def test_all_written_forms_of_one_number_are_the_same_value(self, text: str) -> None:
        pnr = _parse(text)

        assert pnr == Personnummer(century=19, yymmdd="811218", birth_number="987", check_digit=6)
        assert pnr.normalized == "198112189876"
        assert pnr.formatted() == "19811218-9876"
        assert str(pnr) == "19811218-9876"

    @pytest.mark.parametrize("text", ["  19811218-9876", "811218-9876\n", "\t8112189876 "])
    def test_surrounding_whitespace_is_ignored(self, text: str) -> None:
        assert _parse(text).normalized == "198112189876"

    def test_person_over_100_is_formatted_with_hyphen_in_the_twelve_digit_form(self) -> None:
        assert _parse("121212+1212").formatted() == "19121212-1212"

    def test_coordination_number_reports_the_real_birth_date(self) -> None:
        pnr = _parse("19701063-2391")

        assert pnr.is_coordination_number
        assert pnr.birth_date == datetime.date(1970, 10, 3)
        assert pnr.normalized == "197010632391"

    def test_ordinary_number_is_not_a_coordination_number(self) -> None:
        assert not _parse("19811218-9876").is_coordination_number

    def test_parse_without_today_uses_the_current_date(self) -> None:
        assert Personnummer.parse("19811218-9876").birth_date == datetime.date(1981, 12, 18)


class TestCenturyOfTenDigitForms:
    def test_hyphen_picks_the_latest_century_that_is_not_in_the_future(self) -> None:
        assert _parse(_with_check("261129", "123")).century == 20  # born today
        assert _parse(_with_check("261130", "123")).century == 19  # tomorrow would be future

    def test_no_separator_is_read_like_a_hyphen(self) -> None:
        assert _parse(_with_check("261129", "123", "")).century == 20
        assert _parse(_with_check("261130", "123", "")).century == 19

    def test_plus_means_one_hundred_or_older(self) -> None:
        assert _parse(_with_check("261129", "123", "+")).birth_date == datetime.date(1926, 11, 29)
        assert _parse(_with_check("261130", "123", "+")).birth_date == datetime.date(1826, 11, 30)

    def test_century_of_a_coordination_number_is_decided_by_the_real_day(self) -> None:
        assert _parse(_with_check("261189", "123")).century == 20  # real day 29 = today
        assert _parse(_with_check("261190", "123")).century == 19  # real day 30 = tomorrow

    def test_twelve_digit_form_with_hyphen_carries_its_own_century(self) -> None:
        pnr = _parse(_with_check("18991231", "123"))

        assert pnr.century == 18
        assert pnr.birth_date == datetime.date(1899, 12, 31)

    def test_twelve_digit_form_with_plus_is_accepted_on_the_hundredth_birthday(self) -> None:
        pnr = _parse(_with_check("19261129", "123", "+"))

        assert pnr.birth_date == datetime.date(1926, 11, 29)

    def test_twelve_digit_form_with_plus_is_rejected_for_someone_under_100(self) -> None:
        with pytest.raises(InvalidPersonnummerError, match=r"100 years or older.*is 99"):
            _parse(_with_check("19261130", "123", "+"))

    def test_plus_on_a_date_that_only_exists_in_a_leap_century_names_the_missing_day(
        self,
    ) -> None:
        # 000229 with + would be 1900-02-29, and 1900 is not a leap year.
        text = _with_check("000229", "123", "+")

        with pytest.raises(
            InvalidPersonnummerError, match="day 29 does not exist in February 1900"
        ):
            _parse(text)


class TestInvalidNumbers:
    @pytest.mark.parametrize(
        ("text", "fragment"),
        [
            ("19811218-9875", "check digit should be 6, not 5"),
            ("811218-9875", "check digit should be 6, not 5"),
            ("121212+1213", "check digit should be 2, not 3"),
            (_with_check("19811318", "987"), "month 13 does not exist"),
            (_with_check("19810018", "987"), "month 00 does not exist"),
            (_with_check("20010230", "123"), "day 30 does not exist in February 2001"),
            (_with_check("20010229", "123"), "day 29 does not exist in February 2001"),
            (_with_check("20010431", "123"), "day 31 does not exist in April 2001"),
            (_with_check("20010400", "123"), "day 0 does not exist in April 2001"),
            (_with_check("20010245", "123"), "day 45 does not exist"),
            (_with_check("20010290", "123"), "day 30 does not exist in February 2001"),
            (_with_check("20261130", "123"), "birth date 2026-11-30 is in the future"),
            (_with_check("20270101", "123"), "birth date 2027-01-01 is in the future"),
            (_with_check("19811218", "987", "+"), "'+' separator means 100 years or older"),
            ("abc", EXPECTED_FORMS),
            ("12345", EXPECTED_FORMS),
            ("", EXPECTED_FORMS),
            ("19811218--9876", EXPECTED_FORMS),
            ("19811218 9876", EXPECTED_FORMS),
            ("1981121-89876", EXPECTED_FORMS),
            ("1981121898760", EXPECTED_FORMS),
            ("811218/9876", EXPECTED_FORMS),
        ],
    )
    def test_invalid_number_is_rejected_saying_what_is_wrong(
        self, text: str, fragment: str
    ) -> None:
        with pytest.raises(InvalidPersonnummerError) as excinfo:
            _parse(text)

        assert fragment in str(excinfo.value)

    def test_wrong_check_digit_names_the_expected_digit(self) -> None:
        with pytest.raises(InvalidPersonnummerError, match=r"^check digit should be 6, not 5$"):
            _parse("19811218-9875")

    def test_leap_day_exists_in_a_leap_year(self) -> None:
        assert _parse(_with_check("20000229", "123")).birth_date == datetime.date(2000, 2, 29)

    def test_non_ascii_digits_are_rejected(self) -> None:
        with pytest.raises(InvalidPersonnummerError, match=re.escape(EXPECTED_FORMS)):
            _parse(FULL_WIDTH_PERSONNUMMER)

    def test_malformed_input_is_not_echoed_in_the_message(self) -> None:
        with pytest.raises(InvalidPersonnummerError) as excinfo:
            _parse("19811218-98761")

        assert "9876" not in str(excinfo.value)

    def test_invalid_personnummer_error_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="check digit should be"):
            _parse("19811218-9875")


class TestDirectConstruction:
    def test_constructor_rejects_a_wrong_check_digit(self) -> None:
        with pytest.raises(InvalidPersonnummerError, match="check digit should be 6, not 5"):
            Personnummer(century=19, yymmdd="811218", birth_number="987", check_digit=5)

    def test_constructor_rejects_a_date_that_does_not_exist(self) -> None:
        with pytest.raises(InvalidPersonnummerError, match="month 13 does not exist"):
            Personnummer(century=19, yymmdd="811318", birth_number="987", check_digit=5)

    @pytest.mark.parametrize(
        ("fields", "fragment"),
        [
            ({"yymmdd": "81121"}, "date part must be exactly 6 digits"),
            ({"birth_number": "98"}, "birth number must be exactly 3 digits"),
            ({"check_digit": 10}, "check digit must be between 0 and 9"),
            ({"century": 100}, "century must be between 0 and 99"),
        ],
    )
    def test_constructor_rejects_malformed_fields(
        self, fields: dict[str, object], fragment: str
    ) -> None:
        valid: dict[str, object] = {
            "century": 19,
            "yymmdd": "811218",
            "birth_number": "987",
            "check_digit": 6,
        }
        with pytest.raises(InvalidPersonnummerError, match=fragment):
            Personnummer(**{**valid, **fields})  # type: ignore[arg-type]

    def test_value_is_immutable(self) -> None:
        pnr = _parse("19811218-9876")

        with pytest.raises(dataclasses.FrozenInstanceError):
            pnr.check_digit = 5  # type: ignore[misc]

    def test_equal_values_are_interchangeable_as_dictionary_keys(self) -> None:
        by_number = {_parse("811218-9876"): "pupil"}

        assert by_number[_parse("198112189876")] == "pupil"


class TestLuhnCheckDigit:
    @pytest.mark.parametrize(
        ("nine_digits", "expected"),
        [("811218987", 6), ("121212121", 2), ("701063239", 1), ("000000000", 0)],
    )
    def test_known_check_digits(self, nine_digits: str, expected: int) -> None:
        assert luhn_check_digit(nine_digits) == expected

    @pytest.mark.parametrize(
        "bad", ["", "81121898", "8112189876", "81121898a", FULL_WIDTH_PERSONNUMMER[2:8] + "987"]
    )
    def test_input_that_is_not_nine_ascii_digits_is_rejected(self, bad: str) -> None:
        with pytest.raises(ValueError, match="exactly 9 digits"):
            luhn_check_digit(bad)


class TestSynthetic:
    def test_synthetic_builds_a_valid_number_with_the_computed_check_digit(self) -> None:
        assert synthetic(datetime.date(1981, 12, 18), 987) == _parse("19811218-9876")

    def test_synthetic_coordination_number_adds_sixty_to_the_day(self) -> None:
        pnr = synthetic(datetime.date(1970, 10, 3), 239, coordination=True)

        assert pnr == _parse("19701063-2391")
        assert pnr.is_coordination_number

    def test_synthetic_pads_small_birth_numbers(self) -> None:
        assert synthetic(datetime.date(2005, 1, 2), 7).birth_number == "007"

    @pytest.mark.parametrize("bad", [-1, 1000])
    def test_synthetic_rejects_birth_numbers_outside_three_digits(self, bad: int) -> None:
        with pytest.raises(InvalidPersonnummerError, match="between 000 and 999"):
            synthetic(datetime.date(2005, 1, 2), bad)


class TestProperties:
    @given(birth=birth_dates, number=birth_numbers)
    def test_twelve_digit_form_with_computed_check_digit_parses_and_round_trips(
        self, birth: datetime.date, number: int
    ) -> None:
        text = _with_check(birth.strftime("%Y%m%d"), f"{number:03d}")

        pnr = _parse(text)

        assert pnr.birth_date == birth
        assert not pnr.is_coordination_number
        assert pnr.formatted() == text
        assert pnr.normalized == text.replace("-", "")
        assert _parse(pnr.normalized) == pnr
        assert _parse(pnr.formatted()) == pnr
        assert pnr == synthetic(birth, number)

    @given(birth=birth_dates, number=birth_numbers)
    def test_ten_digit_form_with_the_right_separator_parses_to_the_same_value(
        self, birth: datetime.date, number: int
    ) -> None:
        twelve = _parse(_with_check(birth.strftime("%Y%m%d"), f"{number:03d}"))
        separator = "+" if birth <= HUNDREDTH_BIRTHDAY_CUTOFF else "-"

        ten = _parse(_with_check(birth.strftime("%y%m%d"), f"{number:03d}", separator))

        assert ten == twelve
        if separator == "-":
            assert _parse(_with_check(birth.strftime("%y%m%d"), f"{number:03d}", "")) == twelve

    @given(birth=birth_dates, number=birth_numbers)
    def test_twelve_digit_form_with_plus_is_accepted_only_from_the_hundredth_birthday(
        self, birth: datetime.date, number: int
    ) -> None:
        text = _with_check(birth.strftime("%Y%m%d"), f"{number:03d}", "+")

        if birth <= HUNDREDTH_BIRTHDAY_CUTOFF:
            assert _parse(text).birth_date == birth
        else:
            with pytest.raises(InvalidPersonnummerError, match="100 years or older"):
                _parse(text)

    @given(
        birth=birth_dates,
        number=birth_numbers,
        offset=st.integers(min_value=1, max_value=9),
        twelve_digits=st.booleans(),
    )
    def test_any_other_check_digit_is_rejected(
        self, birth: datetime.date, number: int, offset: int, twelve_digits: bool
    ) -> None:
        correct = synthetic(birth, number)
        wrong = (correct.check_digit + offset) % 10
        if twelve_digits:
            text = f"{correct.century:02d}{correct.yymmdd}-{correct.birth_number}{wrong}"
        else:
            separator = "+" if birth <= HUNDREDTH_BIRTHDAY_CUTOFF else "-"
            text = f"{correct.yymmdd}{separator}{correct.birth_number}{wrong}"

        with pytest.raises(InvalidPersonnummerError) as excinfo:
            _parse(text)

        assert str(excinfo.value) == f"check digit should be {correct.check_digit}, not {wrong}"

    @given(birth=birth_dates, number=birth_numbers)
    def test_coordination_numbers_parse_to_the_real_birth_date(
        self, birth: datetime.date, number: int
    ) -> None:
        written = f"{birth:%Y%m}{birth.day + 60:02d}"
        text = _with_check(written, f"{number:03d}")

        pnr = _parse(text)

        assert pnr.is_coordination_number
        assert pnr.birth_date == birth
        assert pnr.formatted() == text
        assert pnr == synthetic(birth, number, coordination=True)

    @given(text=st.text(max_size=20))
    def test_arbitrary_text_either_parses_or_raises_invalid_personnummer_error(
        self, text: str
    ) -> None:
        try:
            pnr = _parse(text)
        except InvalidPersonnummerError:
            return
        assert len(pnr.normalized) == 12

    @given(text=st.from_regex(r"[0-9]{6}([0-9]{2})?[-+]?[0-9]{4}", fullmatch=True))
    def test_any_digit_string_in_an_accepted_shape_parses_or_says_what_is_wrong(
        self, text: str
    ) -> None:
        try:
            pnr = _parse(text)
        except InvalidPersonnummerError as error:
            assert str(error)
            return
        assert pnr.birth_date <= TODAY
        assert pnr.normalized.endswith(text[-4:])

    @given(st.lists(st.tuples(birth_dates, birth_numbers, st.booleans()), max_size=30))
    def test_sorting_by_sort_key_orders_by_real_birth_date(
        self, specs: list[tuple[datetime.date, int, bool]]
    ) -> None:
        numbers = [synthetic(b, n, coordination=c) for b, n, c in specs]

        ordered = sorted(numbers, key=lambda p: p.sort_key)

        dates = [p.birth_date for p in ordered]
        assert dates == sorted(dates)


class TestSortOrder:
    def test_mixed_centuries_plus_form_and_coordination_numbers_sort_by_real_birth_date(
        self,
    ) -> None:
        expected_order = [
            _with_check("19121212", "121"),  # written as 121212+1212
            _with_check("19811218", "987"),
            _with_check("19990302", "123"),
            _with_check("19990363", "123"),  # coordination number, born 1999-03-03
            _with_check("19990304", "123"),
            _with_check("19991231", "456"),
            _with_check("20050101", "789"),
            _with_check("20050615", "321"),
        ]
        written = [
            _with_check("050615", "321"),  # 10-digit, resolves to 2005
            _with_check("990304", "123"),
            "121212+1212",
            _with_check("19990363", "123"),
            _with_check("20050101", "789"),
            _with_check("991231", "456", ""),  # 10-digit, resolves to 1999
            _with_check("19990302", "123"),
            "8112189876",
        ]

        ordered = sorted((_parse(text) for text in written), key=lambda p: p.sort_key)

        assert [p.formatted() for p in ordered] == expected_order

    def test_same_birth_date_is_ordered_by_birth_number(self) -> None:
        later = synthetic(datetime.date(2010, 5, 5), 500)
        earlier = synthetic(datetime.date(2010, 5, 5), 20)

        assert sorted([later, earlier], key=lambda p: p.sort_key) == [earlier, later]

    def test_coordination_number_sorts_with_its_real_date_not_its_written_day(self) -> None:
        coordination = synthetic(datetime.date(1999, 3, 3), 123, coordination=True)
        late_march = synthetic(datetime.date(1999, 3, 31), 123)

        assert coordination.sort_key < late_march.sort_key
