"""Ordering documents, and the custodian's inbox where orders are decided.

| URL | for | purpose |
| --- | --- | --- |
| ``/bestall`` | teachers, mentors, principals | order a document; own requests |
| ``/inkorg`` | custodians | decide requests, hand out, take back, receive transfers |
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web.deps import CSRF, Errors, WebUser, done_message, personnummer_error
from api.web.rendering import WebRoute, redirect, render, translator
from application.policy import Principal
from domain.errors import (
    DomainError,
    IllegalTransitionError,
    InvalidInputError,
    NotAuthorisedError,
    NotFoundError,
)

router = APIRouter(include_in_schema=False, route_class=WebRoute)


# -- ordering documents -----------------------------------------------------------------------


def _order_page(request: Request, principal: Principal, *, errors: Errors, values: dict[str, str],
                refusal: DomainError | None = None, problem: DomainError | None = None,
                status: int = 200) -> Response:
    from api.web.paging import paginate
    from application.student_search import student_labels

    queries = get_runtime(request).queries
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
    rt = get_runtime(request)
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
                           refusal=refused)
    except IllegalTransitionError as error:
        return _order_page(request, principal, errors={}, values=values, status=409,
                           problem=error)
    return redirect("/bestall?klart=ordered")


# -- the custodian's inbox --------------------------------------------------------------------


def _inbox_page(request: Request, principal: Principal, *, errors: dict[str, Errors] | None = None,
                values: dict[str, str] | None = None, status: int = 200) -> Response:
    queries = get_runtime(request).queries
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
    get_runtime(request).custody.decide_request(principal, request_id, granted=decision == "grant",
                                            reason=reason)
    return redirect("/inkorg?klart=" + ("granted" if decision == "grant" else "refused"))


@router.post("/inkorg/{request_id}/utlamning", dependencies=CSRF)
def hand_out(request: Request, request_id: UUID, principal: WebUser) -> Response:
    get_runtime(request).custody.hand_out(principal, request_id)
    return redirect("/inkorg?klart=handed_out")


@router.post("/inkorg/{request_id}/aterlamning", dependencies=CSRF)
def take_back(request: Request, request_id: UUID, principal: WebUser) -> Response:
    get_runtime(request).custody.take_back(principal, request_id)
    return redirect("/inkorg?klart=returned")


@router.post("/inkorg/kopia/{record_id}/{copy_id}/mottagen", dependencies=CSRF)
def receive(request: Request, record_id: UUID, copy_id: UUID, principal: WebUser) -> Response:
    get_runtime(request).custody.receive_copy(principal, record_id, copy_id)
    return redirect("/inkorg?klart=received")
