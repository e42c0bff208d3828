"""Every domain error has a stable code, the API returns it, and the web pages have a
Swedish and an English text for every code (filled from the error's own values)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from uuid import uuid4

import pytest

import api
import application
import domain
import infrastructure
from api.problems import domain_problem
from api.web.error_messages import ERROR_TEXTS, error_text, placeholders
from api.web.messages import for_error
from application.service import parse_personnummer
from domain.documents import Document
from domain.errors import DomainError, InvalidInputError, NotAuthorisedError, NotFoundError
from domain.personnummer import InvalidPersonnummerError, Personnummer
from domain.record import Record

SNAKE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def every_error_class() -> list[type[DomainError]]:
    for package in (domain, application, infrastructure, api):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    found: list[type[DomainError]] = []
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def every_code() -> set[str]:
    codes = set()
    for cls in every_error_class():
        codes.add(cls.code)
        codes.update(cls.CODES)
    return codes


class TestCodes:
    def test_every_error_class_has_its_own_snake_case_code(self) -> None:
        classes = every_error_class()
        codes = [cls.code for cls in classes]
        assert all(SNAKE.match(code) for code in codes), codes
        assert len(codes) == len(set(codes)), "two classes share a code"

    def test_every_personnummer_error_names_a_code_the_input_error_may_carry(self) -> None:
        source = importlib.import_module("domain.personnummer").__file__ or ""
        with open(source, encoding="utf-8") as handle:
            named = set(re.findall(r'code="([a-z_]+)"', handle.read()))
        assert named and named <= InvalidInputError.CODES

    @pytest.mark.parametrize("text, code", [
        ("20040315-1237", "personnummer_check_digit"),
        ("20041315-1236", "personnummer_month"),
        ("hello", "personnummer_format"),
        ("20040231-1236", "personnummer_day_in_month"),
    ])
    def test_each_kind_of_personnummer_mistake_has_its_own_code(self, text: str,
                                                                 code: str) -> None:
        with pytest.raises(InvalidInputError) as caught:
            parse_personnummer(text)
        assert caught.value.code == code
        assert caught.value.field == "personnummer"


class TestTexts:
    def test_every_error_code_has_a_swedish_and_an_english_text(self) -> None:
        missing = [code for code in every_code()
                   if code not in ERROR_TEXTS or not ERROR_TEXTS[code].sv
                   or not ERROR_TEXTS[code].en]
        assert missing == []

    def test_both_languages_name_the_same_placeholders(self) -> None:
        for code, text in ERROR_TEXTS.items():
            assert placeholders(text.sv) == placeholders(text.en), code

    def test_no_text_is_kept_for_a_code_nothing_raises(self) -> None:
        assert set(ERROR_TEXTS) <= every_code()

    def test_a_wrong_check_digit_is_told_from_the_errors_values(self) -> None:
        try:
            Personnummer.parse("20040315-1237")
        except InvalidPersonnummerError as error:
            assert error_text(error.code, error.params, "sv") == (
                "personnummer: kontrollsiffran ska vara 6, inte 7")
        else:
            pytest.fail("a wrong check digit was accepted")

    def test_a_page_shows_a_narrowed_error_by_its_code(self) -> None:
        with pytest.raises(InvalidInputError) as caught:
            parse_personnummer("20040315-1237")
        assert for_error(caught.value, "sv").text == (
            "personnummer: kontrollsiffran ska vara 6, inte 7")
        assert for_error(caught.value, "en").text == (
            "personnummer: check digit should be 6, not 7")

    def test_a_swedish_page_without_a_rendering_shows_the_class_text(self) -> None:
        message = for_error(NotAuthorisedError("nobody wrote this sentence before"), "sv")
        assert (message.text, message.lang) == ("du har inte behörighet till detta", "sv")


class TestProblems:
    def test_the_problem_body_carries_the_code_and_keeps_the_type(self) -> None:
        with pytest.raises(InvalidInputError) as caught:
            parse_personnummer("20040315-1237")
        body = json.loads(bytes(domain_problem(caught.value).body))
        assert body["code"] == "personnummer_check_digit"
        assert body["type"].endswith("/invalid-input")
        assert body["status"] == 422

    def test_a_narrow_code_from_a_raise_site_reaches_the_problem_body(self) -> None:
        with pytest.raises(NotFoundError) as caught:
            lift_a_hold_that_is_not_there()
        body = json.loads(bytes(domain_problem(caught.value).body))
        assert body["code"] == "hold_not_found"
        assert body["type"].endswith("/not-found")
        assert body["status"] == 404
        assert "has no hold" in body["detail"]


def lift_a_hold_that_is_not_there() -> None:
    record = Record.capture_student_documentation(
        uuid4(), subject=uuid4(), personnummer=parse_personnummer("20040315-1236"),
        name="Alva Andersson", school_id="holmes", class_name=None,
        documents=[Document.of("Betyg", "grades", "0" * 64, 1)], actor="a")
    record.lift_hold(uuid4(), reason="klart", actor="a")
