"""The web pages' text for each domain error, keyed on the error's stable ``code``
(``domain/errors.py``), in Swedish and English.

``{placeholders}`` are filled from the error's ``params`` and attributes. A class code
(``not_authorised``) is the general text for every error of that class; a narrower code
(``personnummer_check_digit``) says exactly what is wrong. ``tests/unit/test_error_codes.py``
checks that every code the domain can raise has both languages here.

May import the domain.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class ErrorText:
    sv: str
    en: str

    def in_language(self, lang: str) -> str:
        return self.sv if lang == "sv" else self.en


ERROR_TEXTS: Final[Mapping[str, ErrorText]] = {
    # -- one per class --------------------------------------------------------------------
    "domain_rule": ErrorText("en regel i arkivet hindrar detta",
                             "a rule of the archive does not allow this"),
    "invalid_input": ErrorText("uppgifterna är felaktiga", "the input is not valid"),
    "not_found": ErrorText("det finns inte", "it does not exist"),
    "already_exists": ErrorText("det finns redan (id {existing_id})",
                                "it exists already (id {existing_id})"),
    "illegal_transition": ErrorText("det går inte i det läge som handlingen är i nu",
                                    "not possible in the record's present state"),
    "archive_copy_never_culled": ErrorText(
        "arkivexemplaret av elevdokumentationen bevaras (punkt 2 i beslutet) och gallras aldrig",
        "the archive copy of student documentation is preserved (point 2 of the decision) "
        "and never culled"),
    "cull_not_lawful": ErrorText("det finns inget lagligt stöd för den här gallringen",
                                 "there is no lawful basis for this cull"),
    "copy_on_loan": ErrorText("exemplaret är utlånat; det måste lämnas tillbaka först",
                              "the copy is on loan; it must be returned first"),
    "record_on_hold": ErrorText("posten är spärrad; inget får gallras",
                                "the record is on hold; nothing may be culled"),
    "already_culled": ErrorText("det är redan gallrat", "it was culled already"),
    "agreement_not_ready": ErrorText(
        "arkiveringsavtalet kan inte sägas upp än: alla arkivexemplar är inte utskrivna, "
        "arkiverade och kontrollerade",
        "the archive agreement cannot be terminated yet: not every archive copy is printed, "
        "archived and verified"),
    "concurrent_change": ErrorText(
        "någon annan ändrade samma sak i samma stund; inget sparades, ladda om och försök igen",
        "someone else changed the same thing at the same moment; nothing was saved, reload "
        "and try again"),
    "not_authorised": ErrorText("du har inte behörighet till detta",
                                "you are not authorised to do this"),
    "not_authenticated": ErrorText("du behöver logga in", "you need to sign in"),
    "agreement_terminated": ErrorText(
        "arkiveringsavtalet är uppsagt; inget mer hämtas från Unikum",
        "the archive agreement was terminated; nothing more is captured from Unikum"),
    "unknown_culling_basis": ErrorText(
        "det beslutet eller den punkten finns inte i registret över gallringsbeslut",
        "that decision or point is not in the register of culling decisions"),
    "items_not_cullable": ErrorText(
        "några handlingar på listan får inte gallras enligt den punkten (se varje handling)",
        "some items on the list may not be culled under that point (see each item)"),
    "no_role": ErrorText(
        "inloggningen gav ingen roll i arkivet; be en administratör om behörighet",
        "the sign-in gave you no role in this service; ask an administrator for access"),
    "staff_revoked": ErrorText(
        "din behörighet är återkallad; ingen inloggning förrän en administratör ger den igen",
        "your credentials were revoked; no sign-in until an administrator restores them"),
    "identity_provider_refused": ErrorText(
        "inloggningstjänsten godtog inte inloggningen eller svarade inte; försök igen",
        "the identity provider refused the sign-in or did not answer; try again"),
    # -- personnummer: one per distinct meaning -------------------------------------------
    "personnummer_format": ErrorText(
        "personnummer: inte ett personnummer; skriv ÅÅMMDD-NNNK eller ÅÅÅÅMMDD-NNNK",
        "personnummer: not a personnummer; write YYMMDD-NNNC or YYYYMMDD-NNNC"),
    "personnummer_year": ErrorText("personnummer: år {year} finns inte",
                                   "personnummer: year {year} does not exist"),
    "personnummer_month": ErrorText("personnummer: månad {month} finns inte",
                                    "personnummer: month {month} does not exist"),
    "personnummer_day": ErrorText(
        "personnummer: dag {day} finns inte (dagar är 01-31, eller 61-91 för ett "
        "samordningsnummer)",
        "personnummer: day {day} does not exist (days are 01-31, or 61-91 for a "
        "coordination number)"),
    "personnummer_day_in_month": ErrorText(
        "personnummer: dag {day} finns inte i månad {month} år {year}",
        "personnummer: day {day} does not exist in month {month} of {year}"),
    "personnummer_in_future": ErrorText(
        "personnummer: födelsedagen {birth} ligger i framtiden (i dag är {today})",
        "personnummer: the birth date {birth} is in the future (today is {today})"),
    "personnummer_plus_separator": ErrorText(
        "personnummer: '+' betyder 100 år eller äldre, men personen är {age}",
        "personnummer: '+' means 100 years or older, but this person is {age}"),
    "personnummer_check_digit": ErrorText(
        "personnummer: kontrollsiffran ska vara {expected}, inte {found}",
        "personnummer: check digit should be {expected}, not {found}"),
    "personnummer_invalid": ErrorText("personnummer: inte ett giltigt personnummer",
                                      "personnummer: not a valid personnummer"),
}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def error_text(code: str, values: Mapping[str, Any], lang: str) -> str | None:
    """The text for ``code`` in ``lang`` with its placeholders filled, or None when the
    code is unknown or a value it names is missing."""
    entry = ERROR_TEXTS.get(code)
    if entry is None:
        return None
    text = entry.in_language(lang)
    if not placeholders(text) <= set(values):
        return None
    return text.format_map(values)


def error_values(error: Exception) -> dict[str, Any]:
    """What an error's placeholders may name: its attributes and its ``params``."""
    values = {k: v for k, v in vars(error).items() if not k.startswith("_") and k != "params"}
    values.update(getattr(error, "params", {}) or {})
    return values
