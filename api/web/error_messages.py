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
    # -- narrower codes (``with_code`` at the raise site): lifecycle forms, transitions,
    # -- policy refusals, departures, holds, the agreement, the school year ---------------
    "date_format": ErrorText("Skriv datumet som ÅÅÅÅ-MM-DD.", "Write the date as YYYY-MM-DD."),
    "student_name_missing": ErrorText("Elevens namn saknas.", "The student's name is missing."),
    "title_missing": ErrorText("Titeln saknas.", "The title is missing."),
    "category_missing": ErrorText("Kategorin saknas.", "The category is missing."),
    "pages_missing": ErrorText("Antal sidor saknas.", "The number of pages is missing."),
    "pages_invalid": ErrorText("Antal sidor ska vara ett positivt heltal.",
                               "The number of pages must be a positive whole number."),
    "sha256_missing": ErrorText("Kontrollsumman (sha256) saknas.",
                                "The checksum (sha256) is missing."),
    "sha256_invalid": ErrorText("Kontrollsumman (sha256) ska vara 64 hexadecimala tecken.",
                                "The checksum (sha256) must be 64 hexadecimal digits."),
    "student_documentation_only": ErrorText("Det gäller bara elevdokumentation.",
                                            "That applies to student documentation only."),
    "student_already_captured": ErrorText("elevens dokumentation är redan inläst",
                                          "this student's documentation was captured already"),
    "school_unit_required": ErrorText("Välj en skolenhet.", "Choose a school unit."),
    "archive_is_not_a_school_unit": ErrorText(
        "Kommunarkivet är ingen skolenhet; välj en skolenhet.",
        "The municipal archive is not a school unit; choose a school unit."),
    "school_unit_not_registered": ErrorText("skolenheten '{school_id}' är inte registrerad",
                                            "school unit '{school_id}' is not registered"),
    "purpose_invalid": ErrorText("Välj arkivexemplar eller skolexemplar.",
                                 "Choose an archive copy or a school copy."),
    "archive_copy_for_school": ErrorText("Ett arkivexemplar skrivs inte ut för en skolenhet.",
                                         "An archive copy is not printed for a school unit."),
    "archive_copy_exists": ErrorText(
        "Eleven har redan ett arkivexemplar; det ersätts bara genom en ny utskrift efter en "
        "avvikelse.",
        "The student's documentation already has an archive copy; it is replaced only by a "
        "reprint after a discrepancy."),
    "school_copy_school_missing": ErrorText("Välj skolenheten som skolexemplaret är till.",
                                            "Choose the school unit the school copy is for."),
    "school_copy_exists": ErrorText("Eleven har redan ett skolexemplar.",
                                    "The student already has a school copy."),
    "reprint_without_discrepancy": ErrorText(
        "Bara ett exemplar där kontrollen visade en avvikelse skrivs ut på nytt.",
        "Only a copy whose verification found a discrepancy is reprinted."),
    "only_archive_copy_filed": ErrorText("Bara arkivexemplaret placeras i arkivet.",
                                         "Only the archive copy is filed in the archive."),
    "copy_not_printed_for_filing": ErrorText(
        "Exemplaret är redan placerat i arkivet eller inte utskrivet; bara ett utskrivet "
        "exemplar placeras.",
        "The copy is filed already or not printed; only a printed copy is filed."),
    "archive_box_missing": ErrorText("Ange arkivkartongen.", "Give the archive box."),
    "verification_outcome_invalid": ErrorText(
        "Välj om exemplaret stämmer eller avviker.",
        "Choose whether the copy is correct or has a discrepancy."),
    "archive_copy_not_filed": ErrorText(
        "Arkivexemplaret kontrolleras när det är placerat i arkivet.",
        "The archive copy is checked once it is filed in the archive."),
    "copy_already_verified": ErrorText("Exemplaret är redan kontrollerat.",
                                       "The copy was already verified."),
    "discrepancy_note_missing": ErrorText("Beskriv avvikelsen.", "Say what the discrepancy is."),
    "archive_copy_not_delivered": ErrorText("Arkivexemplaret stannar i arkivet.",
                                            "The archive copy stays in the archive."),
    "copy_not_printed_for_delivery": ErrorText(
        "Skolexemplaret är redan levererat; bara ett utskrivet exemplar levereras.",
        "The school copy was delivered already; only a printed copy is delivered."),
    "copy_printed_for_other_school": ErrorText(
        "Skolexemplaret skrevs ut för {printed_for}, inte för {school_id}.",
        "The school copy was printed for {printed_for}, not {school_id}."),
    "archive_copy_not_transferred": ErrorText("Arkivexemplaret lämnas aldrig över.",
                                              "The archive copy is never transferred."),
    "copy_not_at_school": ErrorText(
        "Bara ett skolexemplar som finns på skolenheten kan lämnas över.",
        "Only a school copy held at its school unit is handed over."),
    "copy_already_at_school": ErrorText("Skolexemplaret finns redan på {school_id}.",
                                        "The school copy is already at {school_id}."),
    "copy_not_on_its_way": ErrorText("Skolexemplaret är inte på väg till {school_id}.",
                                     "The school copy is not on its way to {school_id}."),
    "copy_culled": ErrorText("Exemplaret är gallrat.", "The copy was culled."),
    "copy_already_culled": ErrorText("Exemplaret är redan gallrat.",
                                     "The copy was already culled."),
    "record_already_culled": ErrorText("Posten är redan gallrad.",
                                       "The record was already culled."),
    "school_copy_not_finished": ErrorText(
        "ett skolexemplar gallras först när eleven har gått ut grundskolan; annars lämnas det "
        "över till nästa skolenhet",
        "a school copy is culled only when its student has finished compulsory school; "
        "otherwise it is handed over to the next school unit"),
    "copy_not_found": ErrorText("Exemplaret finns inte.", "The copy does not exist."),
    "already_entered_into_ist": ErrorText("Eleven är redan inlagd i IST-lärande.",
                                          "The student was already entered into IST-lärande."),
    "already_finished_school": ErrorText("Eleven har redan gått ut grundskolan.",
                                         "The student has already finished compulsory school."),
    "next_school_missing": ErrorText(
        "Vid flytt inom kommunen: välj den nya skolenheten.",
        "For a move within the municipality, choose the next school unit."),
    "already_attends": ErrorText("Eleven går redan på {school_id}.",
                                 "The student already attends {school_id}."),
    "next_school_not_for_reason": ErrorText(
        "Ny skolenhet anges bara vid flytt inom kommunen.",
        "A next school unit is named only for a move within the municipality."),
    "hold_reason_missing": ErrorText("Skriv skälet till spärren.",
                                     "State the reason for the hold."),
    "hold_not_found": ErrorText("Spärren finns inte (längre).",
                                "The hold does not exist (any longer)."),
    "agreement_already_terminated": ErrorText("Arkiveringsavtalet är redan uppsagt.",
                                              "The archive agreement was already terminated."),
    "nothing_captured_yet": ErrorText("Ingen elev har hämtats ur Unikum ännu.",
                                      "No student has been captured from Unikum yet."),
    "school_year_out_of_range": ErrorText("Läsåret {year} går inte att avsluta.",
                                          "School year {year} cannot be closed."),
    "role_may_not": ErrorText("Din roll får inte göra det här.", "Your role may not do this."),
    "custodian_only": ErrorText("Bara den utpekade personen för {location} får göra det här.",
                                "Only the custodian of {location} may do this."),
    "custodian_or_archivist_only": ErrorText(
        "Bara den utpekade personen för {location}, eller arkivarien, får göra det här.",
        "Only the custodian of {location}, or the archivist, may do this."),
    "records_not_browsable": ErrorText(
        "personalen får inte bläddra i elevakterna; beställ handlingen från den utpekade "
        "personen i stället",
        "staff may not browse student records; order the document from the designated "
        "custodian instead"),
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
