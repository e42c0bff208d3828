"""Signing in with the staff token and signing out (the identity provider's sign-in is
:mod:`api.web.signin`).

| URL | for | purpose |
| --- | --- | --- |
| ``/`` | everyone | to the role's start page, or to sign-in |
| ``/login``, ``/logout`` | everyone | sign in with the staff token; sign out |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web import navigation
from api.web.deps import CSRF, Errors, WebUser, done_message, signed_in
from api.web.rendering import WebRoute, redirect, render, translator
from api.web.session import (
    LOGIN_CSRF_COOKIE,
    CsrfRejectedError,
    end_session,
    new_login_nonce,
    remember_login_nonce,
    session_id,
    start_session,
)
from application.policy import Principal
from domain.errors import NotAuthenticatedError

router = APIRouter(include_in_schema=False, route_class=WebRoute)


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
            principal = get_runtime(request).credentials.session_principal(sid)
        except NotAuthenticatedError:
            pass
        else:
            return redirect(navigation.safe_next(next) or navigation.home(principal))
    nonce = request.cookies.get(LOGIN_CSRF_COOKIE) or new_login_nonce()
    response = render(request, "login.html", csrf=nonce, next=navigation.safe_next(next) or "",
                      expired=expired, errors={}, done=done_message(request),
                      title_key="login.title", oidc=get_runtime(request).settings.uses_oidc)
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
            principal = get_runtime(request).custody.authenticate(token.strip())
        except NotAuthenticatedError:
            errors["token"] = t("login.error.unknown")
    if principal is None:
        return render(request, "login.html", status=401, csrf=nonce,
                      next=navigation.safe_next(next) or "", expired=False, errors=errors,
                      done=None, title_key="login.title",
                      oidc=get_runtime(request).settings.uses_oidc)
    response = redirect(navigation.safe_next(next) or navigation.home(principal))
    start_session(response, request, get_runtime(request).credentials.start_session(principal))
    return response


@router.get("/logout")
def logout_form(request: Request, principal: WebUser) -> Response:
    return render(request, "logout.html", principal=principal, title_key="logout.title")


@router.post("/logout", dependencies=CSRF)
def logout(request: Request) -> Response:
    get_runtime(request).credentials.end_session(session_id(request))
    response = redirect("/login?klart=signed_out")
    end_session(response, request)
    return response
