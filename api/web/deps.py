"""What every web page depends on: the signed-in principal, the CSRF check on every POST,
the ``?klart=`` message and the personnummer error in the user's language.

Pages are split by concern like :mod:`api.routes` (:mod:`api.web.signin_pages`,
:mod:`api.web.overview`, :mod:`api.web.orders`, …); each declares
``router = APIRouter(include_in_schema=False, route_class=WebRoute)``, takes the principal
as ``principal: WebUser`` and guards every POST with ``dependencies=CSRF``.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Final

from fastapi import Depends, Request

from api.deps import get_runtime, route_of
from api.web.i18n import Translator
from api.web.rendering import SignInRequiredError
from api.web.session import CSRF_FIELD, check_csrf, session_id
from application.policy import Principal
from domain.errors import InvalidInputError, NotAuthenticatedError

DONE: Final = frozenset({"ordered", "granted", "refused", "handed_out", "returned",
                         "received", "signed_out", "terminated"})
Errors = dict[str, str]


def signed_in(request: Request) -> Principal:
    sid = session_id(request)
    if not sid:
        raise SignInRequiredError
    try:
        principal: Principal = get_runtime(request).credentials.session_principal(sid)
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
