"""Swedish renderings of the messages other layers write in English (domain rules,
policy refusals, import rejections, verification faults).

A domain error is translated by its ``code`` (:mod:`api.web.error_messages`). Text that
reaches the pages without an error object (reasons stored in events, import report
lines, verification faults) is still matched by pattern here; a message with no pattern
is shown as it is, marked ``lang="en"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from api.web.error_messages import error_text, error_values
from domain.errors import DomainError


@dataclass(frozen=True)
class Message:
    text: str
    lang: str


SWEDISH: Final[list[tuple[re.Pattern[str], str]]] = [(re.compile(p), s) for p, s in [
    (r"^personnummer: check digit should be (\d), not (\d)$",
     r"personnummer: kontrollsiffran ska vara \1, inte \2"),
    (r"check digit should be (\d), not (\d)", r"kontrollsiffran ska vara \1, inte \2"),
    (r"^personnummer: month (\d+) does not exist$", r"personnummer: månad \1 finns inte"),
    (r"^(?:request refused and logged: )?the (teacher|mentor) is not assigned to this "
     r"student at the time of the request$",
     r"beställningen avslogs och loggades: läraren eller mentorn är inte knuten till eleven "
     r"vid beställningen"),
    (r"^(?:request refused and logged: )?the student does not attend the principal's school "
     r"unit$", r"beställningen avslogs och loggades: eleven går inte på rektorns skolenhet"),
    (r"^(?:request refused and logged: )?a (\w+) does not order documents; teachers, mentors "
     r"and principals do$",
     r"beställningen avslogs och loggades: bara lärare, mentorer och rektorer beställer "
     r"handlingar"),
    (r"^staff may not browse student records.*$",
     "personalen får inte bläddra i elevakterna; beställ handlingen från den utpekade "
     "personen i stället"),
    (r"^the archive copy of student documentation is preserved.*$",
     "arkivexemplaret av elevdokumentationen bevaras (punkt 2 i beslutet) och gallras aldrig"),
    (r"^a school copy is culled only when its student has finished compulsory school.*$",
     "ett skolexemplar gallras först när eleven har gått ut grundskolan; annars lämnas det "
     "över till nästa skolenhet"),
    (r"^copy (\S+) is on loan; it must be returned first$",
     r"exemplaret \1 är utlånat; det måste lämnas tillbaka först"),
    (r"^the record is on hold \((.*)\); nothing may be culled$",
     r"posten är spärrad (\1); inget får gallras"),
    (r"^someone else changed the same thing at the same moment.*$",
     "någon annan ändrade samma sak i samma stund; inget sparades, ladda om och försök igen"),
    (r"^this student's documentation was captured already$",
     "elevens dokumentation är redan inläst"),
    (r"^student finished compulsory school on (\d{4}-\d{2}-\d{2})$",
     r"eleven gick ut grundskolan \1"),
    (r"^general information of category (\w+)$", r"allmän information av kategorin \1"),
    (r"^signature does not verify under key (\w+)$",
     r"signaturen stämmer inte med nyckel \1"),
    (r"^signed with unknown key (\w+)$", r"signerad med en okänd nyckel \1"),
    (r"^chain broken: version (\d+) is missing$", r"kedjan är bruten: version \1 saknas"),
    (r"^chain broken: does not commit to the previous event$",
     "kedjan är bruten: händelsen pekar inte på den föregående"),
    (r"^(\d+) checkpoint\(s\) checked against the events$",
     r"\1 kontrollpunkt(er) jämförda med händelserna"),
    (r"^school unit '([^']+)' is not registered$", r"skolenheten '\1' är inte registrerad"),
    (r"^a student with a bad row is not captured.*$",
     "eleven läses inte in eftersom en annan rad för eleven är felaktig"),
]]


def swedish(text: str, lang: str) -> Message:
    """The message in the page's language when a rendering is known, else as written."""
    if lang != "sv" or not text:
        return Message(text, "en" if text else lang)
    for pattern, replacement in SWEDISH:
        if pattern.search(text):
            return Message(pattern.sub(replacement, text), "sv")
    return Message(text, "en")


def for_error(error: DomainError, lang: str) -> Message:
    """A domain error in the page's language, by its code: a narrow code (set with
    ``with_code``) says exactly what is wrong in either language; otherwise the English
    message is kept on English pages, and a Swedish page shows its known rendering or the
    class's general text."""
    values = error_values(error)
    narrowed = error.code != type(error).code
    if narrowed:
        text = error_text(error.code, values, lang)
        if text is not None:
            return Message(text, lang)
    if lang != "sv":
        return Message(str(error), "en")
    rendered = swedish(str(error), lang)
    if rendered.lang == "sv":
        return rendered
    general = error_text(error.code, values, lang)
    return Message(general, "sv") if general is not None else rendered
