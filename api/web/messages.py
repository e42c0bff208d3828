"""Messages from other layers in the page's language.

A domain error is translated by its ``code`` (:mod:`api.web.error_messages`): every raise
site in ``domain/`` and ``application/`` whose message once had a pattern here carries a
narrow code (``with_code``), so a Swedish page never depends on the English wording of an
error it holds. Pass the error itself (``t.message(error)``), not ``str(error)``.

What is still matched by pattern (``SWEDISH``, one section each) is text that reaches the
pages without an error object:

- request refusals, whose reason is stored in the request's events (the request log);
- cull refusals and conditions stored as text (a school-year closing, a certificate);
- domain messages an import report carries as text, and the import report's own lines
  (``application/importing.py``), personnummer messages among them;
- verification faults (``infrastructure/signed_events.py``).

A message with no pattern is shown as it is, marked ``lang="en"`` (never with a label
saying it is English: the page simply shows what the service said).
``tests/unit/test_web_messages.py`` fails when a domain raise site without a narrow code
has a message one of these patterns matches.
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
    # -- request refusals (application/policy.py request_refusal): the reason is stored in
    # -- the request's events and shown in the request log as text ----------------------
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
    # -- cull refusals stored as text: a school-year closing stores why a copy was not culled
    # -- (application/migration.py, shown on the school-year page); a cull stores the
    # -- condition that held (shown on the certificate). The raise sites carry codes. --------
    (r"^the archive copy of student documentation is preserved.*$",
     "arkivexemplaret av elevdokumentationen bevaras (punkt 2 i beslutet) och gallras aldrig"),
    (r"^a school copy is culled only when its student has finished compulsory school.*$",
     "ett skolexemplar gallras först när eleven har gått ut grundskolan; annars lämnas det "
     "över till nästa skolenhet"),
    (r"^copy (\S+) is on loan; it must be returned first$",
     r"exemplaret \1 är utlånat; det måste lämnas tillbaka först"),
    (r"^the record is on hold \((.*)\); nothing may be culled$",
     r"posten är spärrad (\1); inget får gallras"),
    (r"^copy \S+ was already culled$", "Exemplaret är redan gallrat."),
    (r"^record \S+ was already culled$", "Posten är redan gallrad."),
    (r"^student finished compulsory school on (\d{4}-\d{2}-\d{2})$",
     r"eleven gick ut grundskolan \1"),
    (r"^general information of category (\w+)$", r"allmän information av kategorin \1"),
    # -- domain errors an import report carries as text (application/importing.py reports
    # -- the message of a rule its own checks do not know). The raise sites carry codes. ----
    (r"^someone else changed the same thing at the same moment.*$",
     "någon annan ändrade samma sak i samma stund; inget sparades, ladda om och försök igen"),
    (r"^this student's documentation was captured already$",
     "elevens dokumentation är redan inläst"),
    (r"^school unit '([^']+)' is not registered$", r"skolenheten '\1' är inte registrerad"),
    (r"^'archive' is the municipal archive, not a school unit$",
     "Kommunarkivet är ingen skolenhet; välj en skolenhet."),
    # -- verification faults (infrastructure/signed_events.py): text, no error object ----
    (r"^signature does not verify under key (\w+)$",
     r"signaturen stämmer inte med nyckel \1"),
    (r"^signed with unknown key (\w+)$", r"signerad med en okänd nyckel \1"),
    (r"^chain broken: version (\d+) is missing$", r"kedjan är bruten: version \1 saknas"),
    (r"^chain broken: does not commit to the previous event$",
     "kedjan är bruten: händelsen pekar inte på den föregående"),
    (r"^(\d+) checkpoint\(s\) checked against the events$",
     r"\1 kontrollpunkt(er) jämförda med händelserna"),
    # -- import rejections (application/importing.py), one problem at a time --
    (r"^not captured: a student's rows are captured together, and lines? ([\d, …]+) of this "
     r"student (?:is|are) rejected$",
     r"inte inläst: en elevs rader läses in tillsammans, och rad \1 för eleven är avvisad"),
    (r"^expected (\d+) fields, found (\d+).*$",
     r"raden ska ha \1 fält men har \2 (ett skiljetecken inuti ett värde kräver citattecken)"),
    (r"^kind '([^']*)' is unknown.*$",
     r"typen '\1' är okänd; använd student_documentation eller general_information"),
    (r"^kind is missing.*$", "typ saknas (student_documentation eller general_information)"),
    (r"^personnummer is missing$", "personnummer saknas"),
    (r"^name is missing$", "namn saknas"),
    (r"^school_id is missing$", "skolenhet (school_id) saknas"),
    (r"^category is missing$", "kategori saknas"),
    (r"^title is missing$", "titel saknas"),
    (r"^sha256 is missing$", "kontrollsumma (sha256) saknas"),
    (r"^sha256 must be 64 hexadecimal digits.*$",
     "kontrollsumman (sha256) ska vara 64 hexadecimala tecken"),
    (r"^pages is missing$", "antal sidor saknas"),
    (r"^pages must be a positive whole number.*$", "antal sidor ska vara ett positivt heltal"),
    (r"^name differs from line (\d+) of this student$",
     r"namnet skiljer sig från rad \1 för samma elev"),
    (r"^school_id differs from line (\d+) of this .*$",
     r"skolenheten skiljer sig från rad \1 för samma elev"),
    (r"^class differs from the class on this student's earlier rows.*$",
     "klassen skiljer sig från elevens tidigare rader"),
    (r"^general information leaves personnummer, name, class and pages empty.*$",
     "allmän information ska ha tomma fält för personnummer, namn, klass och sidor"),
    (r"^category '([^']*)' is not general information.*$",
     r"kategorin '\1' är inte allmän information"),
    (r"^category is missing \(.*$", "kategori saknas"),
    (r"^the same general information \(school unit, title, sha256\) as line (\d+)$",
     r"samma allmänna information (skolenhet, titel, kontrollsumma) som rad \1"),
    (r"^the same document \(sha256\) as line (\d+) of this student$",
     r"samma handling (kontrollsumma) som rad \1 för samma elev"),
    (r"^this student was captured already with other documents.*$",
     "eleven är redan inläst med andra handlingar; en ny inläsning ändrar inte en inläst "
     "elevs dokumentation; rätta den manuellt tillsammans med arkivarien"),
    (r"^the file changed while it was being imported.*$",
     "filen ändrades medan den lästes in; läs in den igen"),
    (r"^the inventory is empty.*$", "inventeringen är tom: den behöver en rubrikrad"),
    (r"^line (\d+): the CSV cannot be read.*$", r"rad \1: CSV-filen kan inte läsas"),
    (r"^the file is not UTF-8.*$", "filen är inte kodad som UTF-8"),
    (r"^line (\d+): the header must name the columns ([^ ]+) .*$",
     r"rad \1: rubrikraden ska namnge kolumnerna \2 (med semikolon eller komma)"),
    (r"^personnummer: not a personnummer.*$",
     "personnummer: skriv som ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN"),
    (r"^personnummer: (?:day|year) .* does not exist$",
     "personnummer: födelsedatumet finns inte"),
    # -- import rejections, continued --
    (r"^a student with a bad row is not captured.*$",
     "eleven läses inte in eftersom en annan rad för eleven är felaktig"),
]]


def swedish(text: str, lang: str) -> Message:
    """The message in the page's language when a rendering is known, else as written."""
    if lang != "sv" or not text:
        return Message(text, "en" if text else lang)
    whole = _one(text)
    if whole is not None:
        return Message(whole, "sv")
    # Several problems of one row come joined by "; ": render each one.
    parts = [_one(part) for part in text.split("; ")]
    if len(parts) > 1 and all(p is not None for p in parts):
        return Message("; ".join(p for p in parts if p), "sv")
    return Message(text, "en")


def _one(text: str) -> str | None:
    for pattern, replacement in SWEDISH:
        if pattern.search(text):
            return pattern.sub(replacement, text)
    return None


def for_error(error: DomainError, lang: str) -> Message:
    """A domain error in the page's language, by its code: a code given at the raise site
    (``with_code``, a narrower one or the class's own with values) says what is wrong in
    either language; otherwise the English message is kept on English pages, and a
    Swedish page shows its known rendering or the class's general text."""
    values = error_values(error)
    coded = error.code != type(error).code or "params" in vars(error)
    if coded:
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
