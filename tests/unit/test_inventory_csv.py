"""Reading and checking the Unikum inventory, without a database: good files become one
capture per student, every bad row is named with its line (the header is line 1)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from api.demo import SyntheticGeneral, inventory_csv, synthetic_students
from application.importing import (
    COLUMNS,
    GeneralItem,
    Inventory,
    RowError,
    StudentItem,
)
from domain.errors import InvalidInputError
from domain.personnummer import Personnummer, synthetic

HEADER = ",".join(COLUMNS)
SCHOOLS = {"holmes", "kvistberg", "fryken"}
ANNA = synthetic(dt.date(2004, 3, 15), 123).formatted()
BO = synthetic(dt.date(2005, 7, 1), 456).formatted()
CAJSA = synthetic(dt.date(2006, 11, 30), 789).formatted()
SHA = {n: f"{n:x}".rjust(64, "a") for n in range(1, 40)}


def bad_check_digit(personnummer: str) -> str:
    return personnummer[:-1] + str((int(personnummer[-1]) + 1) % 10)


def doc(pnr: str, name: str = "Anna Holm", school: str = "holmes", klass: str = "7A", *,
        title: str = "IUP ht 2017", category: str = "iup", sha: int = 1,
        pages: str = "3") -> str:
    return f"student_documentation,{pnr},{name},{school},{klass},{title},{category}," \
           f"{SHA[sha]},{pages}"


def general(title: str = "Veckobrev v. 47", category: str = "newsletter",
            school: str = "holmes", sha: int = 30) -> str:
    return f"general_information,,,{school},,{title},{category},{SHA[sha]},"


def read(*rows: str, header: str = HEADER) -> tuple[list[StudentItem], list[GeneralItem],
                                                    dict[int, str]]:
    inventory = Inventory("\n".join([header, *rows]) + "\n", school_exists=SCHOOLS.__contains__)
    students: list[StudentItem] = []
    items: list[GeneralItem] = []
    errors: dict[int, str] = {}
    for item in inventory.items():
        if isinstance(item, StudentItem):
            students.append(item)
        elif isinstance(item, GeneralItem):
            items.append(item)
        else:
            assert isinstance(item, RowError)
            assert item.line not in errors, f"line {item.line} reported twice"
            errors[item.line] = item.reason
    return students, items, errors


class TestGoodInventory:
    def test_rows_of_one_student_become_one_capture_with_every_document(self) -> None:
        students, _, errors = read(doc(ANNA, sha=1), doc(ANNA, title="Åtgärdsprogram", sha=2),
                                   doc(BO, name="Bo Berg", sha=3))
        assert errors == {}
        assert [str(s.capture.personnummer) for s in students] == [ANNA, BO]
        anna = students[0]
        assert anna.lines == (2, 3)
        assert [d.title for d in anna.capture.documents] == ["IUP ht 2017", "Åtgärdsprogram"]
        assert anna.capture.name == "Anna Holm" and anna.capture.school_id == "holmes"
        assert anna.capture.class_name == "7A"

    def test_personnummer_written_in_different_forms_is_one_student(self) -> None:
        short = ANNA[2:]  # YYMMDD-NNNC
        students, _, errors = read(doc(ANNA, sha=1), doc(short, sha=2),
                                   doc(ANNA.replace("-", ""), sha=3))
        assert errors == {}
        assert len(students) == 1
        assert students[0].normalized == ANNA.replace("-", "")
        assert len(students[0].capture.documents) == 3

    def test_rows_of_a_student_may_be_scattered_through_the_file(self) -> None:
        students, _, errors = read(doc(ANNA, sha=1), doc(BO, name="Bo Berg", sha=2),
                                   doc(ANNA, sha=3))
        assert errors == {}
        assert {str(s.capture.personnummer): s.lines for s in students} == {ANNA: (2, 4), BO: (3,)}

    def test_general_information_rows_become_items_of_their_own(self) -> None:
        _, items, errors = read(general(), general("Frånvarostatistik", "statistics", sha=31))
        assert errors == {}
        assert [(i.line, i.category, i.title) for i in items] == [
            (2, "newsletter", "Veckobrev v. 47"), (3, "statistics", "Frånvarostatistik")]

    def test_columns_may_come_in_any_order(self) -> None:
        header = "pages,sha256,category,title,class,school_id,name,personnummer,kind"
        row = f"3,{SHA[1]},iup,IUP,7A,holmes,Anna Holm,{ANNA},student_documentation"
        students, _, errors = read(row, header=header)
        assert errors == {}
        assert students[0].capture.documents[0].pages == 3

    def test_blank_lines_are_not_rows_but_line_numbers_follow_the_file(self) -> None:
        students, _, errors = read("", doc(ANNA, sha=1), ",,,,,,,,", doc(BO, pages="0"))
        assert len(students) == 1
        assert list(errors) == [5]

    def test_a_quoted_line_break_keeps_later_line_numbers_true(self) -> None:
        multi = doc(ANNA, title='"IUP\nfortsättning"', sha=1)
        students, _, errors = read(multi, doc(BO, name="Bo Berg", pages="x"))
        assert students[0].capture.documents[0].title == "IUP\nfortsättning"
        assert list(errors) == [4]

    def test_class_may_be_left_empty_on_some_rows_of_a_student(self) -> None:
        students, _, errors = read(doc(ANNA, klass="", sha=1), doc(ANNA, klass="8B", sha=2))
        assert errors == {}
        assert students[0].capture.class_name == "8B"

    def test_upper_case_sha256_and_surrounding_spaces_are_accepted(self) -> None:
        row = doc(ANNA, sha=1).replace(SHA[1], f" {SHA[1].upper()} ")
        students, _, errors = read(row)
        assert errors == {}
        assert students[0].capture.documents[0].sha256.hex == SHA[1]

    def test_a_byte_order_mark_before_the_header_is_ignored(self, tmp_path: Path) -> None:
        path = tmp_path / "inventory.csv"
        path.write_text("\ufeff" + HEADER + "\n" + doc(ANNA) + "\n", encoding="utf-8")
        items = list(Inventory(path, school_exists=SCHOOLS.__contains__).items())
        assert [type(i) for i in items] == [StudentItem]

    def test_a_coordination_number_is_a_student_like_any_other(self) -> None:
        coordination = synthetic(dt.date(2006, 5, 9), 321, coordination=True).formatted()
        students, _, errors = read(doc(coordination))
        assert errors == {}
        assert str(students[0].capture.personnummer) == coordination


class TestBadRowsAreNamedWithTheirLine:
    def test_wrong_check_digit_gives_the_value_objects_reason(self) -> None:
        _, _, errors = read(doc(bad_check_digit(ANNA)))
        expected = ANNA[-1]
        assert errors[2].startswith(f"personnummer: check digit should be {expected}, not ")

    def test_missing_personnummer(self) -> None:
        _, _, errors = read(doc(""))
        assert "personnummer is missing" in errors[2]

    def test_unknown_school_unit(self) -> None:
        _, _, errors = read(doc(ANNA, school="hogwarts"))
        assert errors == {2: "school unit 'hogwarts' is not registered"}

    def test_missing_title(self) -> None:
        _, _, errors = read(doc(ANNA, title=" "))
        assert errors == {2: "title is missing"}

    def test_missing_name_and_category_are_both_reported(self) -> None:
        _, _, errors = read(doc(ANNA, name="", category=""))
        assert errors == {2: "name is missing; category is missing"}

    @pytest.mark.parametrize("sha", ["abc", "g" * 64, "a" * 63, ""])
    def test_bad_sha256(self, sha: str) -> None:
        _, _, errors = read(doc(ANNA).replace(SHA[1], sha))
        assert "sha256" in errors[2]

    @pytest.mark.parametrize("pages", ["0", "-2", "2.5", "tre", ""])
    def test_pages_must_be_a_positive_whole_number(self, pages: str) -> None:
        _, _, errors = read(doc(ANNA, pages=pages))
        assert errors[2].startswith("pages ")

    def test_unknown_kind(self) -> None:
        row = doc(ANNA).replace("student_documentation", "elevdokument")
        _, _, errors = read(row)
        assert errors == {2: "kind 'elevdokument' is unknown; use student_documentation or "
                             "general_information"}

    def test_a_row_with_too_many_fields_is_told_to_quote_its_commas(self) -> None:
        _, _, errors = read(doc(ANNA, title="IUP, höst"))
        assert errors[2].startswith("expected 9 fields, found 10")

    def test_rows_of_one_student_that_disagree_on_the_name(self) -> None:
        _, _, errors = read(doc(ANNA, sha=1), doc(ANNA, name="Anna Holmberg", sha=2))
        assert errors[3] == "name differs from line 2 of this student"
        assert errors[2].startswith("not captured")

    def test_rows_of_one_student_that_disagree_on_the_school_unit(self) -> None:
        _, _, errors = read(doc(ANNA, sha=1), doc(ANNA, school="fryken", sha=2))
        assert errors[3] == "school_id differs from line 2 of this student"

    def test_a_bad_first_row_does_not_speak_for_the_student(self) -> None:
        _, _, errors = read(doc(ANNA, school="hogwarts", sha=1), doc(ANNA, sha=2))
        assert errors[2] == "school unit 'hogwarts' is not registered"
        assert errors[3].startswith("not captured")

    def test_rows_of_one_student_that_disagree_on_the_class(self) -> None:
        _, _, errors = read(doc(ANNA, sha=1), doc(ANNA, klass="9C", sha=2))
        assert errors[3].startswith("class differs")

    def test_the_same_document_twice_for_one_student(self) -> None:
        _, _, errors = read(doc(ANNA, sha=1), doc(ANNA, sha=2), doc(ANNA, sha=1))
        assert errors[4] == "the same document (sha256) as line 2 of this student"
        assert errors[2].startswith("not captured") and errors[3].startswith("not captured")

    def test_general_information_with_a_personnummer(self) -> None:
        row = general().replace("general_information,,,", f"general_information,{ANNA},,")
        _, items, errors = read(row)
        assert items == []
        assert errors[2] == ("general information leaves personnummer, name, class and pages "
                             "empty (found: personnummer)")

    def test_general_information_of_a_category_the_decision_does_not_name(self) -> None:
        _, _, errors = read(general(category="iup"))
        assert errors[2].startswith("category 'iup' is not general information; use one of ")

    def test_the_same_general_information_twice(self) -> None:
        _, items, errors = read(general(), general())
        assert [i.line for i in items] == [2]
        assert errors == {3: "the same general information (school unit, title, sha256) as "
                             "line 2"}


class TestAStudentIsCapturedWholeOrNotAtAll:
    def test_one_bad_row_holds_back_every_row_of_that_student(self) -> None:
        students, _, errors = read(doc(ANNA, sha=1), doc(ANNA, sha=2, pages="0"),
                                   doc(ANNA, sha=3), doc(BO, name="Bo Berg", sha=4))
        assert [str(s.capture.personnummer) for s in students] == [BO]
        assert set(errors) == {2, 3, 4}
        assert errors[3].startswith("pages must be")
        assert errors[2] == errors[4] == ("not captured: a student's rows are captured "
                                          "together, and line 3 of this student is rejected")

    def test_a_row_with_an_unreadable_personnummer_holds_back_the_student_of_that_name(
        self,
    ) -> None:
        students, _, errors = read(doc(ANNA, sha=1), doc(bad_check_digit(ANNA), sha=2),
                                   doc(BO, name="Bo Berg", sha=3))
        assert [str(s.capture.personnummer) for s in students] == [BO]
        assert errors[3].startswith("personnummer: check digit")
        assert errors[2].endswith("line 3 of this student is rejected")

    def test_a_bad_row_of_one_student_does_not_hold_back_others(self) -> None:
        students, items, errors = read(doc(ANNA, school="hogwarts"),
                                       doc(BO, name="Bo Berg", sha=2),
                                       doc(CAJSA, name="Cajsa Ek", sha=3), general())
        assert [str(s.capture.personnummer) for s in students] == [BO, CAJSA]
        assert len(items) == 1
        assert list(errors) == [2]

    def test_the_file_check_counts_rows_and_students(self) -> None:
        inventory = Inventory("\n".join([HEADER, doc(ANNA, sha=1), doc(ANNA, sha=2),
                                         doc(BO, name="Bo", pages="x"), general()]),
                              school_exists=SCHOOLS.__contains__)
        assert (inventory.rows, inventory.students, inventory.good_students) == (4, 2, 1)


class TestAFileThatCannotBeReadIsRefusedWhole:
    def test_a_header_without_the_documented_columns(self) -> None:
        with pytest.raises(InvalidInputError, match=r"^line 1: .*missing pages"):
            Inventory("kind,personnummer,name,school_id,class,title,category,sha256\n",
                      school_exists=SCHOOLS.__contains__)

    def test_an_empty_file(self) -> None:
        with pytest.raises(InvalidInputError, match="empty"):
            Inventory("", school_exists=SCHOOLS.__contains__)

    def test_broken_quoting_names_its_line(self) -> None:
        text = "\n".join([HEADER, doc(ANNA), doc(BO, title='"IUP"x"')]) + "\n"
        with pytest.raises(InvalidInputError, match=r"^line 3: the CSV cannot be read"):
            Inventory(text, school_exists=SCHOOLS.__contains__)

    def test_a_file_that_is_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "inventory.csv"
        path.write_bytes((HEADER + "\n" + doc(ANNA, name="Åsa Öberg") + "\n").encode("latin-1"))
        with pytest.raises(InvalidInputError, match="not UTF-8"):
            Inventory(path, school_exists=SCHOOLS.__contains__)

    def test_a_file_changed_between_the_two_passes_stops_the_import(self,
                                                                    tmp_path: Path) -> None:
        path = tmp_path / "inventory.csv"
        path.write_text(f"{HEADER}\n{doc(ANNA, sha=1)}\n{doc(BO, sha=2)}\n", encoding="utf-8")
        inventory = Inventory(path, school_exists=SCHOOLS.__contains__)
        path.write_text(f"{HEADER}\n{doc(ANNA, sha=1)}\n{doc(BO, sha=3)}\n", encoding="utf-8")
        with pytest.raises(InvalidInputError, match="changed while it was being imported"):
            list(inventory.items())

    def test_a_header_reordered_between_the_two_passes_stops_the_import(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "inventory.csv"
        path.write_text(f"{HEADER}\n{doc(ANNA)}\n", encoding="utf-8")
        inventory = Inventory(path, school_exists=SCHOOLS.__contains__)
        swapped = HEADER.replace("title,category", "category,title")
        path.write_text(f"{swapped}\n{doc(ANNA)}\n", encoding="utf-8")
        with pytest.raises(InvalidInputError, match="changed while it was being imported"):
            list(inventory.items())


class TestSyntheticInventories:
    def test_synthetic_students_have_distinct_valid_personnummer(self) -> None:
        many = synthetic_students(5000)
        assert len({s.personnummer for s in many}) == 5000
        assert all(Personnummer.parse(s.personnummer).formatted() == s.personnummer
                   for s in many)

    def test_a_generated_inventory_reads_back_without_a_bad_row(self) -> None:
        text = inventory_csv(synthetic_students(50), documents=4,
                             general=[SyntheticGeneral("holmes", "newsletter", "Veckobrev")])
        inventory = Inventory(text, school_exists=SCHOOLS.__contains__)
        items = list(inventory.items())
        assert inventory.rows == 50 * 4 + 1
        assert sum(isinstance(i, StudentItem) for i in items) == 50
        assert not any(isinstance(i, RowError) for i in items)
