"""Paging a list kept in an order the reader may not see: the cursor names the last
item's id only, and following the cursors yields every item once while items are added."""

from __future__ import annotations

import base64
import json

import pytest

from application.paging import page_in_order
from domain.errors import InvalidInputError


def rows(*ids: str) -> list[dict[str, str]]:
    return [{"copy_id": i, "personnummer": f"secret-{i}"} for i in ids]


def test_the_cursor_holds_the_id_and_never_the_sort_key() -> None:
    page = page_in_order(rows("c", "a", "b"), "copy_id", 2, None)
    assert [r["copy_id"] for r in page.items] == ["c", "a"]
    assert page.next_cursor is not None
    raw = base64.urlsafe_b64decode(page.next_cursor + "=" * (-len(page.next_cursor) % 4))
    assert json.loads(raw) == ["a"]


def test_following_the_cursors_yields_every_item_once_while_items_are_added() -> None:
    listed = rows("m", "n", "o", "p")
    seen: list[str] = []
    cursor: str | None = None
    added = iter(["a", "z", "b"])  # one before every cursor, one at the end, one before
    while True:
        page = page_in_order(listed, "copy_id", 1, cursor)
        seen += [r["copy_id"] for r in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
        new = next(added, None)
        if new == "z":
            listed = [*listed, *rows("z")]
        elif new is not None:
            listed = [*rows(new), *listed]
    assert seen == ["m", "n", "o", "p", "z"]


def test_the_last_page_has_no_cursor() -> None:
    page = page_in_order(rows("a", "b"), "copy_id", 2, None)
    assert page.next_cursor is None and len(page.items) == 2


@pytest.mark.parametrize("cursor", ["junk!", base64.urlsafe_b64encode(b"[1]").decode(),
                                    base64.urlsafe_b64encode(b'["a","b"]').decode()])
def test_a_cursor_this_list_did_not_hand_out_is_invalid_input(cursor: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        page_in_order(rows("a", "b"), "copy_id", 1, cursor)
    assert caught.value.field == "cursor"


def test_a_cursor_whose_item_left_the_list_says_to_start_again() -> None:
    cursor = page_in_order(rows("a", "b", "c"), "copy_id", 1, None).next_cursor
    with pytest.raises(InvalidInputError, match="start again"):
        page_in_order(rows("b", "c"), "copy_id", 1, cursor)
