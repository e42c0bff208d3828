"""Sign-in through the municipality's identity provider (OpenID Connect).

| URL | purpose |
| --- | --- |
| ``/login/oidc`` | to the provider's login page (code flow, PKCE, state and nonce) |
| ``/login/oidc/callback`` | back from it: code exchanged, ID token checked, session begun |

What the browser must bring back (state, nonce, the PKCE verifier, where to go next) is
kept in a short-lived ``HttpOnly`` cookie scoped to ``/login/oidc``; ``SameSite=Lax`` so
it comes with the provider's redirect (a top-level GET), never with another site's POST.
A state that does not match it is refused before anything else is done.

The session cookie is ``SameSite=Strict``, which a browser does not send on a page
reached through another site's redirect: so the callback answers with a short page that
moves on to the start page by itself (``Refresh``), a navigation of our own.

May import the application and the web layer's own modules.
"""

from __future__ import annotations

import hmac
from typing import Final
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web import navigation
from api.web.rendering import render
from api.web.session import is_secure, start_session
from application.credentials import Credentials, NoRoleError, StaffRevokedError
from domain.errors import NotAuthenticatedError

router = APIRouter(include_in_schema=False)

FLOW_COOKIE: Final = "custody_oidc"
FLOW_PATH: Final = "/login/oidc"
FLOW_SECONDS: Final = 600


def credentials(request: Request) -> Credentials:
    found: Credentials = get_runtime(request).credentials
    return found


def redirect_uri(request: Request) -> str:
    base = get_runtime(request).settings.public_url or str(request.base_url)
    return base.rstrip("/") + FLOW_PATH + "/callback"


def refused(request: Request, reason: str, status: int) -> Response:
    response = render(request, "signin_refused.html", status=status, reason=reason,
                      title_key="signin.refused_title")
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


@router.get(FLOW_PATH)
def begin(request: Request, next: str | None = None) -> Response:
    creds = credentials(request)
    if creds.provider is None:
        return refused(request, "failed", 404)
    try:
        start = creds.begin_sign_in(redirect_uri(request))
    except NotAuthenticatedError:
        return refused(request, "failed", 502)
    response = Response(status_code=303, headers={"Location": start.url,
                                                  "Cache-Control": "no-store"})
    kept = "|".join((start.state, start.nonce, start.verifier,
                     quote(navigation.safe_next(next) or "", safe="")))
    response.set_cookie(FLOW_COOKIE, kept, max_age=FLOW_SECONDS, path=FLOW_PATH,
                        httponly=True, samesite="lax", secure=is_secure(request))
    return response


@router.get(FLOW_PATH + "/callback")
def callback(request: Request, code: str = "", state: str = "",
             error: str = "") -> Response:
    kept = (request.cookies.get(FLOW_COOKIE) or "").split("|")
    if len(kept) != 4 or not state or not hmac.compare_digest(kept[0], state):
        return refused(request, "state", 400)
    if error or not code:
        return refused(request, "failed", 401)
    _, nonce, verifier, next_path = kept
    creds = credentials(request)
    try:
        principal = creds.finish_sign_in(code, redirect_uri(request), verifier, nonce)
    except NoRoleError:
        return refused(request, "no_role", 403)
    except StaffRevokedError:
        return refused(request, "revoked", 403)
    except NotAuthenticatedError:
        return refused(request, "failed", 401)
    target = navigation.safe_next(unquote(next_path)) or navigation.home(principal)
    response = render(request, "signin_done.html", target=target, title_key="signin.done")
    response.headers["Refresh"] = f"0;url={target}"
    start_session(response, request, creds.start_session(principal))
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response
