"""The web pages: thin handlers that ask the application and render a template.

URLs are Swedish, like the UI's first language; ``?lang=en`` switches to English and is
remembered in a cookie. Reading pages are GETs; every change is a POST form carrying a
CSRF token (see :mod:`api.web.session`), answered with a redirect to the page that shows
the result (``?klart=`` names what was done) or, when input is wrong, with the same form
and a message next to the field. Who may see and do what is decided by the application;
its refusals become error pages in :class:`api.web.rendering.WebRoute`.

| URL | for | purpose |
| --- | --- | --- |
| ``/`` | everyone | to the role's start page, or to sign-in |
| ``/login``, ``/logout`` | everyone | sign in with the staff token; sign out |
| ``/oversikt`` | readers, principals | migration progress per school unit; readiness |
| ``/elev`` | readers | find a student's record by personnummer |
| ``/post/{id}`` | readers | a record and its lifecycle forms (:mod:`api.web.work`) |
| ``/logg/{seq}`` | readers | an event's inclusion proof in the transparency log |
| ``/bestall`` | teachers, mentors, principals | order a document; own requests |
| ``/inkorg`` | custodians | decide requests, hand out, take back, receive transfers |
| ``/bestallningar`` | all | the request log, refusals included |
| ``/arkiv/hyllforteckning`` | readers | the archive shelf list (printable), box labels |
| ``/gallring`` | readers | the culling register and each certificate (printable) |
| ``/granskning`` | auditors | checkpoint, verification, export bundle |
| ``/inventering`` | archivists | upload the Unikum inventory; per-row errors |
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, Response

from api.deps import route_of
from api.web import navigation, presenters
from api.web.i18n import Translator
from api.web.rendering import (
    SECURITY_HEADERS,
    SignInRequiredError,
    WebRoute,
    redirect,
    render,
    runtime,
    translator,
)
from api.web.session import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    CsrfRejectedError,
    check_csrf,
    end_session,
    new_login_nonce,
    remember_login_nonce,
    session_id,
    start_session,
)
from application.policy import (
    Principal,
    may_read_agreement,
    require_audit,
    require_capture,
    require_log_proofs,
)
from domain.culling import DECISION_ID, POINTS
from domain.errors import (
    IllegalTransitionError,
    InvalidInputError,
    NotAuthenticatedError,
    NotAuthorisedError,
    NotFoundError,
)

router = APIRouter(include_in_schema=False, route_class=WebRoute)

STATIC: Final = Path(__file__).parent / "static"
MAX_INVENTORY_BYTES: Final = 100 * 1024 * 1024
MISSING_SHOWN: Final = 10
REQUEST_STATUSES: Final = ("pending", "granted", "refused", "handed_out", "returned")
DONE: Final = frozenset({"ordered", "granted", "refused", "handed_out", "returned",
                         "received", "signed_out", "terminated"})
Errors = dict[str, str]


# -- dependencies ------------------------------------------------------------------------------


def signed_in(request: Request) -> Principal:
    sid = session_id(request)
    if not sid:
        raise SignInRequiredError
    try:
        principal: Principal = runtime(request).credentials.session_principal(sid)
    except NotAuthenticatedError:
        raise SignInRequiredError(expired=True) from None
    principal = dataclasses.replace(principal, via=route_of(request))
    request.state.principal = principal
    return principal


async def csrf_checked(request: Request) -> None:
    form = await request.form()
    check_csrf(request, form.get(CSRF_FIELD))


WebUser = Annotated[Principal, Depends(signed_in)]
CSRF: Final = [Depends(csrf_checked)]


def done_message(request: Request) -> str | None:
    """The code of what the last POST did (``?klart=granted``), if it is one we know."""
    code = request.query_params.get("klart")
    return code if code in DONE else None


def personnummer_error(t: Translator, error: InvalidInputError) -> str:
    """A personnummer problem in the user's language (the domain explains in English)."""
    text = str(error)
    for fragment, key in (("check digit", "check_digit"), ("not a personnummer", "format"),
                          ("does not exist", "date"), ("in the future", "future")):
        if fragment in text:
            return t(f"errors.personnummer.{key}")
    return t("errors.personnummer.invalid")


# -- signing in and out ----------------------------------------------------------------------


@router.get("/")
def start(request: Request) -> Response:
    if not session_id(request):
        return redirect("/login")
    return redirect(navigation.home(signed_in(request)))


@router.get("/login")
def login_form(request: Request, next: str | None = None, expired: bool = False) -> Response:
    sid = session_id(request)
    if sid:
        try:
            principal = runtime(request).credentials.session_principal(sid)
        except NotAuthenticatedError:
            pass
        else:
            return redirect(navigation.safe_next(next) or navigation.home(principal))
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_nonce()
    response = render(request, "login.html", csrf=nonce, next=navigation.safe_next(next) or "",
                      expired=expired, errors={}, done=done_message(request),
                      title_key="login.title", oidc=runtime(request).settings.uses_oidc)
    remember_login_nonce(response, request, nonce)
    if sid:
        end_session(response, request)
    return response


@router.post("/login")
def login(request: Request, token: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "", csrf_token: Annotated[str, Form()] = "") -> Response:
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not nonce or csrf_token != nonce:
        raise CsrfRejectedError
    t = translator(request)
    errors: Errors = {}
    principal: Principal | None = None
    if not token.strip():
        errors["token"] = t("login.error.empty")
    else:
        try:
            principal = runtime(request).custody.authenticate(token.strip())
        except NotAuthenticatedError:
            errors["token"] = t("login.error.unknown")
    if principal is None:
        return render(request, "login.html", status=401, csrf=nonce,
                      next=navigation.safe_next(next) or "", expired=False, errors=errors,
                      done=None, title_key="login.title",
                      oidc=runtime(request).settings.uses_oidc)
    response = redirect(navigation.safe_next(next) or navigation.home(principal))
    start_session(response, request, runtime(request).credentials.start_session(principal))
    return response


@router.get("/logout")
def logout_form(request: Request, principal: WebUser) -> Response:
    return render(request, "logout.html", principal=principal, title_key="logout.title")


@router.post("/logout", dependencies=CSRF)
def logout(request: Request) -> Response:
    runtime(request).credentials.end_session(session_id(request))
    response = redirect("/login?klart=signed_out")
    end_session(response, request)
    return response


# -- overview ---------------------------------------------------------------------------------


@router.get("/oversikt")
def overview(request: Request, principal: WebUser) -> Response:
    queries = runtime(request).queries
    schools = presenters.school_progress(queries.progress(principal))
    readiness = missing = None
    more = 0
    if may_read_agreement(principal):
        readiness = queries.readiness(principal)

        def student(record_id: str) -> dict[str, Any] | None:
            try:
                found: dict[str, Any] = queries.record(principal, UUID(record_id))
            except (NotAuthorisedError, NotFoundError):
                return None
            return found

        missing, more = presenters.missing_items(readiness, MISSING_SHOWN, student)
    return render(request, "overview.html", principal=principal, schools=schools,
                  totals=presenters.totals(schools), readiness=readiness, missing=missing,
                  more_missing=more, stages=presenters.STAGES, done=done_message(request),
                  title_key="overview.title")


# -- finding a student and reading a record ------------------------------------------------------


@router.post("/elev", dependencies=CSRF)
def find_student(request: Request, principal: WebUser,
                 personnummer: Annotated[str, Form()] = "") -> Response:
    rt = runtime(request)
    t = translator(request)
    errors: Errors = {}
    if not personnummer.strip():
        errors["personnummer"] = t("errors.personnummer.required")
    else:
        try:
            record_id = rt.custody.student_record_id(personnummer)
        except InvalidInputError as error:
            errors["personnummer"] = personnummer_error(t, error)
        else:
            found = rt.queries.records_by_personnummer(principal, record_id)
            if found:
                return redirect(f"/post/{found[0]['id']}")
    return render(request, "find_student.html", principal=principal, errors=errors,
                  personnummer=personnummer, not_found=not errors, q="", searched=False,
                  paged=None, status=422 if errors else 404, canonical="/elev",
                  title_key="find.title")


@router.get("/logg/{seq}")
def proof_page(request: Request, seq: int, principal: WebUser,
               post: UUID | None = None) -> Response:
    require_log_proofs(principal)
    log = runtime(request).log
    log.seal_and_checkpoint()
    proof = log.proof_text(seq)
    return render(request, "proof.html", principal=principal, seq=seq, proof=proof,
                  record_id=str(post) if post else None, title_key="proof.title")


# -- ordering documents -----------------------------------------------------------------------


def _order_page(request: Request, principal: Principal, *, errors: Errors, values: dict[str, str],
                refusal: str | None = None, problem: str | None = None,
                status: int = 200) -> Response:
    from api.web.paging import paginate
    from application.student_search import student_labels

    queries = runtime(request).queries
    mine = list(reversed(queries.request_log(principal, actor_id=principal.id)))
    paged = paginate(mine, request.query_params.get("sida"), {})
    return render(request, "order.html", principal=principal, errors=errors, values=values,
                  refusal=refusal, problem=problem, requests=paged.items, paged=paged,
                  students=student_labels(queries, principal, paged.items),
                  done=done_message(request), status=status, canonical="/bestall",
                  title_key="order.title")


@router.get("/bestall")
def order_form(request: Request, principal: WebUser) -> Response:
    return _order_page(request, principal, errors={}, values={"personnummer": "", "purpose": ""})


@router.post("/bestall", dependencies=CSRF)
def order(request: Request, principal: WebUser, personnummer: Annotated[str, Form()] = "",
          purpose: Annotated[str, Form()] = "") -> Response:
    rt = runtime(request)
    t = translator(request)
    values = {"personnummer": personnummer, "purpose": purpose}
    errors: Errors = {}
    if not personnummer.strip():
        errors["personnummer"] = t("errors.personnummer.required")
    if not purpose.strip():
        errors["purpose"] = t("errors.purpose_required")
    if errors:
        return _order_page(request, principal, errors=errors, values=values, status=422)
    try:
        record_id = rt.custody.student_record_id(personnummer)
        rt.custody.make_request(principal, record_id, purpose)
    except InvalidInputError as error:
        if error.field == "purpose":
            errors["purpose"] = t("errors.purpose_required")
        else:
            errors["personnummer"] = personnummer_error(t, error)
        return _order_page(request, principal, errors=errors, values=values, status=422)
    except NotFoundError:
        errors["personnummer"] = t("errors.no_record")
        return _order_page(request, principal, errors=errors, values=values, status=404)
    except NotAuthorisedError as refused:
        return _order_page(request, principal, errors={}, values=values, status=403,
                           refusal=str(refused))
    except IllegalTransitionError as error:
        return _order_page(request, principal, errors={}, values=values, status=409,
                           problem=str(error))
    return redirect("/bestall?klart=ordered")


# -- the custodian's inbox --------------------------------------------------------------------


def _inbox_page(request: Request, principal: Principal, *, errors: dict[str, Errors] | None = None,
                values: dict[str, str] | None = None, status: int = 200) -> Response:
    queries = runtime(request).queries
    sections: dict[str, list[dict[str, Any]]] = {}
    incoming: list[dict[str, Any]] = []
    if principal.location is not None:
        for state in ("pending", "granted", "handed_out"):
            sections[state] = queries.request_log(principal, status=state)
        if principal.school_id:
            incoming = queries.holdings(principal, principal.school_id)["incoming"]
    students: dict[str, dict[str, Any]] = {}
    for rows in sections.values():
        for row in rows:
            if row["record_id"] in students:
                continue
            try:
                students[row["record_id"]] = queries.record(principal, UUID(row["record_id"]))
            except (NotAuthorisedError, NotFoundError):
                students[row["record_id"]] = {}
    return render(request, "inbox.html", principal=principal, sections=sections,
                  incoming=incoming, students=students, errors=errors or {},
                  values=values or {}, done=done_message(request), status=status,
                  canonical="/inkorg", title_key="inbox.title")


@router.get("/inkorg")
def inbox(request: Request, principal: WebUser) -> Response:
    return _inbox_page(request, principal)


@router.post("/inkorg/{request_id}/beslut", dependencies=CSRF)
def decide(request: Request, request_id: UUID, principal: WebUser,
           decision: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    t = translator(request)
    key = str(request_id)
    if decision not in ("grant", "refuse"):
        return _inbox_page(request, principal, status=422,
                           errors={key: {"decision": t("errors.decision_required")}},
                           values={key: reason})
    if not reason.strip():
        return _inbox_page(request, principal, status=422,
                           errors={key: {"reason": t("errors.reason_required")}},
                           values={key: reason})
    runtime(request).custody.decide_request(principal, request_id, granted=decision == "grant",
                                            reason=reason)
    return redirect("/inkorg?klart=" + ("granted" if decision == "grant" else "refused"))


@router.post("/inkorg/{request_id}/utlamning", dependencies=CSRF)
def hand_out(request: Request, request_id: UUID, principal: WebUser) -> Response:
    runtime(request).custody.hand_out(principal, request_id)
    return redirect("/inkorg?klart=handed_out")


@router.post("/inkorg/{request_id}/aterlamning", dependencies=CSRF)
def take_back(request: Request, request_id: UUID, principal: WebUser) -> Response:
    runtime(request).custody.take_back(principal, request_id)
    return redirect("/inkorg?klart=returned")


@router.post("/inkorg/kopia/{record_id}/{copy_id}/mottagen", dependencies=CSRF)
def receive(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser) -> Response:
    runtime(request).custody.receive_copy(principal, record_id, copy_id)
    return redirect("/inkorg?klart=received")


# -- the request log ----------------------------------------------------------------------------


# -- the archive: shelf list and box labels -------------------------------------------------------


@router.get("/arkiv/hyllforteckning/etiketter")
def box_labels(request: Request, principal: WebUser, kartong: str = "") -> Response:
    from api.web.barcodes import code128_data_uri

    rows = runtime(request).queries.shelf_list(principal)
    if kartong.strip():
        rows = [r for r in rows if r.get("box") == kartong.strip()]
    return render(request, "box_labels.html", principal=principal,
                  labels=presenters.box_labels(rows), barcode=code128_data_uri,
                  title_key="labels.title")


# -- culling --------------------------------------------------------------------------------------


@router.get("/gallring/{certificate_id}")
def certificate(request: Request, certificate_id: UUID, principal: WebUser) -> Response:
    cull = runtime(request).queries.cull(principal, certificate_id)
    return render(request, "certificate.html", principal=principal, cull=cull,
                  point_known=(cull["decision"] == DECISION_ID and int(cull["point"]) in POINTS),
                  title_key="certificate.title")


@router.get("/gallring/{certificate_id}/intyg")
def certificate_download(request: Request, certificate_id: UUID, principal: WebUser) -> Response:
    rt = runtime(request)
    rt.queries.cull(principal, certificate_id)  # the same access as the register
    return Response(rt.certificate_text(certificate_id), media_type="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="gallringsbevis-{certificate_id}.json"',
                             "Cache-Control": "no-store"})


# -- the auditor ----------------------------------------------------------------------------------


def _audit_page(request: Request, principal: Principal, report: Any = None,
                seconds: float | None = None) -> Response:
    log = runtime(request).log
    note = log.latest_checkpoint() or log.seal_and_checkpoint()
    lines = (note or "").split("\n")
    checkpoint = ({"origin": lines[0], "size": lines[1], "root": lines[2], "note": note}
                  if note and len(lines) > 2 else None)
    keys = [k.as_dict() for k in runtime(request).keyring.all()]
    return render(request, "audit.html", principal=principal, checkpoint=checkpoint, keys=keys,
                  report=report, seconds=seconds, canonical="/granskning",
                  title_key="audit.title")


@router.get("/granskning")
def audit(request: Request, principal: WebUser) -> Response:
    require_audit(principal)
    return _audit_page(request, principal)


@router.post("/granskning", dependencies=CSRF)
def run_verification(request: Request, principal: WebUser) -> Response:
    require_audit(principal, doing="verify the store")
    rt = runtime(request)
    events = rt.custody.recorder.max_notification_id() or 0
    started = time.monotonic()
    # In-process for everyday stores: a process pool forked from a threaded server is
    # fragile, and small stores verify in well under a second anyway.
    report = rt.verify(workers=1 if events < 50_000 else None)
    return _audit_page(request, principal, report=report,
                       seconds=time.monotonic() - started)


@router.get("/granskning/export")
def export(request: Request, principal: WebUser) -> Response:
    require_audit(principal, doing="export the store")
    data = runtime(request).export_bundle()
    return Response(data, media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="custody-bundle.json"',
                             "Cache-Control": "no-store"})


# -- capture: the Unikum inventory ----------------------------------------------------------------


def _importer() -> Any:
    try:
        from application.importing import import_inventory
    except ImportError:
        return None
    return import_inventory


@router.get("/inventering")
def inventory_form(request: Request, principal: WebUser) -> Response:
    require_capture(principal, doing="import the Unikum inventory")
    return render(request, "inventory.html", principal=principal, errors={}, report=None,
                  available=_importer() is not None, filename="", title_key="inventory.title")


@router.post("/inventering", dependencies=CSRF)
async def upload_inventory(request: Request, principal: WebUser,
                           file: Annotated[UploadFile | None, File()] = None) -> Response:
    require_capture(principal, doing="import the Unikum inventory")
    t = translator(request)
    importer = _importer()
    errors: Errors = {}
    report = None
    filename = (file.filename or "") if file else ""
    if importer is None:
        errors["file"] = t("inventory.unavailable")
    elif file is None or not filename:
        errors["file"] = t("errors.file_required")
    else:
        data = await file.read(MAX_INVENTORY_BYTES + 1)
        if len(data) > MAX_INVENTORY_BYTES:
            errors["file"] = t("errors.file_too_large", megabytes=MAX_INVENTORY_BYTES // 2**20)
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError:
                errors["file"] = t("errors.file_not_utf8")
            else:
                from starlette.concurrency import run_in_threadpool

                try:
                    report = await run_in_threadpool(importer, runtime(request).custody,
                                                     principal, text)
                except InvalidInputError as error:
                    errors["file"] = t("errors.file_unreadable", detail=t.message(str(error)).text)
    status = 422 if errors else (200 if report is None or report.ok else 422)
    return render(request, "inventory.html", principal=principal, errors=errors, report=report,
                  available=importer is not None, filename=filename, status=status,
                  canonical="/inventering", title_key="inventory.title")


# -- static files ---------------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise NotFoundError(f"no static file {name}")
    headers = {**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"}
    return FileResponse(path, headers=headers)
