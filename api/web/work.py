"""The web forms for every lifecycle step, and the record page that carries them.

Each POST calls the same application use case as the API, then redirects back to the
record (``?klart=<what>``). A domain error is shown beside the form it came from, in
Swedish where the message has a rendering, with the status the API would give. Which
forms a page offers follows the role and the copy's state; the application still decides.

| URL (POST unless noted) | for | step |
| --- | --- | --- |
| ``GET /post/{id}`` | readers | the record with the forms for what can be done next |
| ``/post/{id}/utskrift`` | archivist | print the archive copy or a school copy |
| ``/post/{id}/exemplar/{copy}/arkivering`` | archivist | file in a box (and shelf) |
| ``/post/{id}/exemplar/{copy}/kontroll`` | archivist | verify: ok, or a discrepancy |
| ``/post/{id}/exemplar/{copy}/nyutskrift`` | archivist | reprint after a discrepancy |
| ``/post/{id}/exemplar/{copy}/leverans`` | school custodian | delivered to the school |
| ``/post/{id}/exemplar/{copy}/overlamning`` | school custodian | hand over to another unit |
| ``/post/{id}/exemplar/{copy}/mottagen`` | receiving custodian | receipt of a hand-over |
| ``/post/{id}/ist`` | custodian, archivist | entered into IST-lärande |
| ``/post/{id}/avgang`` | custodian, archivist | the student left |
| ``/post/{id}/sparr``, ``…/sparr/{hold}/havning`` | archivist | place and lift a hold |

May import the application and the domain; reaches the runtime through the request.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.problems import status_of
from api.web import presenters
from api.web.deps import CSRF, WebUser
from api.web.i18n import Translator
from api.web.record_extras import personal_actions
from api.web.rendering import Directory, WebRoute, redirect, render, translator
from application.policy import Principal, does_archive_work, is_school_custodian
from domain.errors import DomainError, InvalidInputError
from domain.record import CopyStatus, DepartureReason

router = APIRouter(include_in_schema=False, route_class=WebRoute)

RECORD_DONE: Final = frozenset({
    "printed", "archived", "verified", "discrepancy", "reprinted", "delivered",
    "transferred", "received", "ist_entered", "departed", "hold_placed", "hold_lifted",
    # api.web.personal_data
    "protected", "protection_lifted", "renumbered", "handed_over_externally",
    "external_receipt",
})
Errors = dict[str, dict[str, str]]


def error_text(t: Translator, error: DomainError) -> str:
    """The error in the page's language when a rendering is known, else as written."""
    return t.message(error).text


def form_errors(t: Translator, form: str, error: DomainError, default_field: str) -> Errors:
    """``{form: {field: message}}``: beside the named field, else the form's main one."""
    field = error.field if isinstance(error, InvalidInputError) and error.field else None
    return {form: {(field or default_field).split(".")[-1]: error_text(t, error)}}


def actions(principal: Principal, record: dict[str, Any]) -> dict[str, Any]:
    """What the page offers this person for this record (the application still decides)."""
    student = record.get("kind") == "student_documentation" and not record.get("shredded")
    live = [c for c in record.get("copies", [])
            if c["status"] not in (CopyStatus.REPLACED, CopyStatus.CULLED)]
    archive = next((c for c in live if c["purpose"] == "archive"), None)
    school = next((c for c in live if c["purpose"] == "school"), None)
    archivist = does_archive_work(principal)
    own_school = is_school_custodian(principal)
    school_staff = archivist or (own_school and principal.school_id == record.get("school_id"))
    return {
        "print_archive": student and archivist and archive is None,
        "print_school": student and archivist and school is None,
        "archive": (archive if archivist and archive and archive["status"] == CopyStatus.PRINTED
                    else None),
        "verify": (archive if archivist and archive and archive["status"] == CopyStatus.ARCHIVED
                   else None),
        "reprint": (archive if archivist and archive and archive["status"] == CopyStatus.DISCREPANCY
                    else None),
        "deliver": (school if own_school and school and school["status"] == CopyStatus.PRINTED
                    and school.get("school_id") == principal.school_id else None),
        "transfer": (school if own_school and school and school["status"] == CopyStatus.AT_SCHOOL
                     and school.get("school_id") == principal.school_id
                     and not school.get("on_loan") else None),
        "receive": (school if own_school and school and school["status"] == CopyStatus.IN_TRANSIT
                    and school.get("school_id") == principal.school_id else None),
        "ist": student and school_staff and not record.get("ist_entered"),
        "departure": student and school_staff and not (
            (record.get("departure") or {}).get("reason") == "finished_compulsory_school"),
        "hold": archivist and record.get("status") != "culled",
    }


def render_record(request: Request, principal: Principal, record_id: UUID, *,
                  errors: Errors | None = None, values: dict[str, str] | None = None,
                  status: int = 200) -> Response:
    queries = get_runtime(request).queries
    record = queries.record(principal, record_id)
    history = queries.history(principal, record_id)
    t = translator(request)
    names = Directory(request, t)
    copies = presenters.copy_rows(record, t, names.place, names.person)
    entries = presenters.timeline(history, record, t, names.place, names.person)
    done = request.query_params.get("klart")
    can = {**actions(principal, record), **personal_actions(principal, record)}
    schools = queries.schools() if any(can[k] for k in ("print_school", "transfer",
                                                         "departure")) else []
    return render(request, "record.html", principal=principal, record=record, copies=copies,
                  timeline=entries, can=can, schools=schools, form_errors=errors or {},
                  values=values or {}, done=done if done in RECORD_DONE else None,
                  departure_reasons=[r.value for r in DepartureReason], status=status,
                  canonical=f"/post/{record_id}", title_key="record.title")


def _do(request: Request, principal: Principal, record_id: UUID, form: str, field: str,
        done: str, step: Any, values: dict[str, str] | None = None) -> Response:
    """Run one use case; on a domain error show the record again with it beside the form."""
    try:
        step()
    except DomainError as error:
        status, _ = status_of(error)
        return render_record(request, principal, record_id, status=status,
                             errors=form_errors(translator(request), form, error, field),
                             values={f"{form}.{k}": v for k, v in (values or {}).items()})
    return redirect(f"/post/{record_id}?klart={done}#atgarder")


def _blank(value: str) -> str | None:
    return value.strip() or None


@router.get("/post/{record_id}")
def record_page(request: Request, record_id: UUID, principal: WebUser) -> Response:
    return render_record(request, principal, record_id)


@router.post("/post/{record_id}/utskrift", dependencies=CSRF)
def print_copy(request: Request, record_id: UUID, principal: WebUser,
               purpose: Annotated[str, Form()] = "",
               school_id: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    form = f"print_{purpose}" if purpose in ("archive", "school") else "print_archive"
    return _do(request, principal, record_id, form, "school_id" if purpose == "school"
               else "purpose", "printed",
               lambda: custody.print_copy(principal, record_id, purpose,
                                          _blank(school_id) if purpose == "school" else None),
               {"school_id": school_id})


@router.post("/post/{record_id}/exemplar/{copy_id}/arkivering", dependencies=CSRF)
def archive_copy(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser,
                 box: Annotated[str, Form()] = "", shelf: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    return _do(request, principal, record_id, "archive", "box", "archived",
               lambda: custody.archive_copy(principal, record_id, copy_id, box=box,
                                            shelf=_blank(shelf)),
               {"box": box, "shelf": shelf})


@router.post("/post/{record_id}/exemplar/{copy_id}/kontroll", dependencies=CSRF)
def verify_copy(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser,
                outcome: Annotated[str, Form()] = "",
                note: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    return _do(request, principal, record_id, "verify", "outcome" if not outcome else "note",
               "verified" if outcome == "ok" else "discrepancy",
               lambda: custody.verify_copy(principal, record_id, copy_id, outcome=outcome,
                                           note=_blank(note)),
               {"outcome": outcome, "note": note})


@router.post("/post/{record_id}/exemplar/{copy_id}/nyutskrift", dependencies=CSRF)
def reprint(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser) -> Response:
    custody = get_runtime(request).custody
    return _do(request, principal, record_id, "reprint", "reprint", "reprinted",
               lambda: custody.reprint(principal, record_id, copy_id))


@router.post("/post/{record_id}/exemplar/{copy_id}/leverans", dependencies=CSRF)
def deliver(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser) -> Response:
    custody = get_runtime(request).custody
    return _do(request, principal, record_id, "deliver", "deliver", "delivered",
               lambda: custody.deliver_copy(principal, record_id, copy_id,
                                            principal.school_id or ""))


@router.post("/post/{record_id}/exemplar/{copy_id}/overlamning", dependencies=CSRF)
def transfer(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser,
             to_school_id: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    return _do(request, principal, record_id, "transfer", "to_school_id", "transferred",
               lambda: custody.transfer_copy(principal, record_id, copy_id, to_school_id),
               {"to_school_id": to_school_id})


@router.post("/post/{record_id}/exemplar/{copy_id}/mottagen", dependencies=CSRF)
def receive(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser) -> Response:
    custody = get_runtime(request).custody
    return _do(request, principal, record_id, "receive", "receive", "received",
               lambda: custody.receive_copy(principal, record_id, copy_id))


@router.post("/post/{record_id}/ist", dependencies=CSRF)
def ist_entry(request: Request, record_id: UUID, principal: WebUser,
              note: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    return _do(request, principal, record_id, "ist", "note", "ist_entered",
               lambda: custody.enter_into_ist(principal, record_id, _blank(note)),
               {"note": note})


@router.post("/post/{record_id}/avgang", dependencies=CSRF)
def departure(request: Request, record_id: UUID, principal: WebUser,
              reason: Annotated[str, Form()] = "", date: Annotated[str, Form()] = "",
              to_school_id: Annotated[str, Form()] = "") -> Response:
    rt = get_runtime(request)
    t = translator(request)
    values = {"reason": reason, "date": date, "to_school_id": to_school_id}
    problems: dict[str, str] = {}
    if not reason:
        problems["reason"] = t("work.errors.reason_required")
    if not date.strip():
        problems["date"] = t("work.errors.date_required")
    if problems:
        return render_record(request, principal, record_id, status=422,
                             errors={"departure": problems},
                             values={f"departure.{k}": v for k, v in values.items()})
    record = rt.queries.record(principal, record_id)
    personnummer = str((record.get("student") or {}).get("personnummer") or "")
    return _do(request, principal, record_id, "departure", "reason", "departed",
               lambda: rt.custody.record_departure(
                   principal, personnummer, reason=reason,
                   to_school_id=_blank(to_school_id) if reason == "moved_within_municipality"
                   else None, date=date.strip()),
               values)


@router.post("/post/{record_id}/sparr", dependencies=CSRF)
def place_hold(request: Request, record_id: UUID, principal: WebUser,
               reason: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    return _do(request, principal, record_id, "hold", "reason", "hold_placed",
               lambda: custody.place_hold(principal, record_id, reason.strip()),
               {"reason": reason})


@router.post("/post/{record_id}/sparr/{hold_id}/havning", dependencies=CSRF)
def lift_hold(request: Request, record_id: UUID, hold_id: UUID, principal: WebUser,
              reason: Annotated[str, Form()] = "") -> Response:
    custody = get_runtime(request).custody
    t = translator(request)
    if not reason.strip():
        return render_record(request, principal, record_id, status=422,
                             errors={f"lift_{hold_id}": {"reason": t("work.errors.lift_reason")}})
    return _do(request, principal, record_id, f"lift_{hold_id}", "reason", "hold_lifted",
               lambda: custody.lift_hold(principal, record_id, hold_id, reason.strip()),
               {"reason": reason})
