"""Culling as on paper, in the web: the culling lists and the register of culling decisions.

| URL (POST unless noted) | for | step |
| --- | --- | --- |
| ``GET /gallringslistor`` | list readers | the lists, by status and school unit (paged) |
| ``GET``/``POST /gallringslistor/ny`` | proposers | propose a list: a decision's point and copies |
| ``GET /gallringslistor/{id}`` | list readers | the items (student column), the forms |
| ``/gallringslistor/{id}/beslut`` | approvers (never the proposer) | approve or reject |
| ``/gallringslistor/{id}/exemplar/{key}/forstoring`` | the holder | confirm the destruction |
| ``/gallringslistor/{id}/exemplar/{key}/aterkallelse`` | withdrawers | withdraw an item |
| ``GET /gallringslistor/{id}/protokoll?format=`` | list readers | the signed protocol |
| ``GET``/``POST /gallringsbeslut`` | readers; registrars | the decision register |

Each POST calls the same use case as the API (:mod:`application.culling`) and redirects
back (``?klart=``); a domain error is shown beside the field it concerns, in Swedish. Which
forms are offered is asked of :mod:`application.policy`; the use case still decides.

May import the application and the domain; reaches the runtime through the request.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Final
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.printable import protocol_printable, to_pdf
from api.problems import status_of
from api.web.deps import CSRF, WebUser
from api.web.error_messages import error_text, error_values
from api.web.i18n import Translator
from api.web.paging import paginate
from api.web.rendering import WebRoute, redirect, render, translator
from application.culling import Culling, Destruction, ItemIn, ItemsNotCullableError, PointIn
from application.policy import (
    SYSTEM_HELD,
    Principal,
    require_decision_registration,
    require_destroyer,
    require_holdings,
    require_list_approver,
    require_list_reader,
    require_may_propose_lists,
    require_record_lookup,
    require_rollover_reader,
    require_withdrawer,
)
from application.queries import sort_key
from application.student_search import find_students
from domain.culling import CULL_METHODS, DECISION_ID, Condition
from domain.culling_list import ItemStatus, ListStatus
from domain.errors import DomainError, InvalidInputError, NotAuthorisedError
from domain.personnummer import InvalidPersonnummerError, Personnummer
from domain.record import CopyStatus

router = APIRouter(include_in_schema=False, route_class=WebRoute)

LIST_STATUSES: Final = (ListStatus.PROPOSED, ListStatus.APPROVED, ListStatus.REJECTED,
                        ListStatus.EXECUTED)
METHODS: Final = ("shredding", "secure_disposal_bin", "incineration", "deletion")
DONE: Final = frozenset({"proposed", "approved", "rejected", "destroyed", "withdrawn"})
NO_STORE: Final = {"Cache-Control": "no-store"}
POINT_ROWS: Final = 4
Doc = dict[str, Any]
Errors = dict[str, dict[str, str]]

SWEDISH: Final = [(re.compile(p), s) for p, s in [
    (r"^a culling list is approved by someone other than the one who proposed it$",
     "Den som föreslog listan får inte själv attestera den. En annan person ska attestera."),
    (r"^a culling list is approved by the archivist, or by the principal .*$",
     "Listan attesteras av arkivarien eller av rektorn för den skolenhet vars skolexemplar "
     "står på listan."),
    (r"^a culling list is proposed by the archivist, or by the principal .*$",
     "Listan föreslås av arkivarien, eller av rektorn eller den utpekade personen för den "
     "skolenhet som förvarar alla exemplar på listan."),
    (r"^only the custodian of (\S+), who holds the paper, confirms its destruction$",
     "Bara den utpekade person som förvarar exemplaret bekräftar att det är förstört."),
    (r"^general information in the store is deleted by the archivist$",
     "Allmän information i arkivet raderas av arkivarien."),
    (r"^an item is withdrawn by the archivist or by the principal or custodian of .*$",
     "Ett exemplar återkallas av arkivarien, eller av rektorn eller den utpekade personen "
     "för skolenheten som förvarar det."),
    (r"^the destruction is confirmed once it happened; (\S+) is in the future.*$",
     r"Förstöringen bekräftas när den har skett; \1 ligger i framtiden."),
    (r"^date must be YYYY-MM-DD, not .*$",
     "Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-06-20."),
    (r"^paper is destroyed before a witness or by a contractor.*$",
     "Papper förstörs inför ett vittne eller av ett anlitat företag: skriv vittnets namn "
     "eller företagets referens."),
    (r"^say why the list is rejected$", "Skriv varför listan avslås."),
    (r"^culling list \S+ is not approved yet.*$",
     "Listan är inte attesterad än. Inget på den förstörs förrän en andra person har "
     "attesterat den."),
    (r"^culling list \S+ was rejected$", "Listan är avslagen; inget på den förstörs."),
    (r"^culling list \S+ was already \w+$", "Listan är redan beslutad."),
    (r"^culling list \S+ is \w+$", "Listan är redan avslutad."),
    (r"^item \S+ was destroyed already$", "Exemplaret är redan förstört."),
    (r"^item \S+ was withdrawn from the list$", "Exemplaret är återkallat från listan."),
    (r"^item \S+ was withdrawn already$", "Exemplaret är redan återkallat."),
    (r"^every item was withdrawn; nothing is left to approve$",
     "Alla exemplar är återkallade; det finns inget kvar att attestera."),
    (r"^a culling list names at least one item$", "Listan behöver minst ett exemplar."),
    (r"^already on culling list \S+$", "Exemplaret står redan på en annan gallringslista."),
    (r"^point \d+ allows culling general information only$",
     "Punkten medger bara gallring av allmän information."),
    (r"^decision \S.* is registered already$", "Beslutet finns redan i registret."),
]]


def message(t: Translator, error: DomainError | str) -> str:
    """A domain error (or a problem the use case named) in the page's language."""
    text = str(error)
    if t.lang == "sv":
        for pattern, swedish in SWEDISH:
            if pattern.search(text):
                return pattern.sub(swedish, text)
    if isinstance(error, DomainError):
        return t.message(error).text
    return t.message(text).text


def allowed(check: Callable[..., None], *args: Any) -> bool:
    """Whether the policy allows it (the use case checks again)."""
    try:
        check(*args)
    except NotAuthorisedError:
        return False
    return True


def _culling(request: Request) -> Culling:
    rt = get_runtime(request)
    return Culling(rt.custody, rt.queries)


def _blank(value: str) -> str | None:
    return value.strip() or None


def _field_of(error: DomainError, default: str) -> str:
    field = error.field if isinstance(error, InvalidInputError) and error.field else None
    return (field or default).split(".")[-1].split("[")[0]


# -- the lists --------------------------------------------------------------------------------


def _schools_of(row: Doc) -> set[str]:
    return {str(i["location"]) for i in row.get("items", [])}


@router.get("/gallringslistor")
def lists(request: Request, principal: WebUser, status: str = "", skola: str = "",
          sida: str | None = None) -> Response:
    culling = _culling(request)
    chosen = status if status in LIST_STATUSES else ""
    rows = list(reversed(culling.lists(principal, chosen or None)))
    if skola:
        rows = [r for r in rows if skola in _schools_of(r)]
    shown = [{**r, "count": len(r["items"]), "schools": sorted(_schools_of(r))} for r in rows]
    return render(request, "culling_lists.html", principal=principal,
                  paged=paginate(shown, sida, {"status": chosen, "skola": skola}),
                  statuses=LIST_STATUSES, chosen=chosen, school=skola,
                  schools=get_runtime(request).queries.schools(),
                  may_propose=allowed(require_may_propose_lists, principal),
                  title_key="clists.title")


# -- proposing ----------------------------------------------------------------------------------


def _points(culling: Culling, principal: Principal) -> list[tuple[str, str, Doc]]:
    """Every point that allows a cull: (form value, decision, point)."""
    out = []
    for decision in culling.decisions(principal):
        for point in decision["points"]:
            if point["allows"] != Condition.NOTHING.value:
                out.append((f"{decision['id']}|{point['point']}", decision["id"], point))
    return out


def _by_school(principal: Principal) -> bool:
    """Whether the caller can list a school unit's leavers: any unit's (the rollover
    candidates) or their own unit's (its holdings)."""
    return allowed(require_rollover_reader, principal) or bool(
        principal.school_id and allowed(require_holdings, principal, principal.school_id))


def _render_propose(request: Request, principal: Principal, *,
                    errors: dict[str, str] | None = None,
                    values: dict[str, str] | None = None,
                    problems: list[Doc] | None = None, status: int = 200) -> Response:
    require_may_propose_lists(principal)
    culling = _culling(request)
    return render(request, "culling_propose.html", principal=principal,
                  points=_points(culling, principal),
                  schools=get_runtime(request).queries.schools(),
                  by_school=_by_school(principal), seed=DECISION_ID,
                  own_school=None if allowed(require_rollover_reader, principal)
                  else principal.school_id,
                  errors=errors or {}, values=values or {}, problems=problems or [],
                  status=status, canonical="/gallringslistor/ny", title_key="clists.new.title")


@router.get("/gallringslistor/ny")
def propose_page(request: Request, principal: WebUser) -> Response:
    return _render_propose(request, principal, values={"source": "personnummer"})


def _own_holdings(request: Request, principal: Principal) -> list[Doc] | None:
    """The copies the caller's own school unit holds, when the caller may not look up
    students or read the rollover candidates but may read those (a principal)."""
    school_id = principal.school_id
    if not school_id or not allowed(require_holdings, principal, school_id):
        return None
    copies: list[Doc] = get_runtime(request).queries.holdings(principal, school_id)["copies"]
    return copies


def _leavers_of(request: Request, principal: Principal, culling: Culling,
                school_id: str) -> list[ItemIn]:
    """The school copies at ``school_id`` of students who finished compulsory school and
    are on no open list (the year-end closing's candidates)."""
    views = get_runtime(request).queries.views
    pairs: list[tuple[str, str]] = []
    if allowed(require_rollover_reader, principal):
        for row in get_runtime(request).queries.rollover_candidates(principal):
            if row.get("reason") != "finished_compulsory_school" or row.get("handled"):
                continue
            record = views.get("records", str(row["record_id"])) or {}
            pairs += [(str(row["record_id"]), c["id"])
                      for c in views.get_many("copies", record.get("copy_ids", []))
                      if c["purpose"] == "school" and c.get("school_id") == school_id
                      and c["status"] not in (CopyStatus.CULLED, CopyStatus.REPLACED)]
    elif school_id == principal.school_id:
        for row in _own_holdings(request, principal) or []:
            record = views.get("records", row["record_id"]) or {}
            if (record.get("departure") or {}).get("reason") == "finished_compulsory_school":
                pairs.append((row["record_id"], row["copy_id"]))
    return [ItemIn(UUID(record_id), UUID(copy_id)) for record_id, copy_id in pairs
            if culling.open_list_of(UUID(copy_id)) is None]


def _school_copy_of(request: Request, principal: Principal, personnummer: str
                    ) -> tuple[str, str | None] | None:
    """(record id, live school copy id or None) of the student, if the caller may see them."""
    queries = get_runtime(request).queries
    if not allowed(require_record_lookup, principal):
        held = _own_holdings(request, principal) or []
        row = next((r for r in held if r.get("personnummer") == personnummer), None)
        return (row["record_id"], row["copy_id"]) if row else None
    hit = next((h for h in find_students(queries, principal, personnummer)
                if h.personnummer == personnummer), None)
    if hit is None:
        return None
    record = queries.views.get("records", hit.record_id) or {}
    copy = next((c for c in queries.views.get_many("copies", record.get("copy_ids", []))
                 if c["purpose"] == "school"
                 and c["status"] not in (CopyStatus.CULLED, CopyStatus.REPLACED)),
                None)
    return hit.record_id, copy["id"] if copy else None


def _by_personnummer(request: Request, principal: Principal, t: Translator,
                     text: str) -> tuple[list[ItemIn], str | None]:
    """The live school copy of each student named one per line; the first problem."""
    items: list[ItemIn] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return [], t("clists.errors.no_personnummer")
    for number, line in enumerate(lines, 1):
        try:
            parsed = Personnummer.parse(line).formatted()
        except InvalidPersonnummerError as error:
            problem = error_text(getattr(error, "code", ""), error_values(error), t.lang)
            return [], t("clists.errors.line", line=number,
                         problem=problem or t("errors.personnummer.invalid"))
        found = _school_copy_of(request, principal, parsed)
        if found is None:
            return [], t("clists.errors.unknown", line=number, personnummer=parsed)
        if found[1] is None:
            return [], t("clists.errors.no_school_copy", line=number, personnummer=parsed)
        items.append(ItemIn(UUID(found[0]), UUID(found[1])))
    return items, None


@router.post("/gallringslistor/ny", dependencies=CSRF)
def propose(request: Request, principal: WebUser, basis: Annotated[str, Form()] = "",
            source: Annotated[str, Form()] = "personnummer",
            school_id: Annotated[str, Form()] = "",
            personnummer: Annotated[str, Form()] = "",
            note: Annotated[str, Form()] = "") -> Response:
    require_may_propose_lists(principal)
    t = translator(request)
    culling = _culling(request)
    values = {"basis": basis, "source": source, "school_id": school_id,
              "personnummer": personnummer, "note": note}
    errors: dict[str, str] = {}
    decision, _, point = basis.rpartition("|")
    if not decision or not point.isdigit():
        errors["basis"] = t("clists.errors.basis")
    items: list[ItemIn] = []
    by_school = source == "school" and _by_school(principal)
    if by_school:
        if not school_id:
            errors["school_id"] = t("clists.errors.school")
        else:
            items = _leavers_of(request, principal, culling, school_id)
            if not items:
                errors["school_id"] = t("clists.errors.no_leavers")
    else:
        items, problem = _by_personnummer(request, principal, t, personnummer)
        if problem:
            errors["personnummer"] = problem
    if errors:
        return _render_propose(request, principal, errors=errors, values=values, status=422)
    default = "school_id" if by_school else "personnummer"
    try:
        listed = culling.propose(principal, decision=decision, point=int(point), items=items,
                                 note=_blank(note))
    except ItemsNotCullableError as error:
        problems = [{**p, "problem": message(t, str(p["problem"]))} for p in error.items]
        return _render_propose(request, principal, errors={default: message(t, error)},
                               values=values, problems=problems, status=status_of(error)[0])
    except DomainError as error:
        field = _field_of(error, default)
        field = {"decision": "basis", "point": "basis", "items": default}.get(field, field)
        return _render_propose(request, principal, values=values, status=status_of(error)[0],
                               errors={field if field in values else default:
                                       message(t, error)})
    return redirect(f"/gallringslistor/{listed['id']}?klart=proposed")


# -- one list -------------------------------------------------------------------------------


def _students(request: Request, principal: Principal, items: list[Doc]) -> dict[str, Doc]:
    """The student of each item as this caller may see them (protected identities are a
    reference, as in every list); the read is logged."""
    queries = get_runtime(request).queries
    out: dict[str, Doc] = {}
    for item in items:
        record = queries.views.get("records", item["record_id"])
        if record is not None and item["record_id"] not in out:
            out[item["record_id"]] = queries.student(principal, record, listing=True)
    shown = [i for i, s in out.items() if s.get("personnummer")]
    if shown:
        queries.log_read(principal, "culling list", shown)
    return out


def render_list(request: Request, principal: Principal, list_id: UUID, *,
                errors: Errors | None = None, values: dict[str, str] | None = None,
                status: int = 200) -> Response:
    listed = _culling(request).culling_list(principal, list_id)
    view = get_runtime(request).queries.views.get("culling_lists", str(list_id)) or {}
    locations = {i["location"] for i in listed["items"] if i["status"] != ItemStatus.WITHDRAWN}
    proposed = listed["status"] == ListStatus.PROPOSED
    approved = listed["status"] == ListStatus.APPROVED
    students = _students(request, principal, listed["items"])
    rows = []
    for item in sorted(listed["items"], key=lambda i: sort_key(
            students.get(i["record_id"], {}).get("personnummer"))):
        open_item = item["status"] in (ItemStatus.PROPOSED, ItemStatus.APPROVED)
        rows.append({
            **item, "key": item["copy_id"] or item["record_id"],
            "student": students.get(item["record_id"], {}),
            "may_destroy": approved and item["status"] == ItemStatus.APPROVED and allowed(
                require_destroyer, principal, item["location"]),
            "may_withdraw": (proposed or approved) and open_item and allowed(
                require_withdrawer, principal, item["location"]),
        })
    done = request.query_params.get("klart")
    own = proposed and principal.id == listed["proposed_by"]
    return render(request, "culling_list.html", principal=principal, listed=listed,
                  view=view,
                  paged=paginate(rows, request.query_params.get("sida"), {}),
                  may_decide=proposed and not own and allowed(require_list_approver,
                                                              principal, locations),
                  own_proposal=own, methods=METHODS, seed=DECISION_ID, system_held=SYSTEM_HELD,
                  today=get_runtime(request).custody.today().isoformat(),
                  form_errors=errors or {}, values=values or {},
                  done=done if done in DONE else None, status=status,
                  canonical=f"/gallringslistor/{list_id}", title_key="clists.one.title")


@router.get("/gallringslistor/{list_id}")
def list_page(request: Request, list_id: UUID, principal: WebUser) -> Response:
    return render_list(request, principal, list_id)


def _do(request: Request, principal: Principal, list_id: UUID, form: str, field: str,
        done: str, step: Callable[[], Any], values: dict[str, str] | None = None,
        fields: tuple[str, ...] = ()) -> Response:
    """Run one use case; on a domain error show the list again with it beside the form."""
    try:
        step()
    except DomainError as error:
        named = _field_of(error, field)
        return render_list(request, principal, list_id, status=status_of(error)[0],
                           errors={form: {named if named in fields else field:
                                          message(translator(request), error)}},
                           values={f"{form}.{k}": v for k, v in (values or {}).items()})
    return redirect(f"/gallringslistor/{list_id}?klart={done}")


@router.post("/gallringslistor/{list_id}/beslut", dependencies=CSRF)
def decide(request: Request, list_id: UUID, principal: WebUser,
           outcome: Annotated[str, Form()] = "", reason: Annotated[str, Form()] = "") -> Response:
    culling = _culling(request)
    approve = outcome == "approve"
    return _do(request, principal, list_id, "decide", "reason",
               "approved" if approve else "rejected",
               lambda: culling.decide(principal, list_id, approved=approve,
                                      reason=_blank(reason)),
               {"reason": reason}, ("reason",))


@router.post("/gallringslistor/{list_id}/exemplar/{key}/forstoring", dependencies=CSRF)
def destroy(request: Request, list_id: UUID, key: UUID, principal: WebUser,
            method: Annotated[str, Form()] = "", date: Annotated[str, Form()] = "",
            witness: Annotated[str, Form()] = "",
            contractor_reference: Annotated[str, Form()] = "") -> Response:
    culling = _culling(request)
    values = {"method": method, "date": date, "witness": witness,
              "contractor_reference": contractor_reference}
    if method not in CULL_METHODS:
        t = translator(request)
        return render_list(request, principal, list_id, status=422,
                           errors={f"destroy_{key}": {"method": t("clists.errors.method")}},
                           values={f"destroy_{key}.{k}": v for k, v in values.items()})
    return _do(request, principal, list_id, f"destroy_{key}", "method", "destroyed",
               lambda: culling.destroy(principal, list_id, key, Destruction(
                   method, date.strip(), _blank(witness), _blank(contractor_reference))),
               values, ("date", "witness", "method"))


@router.post("/gallringslistor/{list_id}/exemplar/{key}/aterkallelse", dependencies=CSRF)
def withdraw(request: Request, list_id: UUID, key: UUID, principal: WebUser,
             reason: Annotated[str, Form()] = "") -> Response:
    culling = _culling(request)
    if not reason.strip():
        t = translator(request)
        return render_list(request, principal, list_id, status=422,
                           errors={f"withdraw_{key}": {"reason": t("clists.errors.reason")}})
    return _do(request, principal, list_id, f"withdraw_{key}", "reason", "withdrawn",
               lambda: culling.withdraw(principal, list_id, key, reason.strip()),
               {"reason": reason}, ("reason",))


@router.get("/gallringslistor/{list_id}/protokoll")
def protocol(request: Request, list_id: UUID, principal: WebUser,
             format: str = "html") -> Response:
    """The signed protocol of an executed list: a printable page (page numbers, repeated
    table headers, in the page's language), the PDF, or the signed JSON (``custody
    verify-certificate`` checks it offline)."""
    require_list_reader(principal)
    document = get_runtime(request).culling_protocol(list_id)
    name = f"gallringsprotokoll-{list_id}"
    if format == "pdf":
        pdf = to_pdf(protocol_printable(document, translator(request).lang))
        return Response(pdf, media_type="application/pdf",
                        headers={**NO_STORE,
                                 "Content-Disposition": f'inline; filename="{name}.pdf"'})
    if format == "json":
        return Response(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                        media_type="application/json",
                        headers={**NO_STORE,
                                 "Content-Disposition": f'attachment; filename="{name}.json"'})
    return render(request, "culling_protocol.html", principal=principal, document=document,
                  seed=DECISION_ID, system_held=SYSTEM_HELD, title_key="clists.protocol.title")


# -- the register of culling decisions -------------------------------------------------------


def _render_decisions(request: Request, principal: Principal, *,
                      errors: dict[str, str] | None = None,
                      values: dict[str, str] | None = None, status: int = 200) -> Response:
    rows = _culling(request).decisions(principal)
    done = request.query_params.get("klart")
    return render(request, "culling_decisions.html", principal=principal,
                  paged=paginate(rows, request.query_params.get("sida"), {}),
                  may_register=allowed(require_decision_registration, principal),
                  conditions=[c.value for c in Condition], seed=DECISION_ID,
                  point_rows=range(1, POINT_ROWS + 1),
                  errors=errors or {}, values=values or {},
                  done="registered" if done == "registered" else None, status=status,
                  canonical="/gallringsbeslut", title_key="cdecisions.title")


@router.get("/gallringsbeslut")
def decisions(request: Request, principal: WebUser) -> Response:
    return _render_decisions(request, principal)


@router.post("/gallringsbeslut", dependencies=CSRF)
async def register_decision(request: Request, principal: WebUser) -> Response:
    from starlette.concurrency import run_in_threadpool

    require_decision_registration(principal)
    form = await request.form()
    t = translator(request)
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    decision = values.get("decision", "").strip()
    body = values.get("body", "").strip()
    date = values.get("date", "").strip()
    if not decision:
        errors["decision"] = t("cdecisions.errors.decision")
    if not body:
        errors["body"] = t("cdecisions.errors.body")
    try:
        dt.date.fromisoformat(date)
    except ValueError:
        errors["date"] = t("cdecisions.errors.date")
    points = [PointIn(n, values.get(f"text_{n}", "").strip(),
                      values.get(f"allows_{n}", "nothing"))
              for n in range(1, POINT_ROWS + 1) if values.get(f"text_{n}", "").strip()]
    if not points:
        errors["text_1"] = t("cdecisions.errors.points")
    if errors:
        return _render_decisions(request, principal, errors=errors, values=values, status=422)
    culling = _culling(request)
    try:
        await run_in_threadpool(lambda: culling.register_decision(
            principal, decision=decision, body=body, date=date, points=points))
    except DomainError as error:
        field = _field_of(error, "decision")
        return _render_decisions(request, principal, status=status_of(error)[0],
                                 errors={field if field in values else "decision":
                                         message(t, error)}, values=values)
    return redirect("/gallringsbeslut?klart=registered")
