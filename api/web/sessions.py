"""Work in bulk, keyboard first: a box session, a verification session, a school unit's
deliveries at once, the year-end closing and the archive agreement's termination.

A barcode scanner is a keyboard that types the personnummer and presses Enter, so each
session page is one form whose personnummer field has focus when the page loads; Enter
files (or verifies) that student and brings the same form back, with what was done and
any warning read out (``role="status"``/``role="alert"``). The box session shows the
box's personnummer range and warns at once when a student is filed out of personnummer
order or was already filed. Every step calls the same use case as the API.

| URL | for | purpose |
| --- | --- | --- |
| ``/arkiv/kartong`` | archivist | file archive copies into a box, one scan after another |
| ``/arkiv/kontroll`` | archivist | verify archive copies, one scan after another |
| ``/skola/leverans`` | a school unit's custodian | record the delivery of its school copies |
| ``/arkiv/utskrift`` | archivist | record the printing of every missing copy (archive, school) |
| ``/lasar`` | archivist | close a school year (hand-overs, culls, what the archivist decides) |
| ``/avtal/uppsagning`` | archivist | terminate the archive agreement when everything is verified |

May import the application and the domain.
"""

from __future__ import annotations

from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.problems import status_of
from api.web.deps import CSRF, WebUser, personnummer_error
from api.web.i18n import Translator
from api.web.paging import paginate
from api.web.rendering import WebRoute, redirect, render, translator
from application.migration import Migration
from application.policy import (
    Principal,
    require_archive_copy_work,
    require_school_custodian,
    require_school_year_closing,
)
from application.queries import sort_key
from domain.errors import DomainError, InvalidInputError, NotFoundError
from domain.record import CopyStatus

router = APIRouter(include_in_schema=False, route_class=WebRoute)

Errors = dict[str, str]
FILED: Final = (CopyStatus.ARCHIVED, CopyStatus.VERIFIED, CopyStatus.DISCREPANCY)


def _live_archive_copy(record: dict[str, Any]) -> dict[str, Any] | None:
    return next((c for c in record.get("copies", []) if c["purpose"] == "archive"
                 and c["status"] not in (CopyStatus.REPLACED, CopyStatus.CULLED)), None)


def _find(request: Request, principal: Principal, t: Translator, personnummer: str
          ) -> tuple[dict[str, Any] | None, Errors]:
    """The scanned student's record, or an error for the personnummer field."""
    rt = get_runtime(request)
    if not personnummer.strip():
        return None, {"personnummer": t("errors.personnummer.required")}
    try:
        record_id = rt.custody.student_record_id(personnummer)
        found: dict[str, Any] = rt.queries.record(principal, record_id)
    except InvalidInputError as error:
        return None, {"personnummer": personnummer_error(t, error)}
    except NotFoundError:
        return None, {"personnummer": t("work.errors.no_record")}
    return found, {}


def _name(request: Request, principal: Principal, record_id: str | None) -> dict[str, Any]:
    if not record_id:
        return {}
    try:
        found: dict[str, Any] = get_runtime(request).queries.record(principal, UUID(record_id))
    except (ValueError, DomainError):
        return {}
    return found.get("student") or {}


# -- the box session ---------------------------------------------------------------------


def box_contents(request: Request, principal: Principal, box: str) -> list[dict[str, Any]]:
    if not box:
        return []
    return [r for r in get_runtime(request).queries.shelf_list(principal) if r.get("box") == box]


def _box_page(request: Request, principal: Principal, *, box: str, shelf: str,
              errors: Errors | None = None, personnummer: str = "", status: int = 200
              ) -> Response:
    require_archive_copy_work(principal, doing="file copies in the archive")
    rows = box_contents(request, principal, box.strip())
    last = _name(request, principal, request.query_params.get("senast"))
    before = _name(request, principal, request.query_params.get("fore"))
    return render(request, "box_session.html", principal=principal, box=box, shelf=shelf,
                  rows=rows, errors=errors or {}, personnummer=personnummer, last=last,
                  before=before, status=status, canonical="/arkiv/kartong",
                  title_key="session.box.title")


@router.get("/arkiv/kartong")
def box_session(request: Request, principal: WebUser, kartong: str = "",
                hylla: str = "") -> Response:
    return _box_page(request, principal, box=kartong, shelf=hylla)


@router.post("/arkiv/kartong", dependencies=CSRF)
def file_into_box(request: Request, principal: WebUser, box: Annotated[str, Form()] = "",
                  shelf: Annotated[str, Form()] = "",
                  personnummer: Annotated[str, Form()] = "") -> Response:
    require_archive_copy_work(principal, doing="file copies in the archive")
    t = translator(request)
    box, shelf = box.strip(), shelf.strip()
    if not box:
        return _box_page(request, principal, box=box, shelf=shelf, personnummer=personnummer,
                         errors={"box": t("work.errors.box_required")}, status=422)
    record, errors = _find(request, principal, t, personnummer)
    copy = _live_archive_copy(record) if record else None
    if record is not None and copy is None:
        errors = {"personnummer": t("work.errors.no_archive_copy")}
    elif copy is not None and copy["status"] in FILED:
        errors = {"personnummer": t("work.errors.already_boxed",
                                    box=(copy.get("location") or {}).get("box") or "?")}
    if errors or record is None or copy is None:
        return _box_page(request, principal, box=box, shelf=shelf, personnummer=personnummer,
                         errors=errors, status=409 if record else 422)
    number = str((record.get("student") or {}).get("personnummer") or "")
    later = [r for r in box_contents(request, principal, box)
             if sort_key(r.get("personnummer")) > sort_key(number)]
    try:
        get_runtime(request).custody.archive_copy(principal, UUID(record["id"]), UUID(copy["id"]),
                                              box=box, shelf=shelf or None)
    except DomainError as error:
        return _box_page(request, principal, box=box, shelf=shelf, personnummer=personnummer,
                         errors={"personnummer": t.message(error).text},
                         status=status_of(error)[0])
    target = f"/arkiv/kartong?kartong={box}&hylla={shelf}&senast={record['id']}"
    if later:
        target += f"&fore={later[0]['record_id']}"
    return redirect(target)


# -- the verification session ---------------------------------------------------------------


def _verify_page(request: Request, principal: Principal, *, errors: Errors | None = None,
                 personnummer: str = "", outcome: str = "ok", note: str = "",
                 status: int = 200) -> Response:
    require_archive_copy_work(principal, doing="verify copies")
    last = _name(request, principal, request.query_params.get("senast"))
    result = request.query_params.get("resultat")
    return render(request, "verify_session.html", principal=principal, errors=errors or {},
                  personnummer=personnummer, outcome=outcome, note=note, last=last,
                  result=result if result in ("ok", "discrepancy") else None, status=status,
                  canonical="/arkiv/kontroll", title_key="session.verify.title")


@router.get("/arkiv/kontroll")
def verify_session(request: Request, principal: WebUser) -> Response:
    return _verify_page(request, principal)


@router.post("/arkiv/kontroll", dependencies=CSRF)
def verify_scanned(request: Request, principal: WebUser,
                   personnummer: Annotated[str, Form()] = "",
                   outcome: Annotated[str, Form()] = "ok",
                   note: Annotated[str, Form()] = "") -> Response:
    require_archive_copy_work(principal, doing="verify copies")
    t = translator(request)
    record, errors = _find(request, principal, t, personnummer)
    copy = _live_archive_copy(record) if record else None
    if record is not None and (copy is None or copy["status"] == CopyStatus.PRINTED):
        errors = {"personnummer": t("work.errors.not_archived")}
    elif copy is not None and copy["status"] != CopyStatus.ARCHIVED:
        errors = {"personnummer": t("work.errors.already_verified")}
    if errors or record is None or copy is None:
        return _verify_page(request, principal, errors=errors, personnummer=personnummer,
                            outcome=outcome, note=note, status=409 if record else 422)
    try:
        get_runtime(request).custody.verify_copy(principal, UUID(record["id"]), UUID(copy["id"]),
                                             outcome=outcome, note=note.strip() or None)
    except DomainError as error:
        field = error.field if isinstance(error, InvalidInputError) and error.field else None
        return _verify_page(request, principal, personnummer=personnummer, outcome=outcome,
                            note=note, status=status_of(error)[0],
                            errors={field or "personnummer": t.message(error).text})
    return redirect(f"/arkiv/kontroll?senast={record['id']}&resultat={outcome}")


# -- a school unit's deliveries ----------------------------------------------------------------


@router.get("/skola/leverans")
def deliveries(request: Request, principal: WebUser, sida: str | None = None) -> Response:
    require_school_custodian(principal, doing="record deliveries to a school unit")
    waiting = _waiting(request, principal)
    done = request.query_params.get("klart")
    return render(request, "deliveries.html", principal=principal,
                  paged=paginate(waiting, sida, {}), count=len(waiting),
                  delivered=request.query_params.get("antal"),
                  done="delivered_many" if done == "delivered_many" else None,
                  title_key="session.delivery.title")


def _waiting(request: Request, principal: Principal) -> list[dict[str, Any]]:
    if not principal.school_id:
        return []
    held = get_runtime(request).queries.holdings(principal, principal.school_id)["copies"]
    return [r for r in held if r["status"] == CopyStatus.PRINTED]


@router.post("/skola/leverans", dependencies=CSRF)
async def deliver_many(request: Request, principal: WebUser) -> Response:
    from starlette.concurrency import run_in_threadpool

    require_school_custodian(principal, doing="record deliveries to a school unit")
    form = await request.form()
    chosen = {str(v) for v in form.getlist("copy")}
    everything = form.get("alla") == "1"

    def deliver() -> int:
        count = 0
        for row in _waiting(request, principal):
            if everything or row["copy_id"] in chosen:
                get_runtime(request).custody.deliver_copy(
                    principal, UUID(row["record_id"]), UUID(row["copy_id"]),
                    principal.school_id or "")
                count += 1
        return count

    count = await run_in_threadpool(deliver)
    return redirect(f"/skola/leverans?klart=delivered_many&antal={count}")


# -- printing in bulk ----------------------------------------------------------------------


@router.post("/arkiv/utskrift", dependencies=CSRF)
async def print_many(request: Request, principal: WebUser) -> Response:
    from starlette.concurrency import run_in_threadpool

    from application.work_lists import needing_print

    require_archive_copy_work(principal, doing="print copies")
    form = await request.form()
    purpose = str(form.get("purpose") or "archive")
    school = str(form.get("school_id") or "") or None
    rt = get_runtime(request)
    if purpose == "school" and not school:
        raise InvalidInputError("a school copy names its school unit", field="school_id")

    def print_all() -> int:
        waiting = needing_print(rt.queries, principal, purpose, school)
        for record_id in waiting:
            rt.custody.print_copy(principal, record_id, purpose,
                                  school if purpose == "school" else None)
        return len(waiting)

    count = await run_in_threadpool(print_all)
    return redirect(f"/oversikt/saknas?klart=printed_many&antal={count}")


# -- the year-end closing and the agreement's termination --------------------------------


@router.get("/lasar")
def school_year(request: Request, principal: WebUser) -> Response:
    require_school_year_closing(principal)
    return render(request, "school_year.html", principal=principal, errors={}, year="",
                  result=None, title_key="session.year.title")


@router.post("/lasar", dependencies=CSRF)
def close_school_year(request: Request, principal: WebUser,
                      year: Annotated[str, Form()] = "") -> Response:
    require_school_year_closing(principal)
    t = translator(request)
    if not year.strip().isdigit() or not 2000 <= int(year) <= 2100:
        return render(request, "school_year.html", principal=principal, status=422,
                      errors={"year": t("work.errors.year")}, year=year, result=None,
                      canonical="/lasar", title_key="session.year.title")
    rt = get_runtime(request)
    result = Migration(rt.custody, rt.queries).close_school_year(principal, int(year))
    return render(request, "school_year.html", principal=principal, errors={}, year=year,
                  result=result, canonical="/lasar", title_key="session.year.title")


@router.post("/avtal/uppsagning", dependencies=CSRF)
def terminate_agreement(request: Request, principal: WebUser) -> Response:
    rt = get_runtime(request)
    Migration(rt.custody, rt.queries).terminate_agreement(principal)
    return redirect("/oversikt?klart=terminated")
