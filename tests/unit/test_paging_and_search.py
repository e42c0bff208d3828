"""Cursor paging and name tokens, without I/O."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.paging import decode_cursor, encode_cursor, page_of
from application.search import name_tokens
from domain.errors import InvalidInputError


class TestCursors:
    def test_a_cursor_round_trips_its_sort_key(self) -> None:
        key = ("2004-03-15", "123", 4, "c0ffee")
        assert decode_cursor(encode_cursor(key)) == key

    @pytest.mark.parametrize("junk", ["!!", "bm90LWpzb24", "eyJhIjoxfQ", "W3RydWVd"])
    def test_junk_is_invalid_input_naming_the_cursor(self, junk: str) -> None:
        with pytest.raises(InvalidInputError) as raised:
            decode_cursor(junk)
        assert raised.value.field == "cursor"

    @settings(max_examples=60, deadline=None)
    @given(items=st.sets(st.integers(0, 10_000), max_size=40),
           inserted=st.lists(st.integers(0, 10_000), max_size=20),
           limit=st.integers(1, 7))
    def test_following_cursors_yields_every_item_once_while_items_are_added(
        self, items: set[int], inserted: list[int], limit: int
    ) -> None:
        rows = [{"n": n} for n in items]
        seen: list[int] = []
        cursor = None
        pending = list(inserted)
        while True:
            page = page_of(rows, lambda r: (r["n"],), limit, cursor)
            seen += [r["n"] for r in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
            if pending:
                new = pending.pop()
                if new not in {r["n"] for r in rows}:
                    rows.append({"n": new})
        assert len(seen) == len(set(seen))
        assert items <= set(seen)


class TestNameTokens:
    def test_case_accents_and_punctuation_do_not_matter(self) -> None:
        assert name_tokens("Åsa-Lena  Öberg") == ["asa", "lena", "oberg"]
        assert name_tokens("ÅSA lena, öberg") == ["asa", "lena", "oberg"]

    def test_repeated_words_count_once_and_nothing_is_no_token(self) -> None:
        assert name_tokens("Anna Anna") == ["anna"]
        assert name_tokens(" - , ") == []
