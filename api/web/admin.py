"""The admin's staff pages: who works with the records, their tokens, revocation.

| URL | purpose |
| --- | --- |
| ``/personal`` | staff list with roles and school units; add a staff member |
| ``/personal/{id}`` | one staff member: tokens (create, withdraw); revoke all access |

A new token is shown once, on the page that answers the POST that made it (never in a
URL, never again). Every change is a POST with the session's CSRF token; the rights are
the application's (``application.policy``): only an admin gets past the first call.

May import the application and the web layer's own modules.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Final
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web.deps import CSRF, WebUser
from api.web.rendering import WebRoute, redirect, render, translator
from application.policy import Principal, require_set_up
from domain.actor import Role
from domain.errors import InvalidInputError

router = APIRouter(include_in_schema=False, route_class=WebRoute)

DONE: Final = frozenset({"added", "withdrawn", "revoked"})
STOCKHOLM: Final = ZoneInfo("Europe/Stockholm")
Errors = dict[str, str]


def admin_user(principal: WebUser) -> Principal:
    require_set_up(principal, doing="manage staff")
    return principal


Admin = Annotated[Principal, Depends(admin_user)]


def done_code(request: Request) -> str | None:
    code = request.query_params.get("klart")
    return code if code in DONE else None


def staff_page(request: Request, principal: Principal, *, errors: Errors | None = None,
               form: dict[str, str] | None = None, new_token: dict[str, str] | None = None,
               status: int = 200) -> Response:
    rt = get_runtime(request)
    return render(request, "admin_staff.html", principal=principal, status=status,
                  staff=rt.queries.actors(), schools=rt.queries.schools(),
                  roles=[r.value for r in Role], errors=errors or {}, form=form or {},
                  new_token=new_token, done=done_code(request), canonical="/personal",
                  title_key="admin.title")


def person_page(request: Request, principal: Principal, actor_id: UUID, *,
                errors: Errors | None = None, new_token: dict[str, str] | None = None,
                status: int = 200) -> Response:
    rt = get_runtime(request)
    member = rt.custody.actor_now(actor_id)
    tokens = rt.credentials.tokens(principal, actor_id)
    return render(request, "admin_person.html", principal=principal, status=status,
                  member=member, tokens=tokens, errors=errors or {}, new_token=new_token,
                  done=done_code(request), canonical=f"/personal/{actor_id}",
                  title_key="admin.title")


@router.get("/personal")
def staff(request: Request, principal: Admin) -> Response:
    return staff_page(request, principal)


@router.post("/personal", dependencies=CSRF)
def add_staff(request: Request, principal: Admin, name: Annotated[str, Form()] = "",
              role: Annotated[str, Form()] = "", school_id: Annotated[str, Form()] = ""
              ) -> Response:
    form = {"name": name, "role": role, "school_id": school_id}
    try:
        actor_id, token = get_runtime(request).custody.register_actor(
            principal, name, role, school_id or None)
    except InvalidInputError as error:
        field = error.field if error.field in form else "name"
        return staff_page(request, principal, errors={field: str(error)}, form=form,
                          status=422)
    return staff_page(request, principal, new_token={"actor_id": str(actor_id),
                                                     "name": name.strip(), "token": token})


@router.get("/personal/{actor_id}")
def person(request: Request, actor_id: UUID, principal: Admin) -> Response:
    return person_page(request, principal, actor_id)


def parse_expiry(text: str) -> dt.datetime | None:
    """A date (``2027-06-30``): the token is valid through that day, Swedish time."""
    if not text.strip():
        return None
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInputError("write the date as YYYY-MM-DD",
                                field="expires_at") from None
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), STOCKHOLM)


@router.post("/personal/{actor_id}/nycklar", dependencies=CSRF)
def create_token(request: Request, actor_id: UUID, principal: Admin,
                 name: Annotated[str, Form()] = "",
                 expires_at: Annotated[str, Form()] = "") -> Response:
    try:
        token_id, token = get_runtime(request).credentials.issue_token(
            principal, actor_id, name, parse_expiry(expires_at))
    except InvalidInputError as error:
        t = translator(request)
        field = "expires_at" if error.field == "expires_at" else "token_name"
        return person_page(request, principal, actor_id, status=422,
                           errors={field: t.message(error).text})
    return person_page(request, principal, actor_id,
                       new_token={"id": str(token_id), "name": name.strip(), "token": token})


@router.post("/personal/{actor_id}/nycklar/{token_id}/dra-tillbaka", dependencies=CSRF)
def withdraw_token(request: Request, actor_id: UUID, token_id: UUID,
                   principal: Admin) -> Response:
    get_runtime(request).credentials.withdraw_token(principal, actor_id, token_id)
    return redirect(f"/personal/{actor_id}?klart=withdrawn")


@router.post("/personal/{actor_id}/aterkalla", dependencies=CSRF)
def revoke(request: Request, actor_id: UUID, principal: Admin,
           reason: Annotated[str, Form()] = "") -> Response:
    get_runtime(request).credentials.revoke(principal, actor_id, reason.strip()[:500])
    return redirect(f"/personal/{actor_id}?klart=revoked")

