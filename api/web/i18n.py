"""Translation tables and Swedish/English formatting of the web pages.

Every visible string goes through :class:`Translator` by a key into
``api/web/locales/<lang>.json`` (nested objects, looked up by dotted keys). A key that a
table lacks is rendered as ``⟦key⟧`` and remembered, so a test (and a reader) sees it
at once instead of an English word slipping into a Swedish page. Times are shown in the
Europe/Stockholm time zone: ``2018-06-15 14:03`` in Swedish, ``15 Jun 2018, 14:03`` in
English.

May import the standard library, :mod:`api.web.messages` and the domain's errors.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from api.web.messages import Message, for_error, swedish
from domain.errors import DomainError

LANGUAGES: Final = ("sv", "en")
DEFAULT_LANGUAGE: Final = "sv"
MISSING_OPEN: Final = "⟦"
MISSING_CLOSE: Final = "⟧"
NO_VALUE: Final = "\u2013"
"""Shown for an empty value (an en dash, as Swedish typography has it)."""
STOCKHOLM: Final = ZoneInfo("Europe/Stockholm")
LOCALES: Final = Path(__file__).parent / "locales"
_EN_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                     "Nov", "Dec")


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"a": {"b": "x"}}`` → ``{"a.b": "x"}``."""
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def load_catalogue(lang: str, directory: Path = LOCALES) -> dict[str, str]:
    with (directory / f"{lang}.json").open(encoding="utf-8") as handle:
        return flatten(json.load(handle))


def choose_language(requested: str | None, remembered: str | None) -> str:
    """The ``?lang=`` of this request, else the cookie's, else Swedish."""
    for candidate in (requested, remembered):
        if candidate in LANGUAGES:
            return str(candidate)
    return DEFAULT_LANGUAGE


def parse_time(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed




class Translator:
    """One request's language: strings, numbers, dates and times."""

    def __init__(self, lang: str, messages: Mapping[str, str]) -> None:
        self.lang = lang
        self.messages = messages
        self.missing: list[str] = []

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self.messages.get(key)
        if text is None:
            self.missing.append(key)
            return f"{MISSING_OPEN}{key}{MISSING_CLOSE}"
        if params:
            return text.format_map({k: "" if v is None else v for k, v in params.items()})
        return text

    def message(self, text: str | DomainError | None) -> Message:
        """A message from another layer, in Swedish where a rendering is known (a domain
        error by its code)."""
        if isinstance(text, DomainError):
            return for_error(text, self.lang)
        return swedish(text or "", self.lang)

    def has(self, key: str) -> bool:
        return key in self.messages

    def optional(self, key: str, fallback: str) -> str:
        """A translation if the table has one, else ``fallback`` (for codes from data)."""
        return self.messages.get(key, fallback)

    def datetime(self, value: str | dt.datetime | None) -> str:
        moment = parse_time(value)
        if moment is None:
            return NO_VALUE
        local = moment.astimezone(STOCKHOLM)
        if self.lang == "sv":
            return local.strftime("%Y-%m-%d %H:%M")
        return f"{local.day} {_EN_MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"

    def date(self, value: str | dt.date | None) -> str:
        if value is None or value == "":
            return NO_VALUE
        if isinstance(value, dt.datetime):
            day = value.astimezone(STOCKHOLM).date()
        elif isinstance(value, dt.date):
            day = value
        else:
            moment = parse_time(value) if "T" in str(value) else None
            try:
                day = (moment.astimezone(STOCKHOLM).date() if moment
                       else dt.date.fromisoformat(str(value)))
            except ValueError:
                return str(value)
        if self.lang == "sv":
            return day.isoformat()
        return f"{day.day} {_EN_MONTHS[day.month - 1]} {day.year}"

    @staticmethod
    def iso(value: str | dt.datetime | None) -> str:
        """The machine-readable form for ``<time datetime=...>``."""
        moment = parse_time(value)
        return moment.astimezone(STOCKHOLM).isoformat(timespec="seconds") if moment else ""

    def number(self, value: int | float) -> str:
        if isinstance(value, float) and not value.is_integer():
            text = f"{value:,.1f}"
        else:
            text = f"{int(value):,}"
        if self.lang == "sv":
            # Swedish groups thousands with a (narrow no-break) space and uses a decimal comma.
            return text.replace(",", "\u202f").replace(".", ",")
        return text

    def decimal(self, value: float, places: int = 1) -> str:
        text = f"{value:,.{places}f}"
        if self.lang == "sv":
            return text.replace(",", "\u202f").replace(".", ",")
        return text

    def percent(self, part: int, whole: int) -> str:
        share = 0 if whole <= 0 else round(100 * part / whole)
        return f"{share}\u00a0%" if self.lang == "sv" else f"{share}%"
