"""Sign-in sessions and CSRF protection of the web pages.

The session cookie ``custody_session`` holds a random session id (256 bits), never a
token: the session itself is kept on the server (``application.credentials``), with the
staff member, when it began and when it was last used. It ends on sign-out (the row is
deleted, so a copied cookie stops working too), after the idle and absolute time-outs
(``CUSTODY_SESSION_IDLE_MINUTES``, ``CUSTODY_SESSION_MAX_HOURS``) and when an admin
revokes the staff member. The cookie is ``HttpOnly`` (no script can read it),
``SameSite=Strict`` (no other site's page makes the browser send it) and ``Secure`` when
served over HTTPS. ``api.deps``
accepts the same cookie, so links from the pages to the API (an inclusion proof, the
export) work as the signed-in user.

CSRF: every form carries a hidden ``csrf_token``. Signed in, it is an HMAC of a fixed
label keyed with the session id, so it is bound to this session, needs no server-side
state and cannot be computed by a page that cannot read the HttpOnly cookie (and the
token cannot be recovered from it). Before sign-in the login form uses a random value
that must match a ``custody_login_csrf`` cookie (double submit), so no other site can
sign a browser in as someone else. A POST whose token is missing or wrong is refused
with 403 before anything is done.

May import the standard library and Starlette only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

SESSION_COOKIE: Final = "custody_session"
LOGIN_CSRF_COOKIE: Final = "custody_login_csrf"
LANGUAGE_COOKIE: Final = "custody_lang"
CSRF_FIELD: Final = "csrf_token"
_CSRF_LABEL: Final = b"records-custody web form csrf v1"
_LANGUAGE_MAX_AGE: Final = 365 * 24 * 3600


class CsrfRejectedError(Exception):
    """A form POST without the right CSRF token: refused with 403, nothing done."""


def csrf_token_for(session_token: str) -> str:
    return hmac.new(session_token.encode(), _CSRF_LABEL, hashlib.sha256).hexdigest()


def new_login_nonce() -> str:
    return secrets.token_urlsafe(32)


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def session_id(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def expected_csrf(request: Request) -> str | None:
    """The token this browser's forms must carry now (``None``: no session, no nonce)."""
    sid = session_id(request)
    if sid:
        return csrf_token_for(sid)
    return request.cookies.get(LOGIN_CSRF_COOKIE) or None


def check_csrf(request: Request, submitted: object) -> None:
    expected = expected_csrf(request)
    if not expected or not isinstance(submitted, str) or not hmac.compare_digest(
        expected.encode(), submitted.encode()
    ):
        raise CsrfRejectedError


def start_session(response: Response, request: Request, sid: str) -> None:
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="strict",
                        secure=is_secure(request), path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=is_secure(request))


def end_session(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=is_secure(request))


def remember_login_nonce(response: Response, request: Request, nonce: str) -> None:
    response.set_cookie(LOGIN_CSRF_COOKIE, nonce, httponly=True, samesite="strict",
                        secure=is_secure(request), path="/")


def remember_language(response: Response, request: Request, lang: str) -> None:
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=_LANGUAGE_MAX_AGE, httponly=True,
                        samesite="lax", secure=is_secure(request), path="/")
