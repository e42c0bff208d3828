"""Rendering pages: the Jinja environment, the per-request language, security headers,
and one table from the application's errors to friendly error pages.

:class:`WebRoute` wraps every web handler the way ``api/problems.py`` wraps the API: a
sign-in that is needed becomes a redirect to ``/login``, a refused CSRF check a 403
page, and the domain's named errors pages with the status the API would give — so
handlers stay thin and never build error pages themselves.

May import the application's policy and the domain; reaches the runtime through
``request.app.state``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import jinja2
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from api.deps import get_queries
from api.problems import status_of
from api.web import navigation
from api.web.i18n import (
    LANGUAGES,
    MISSING_OPEN,
    NO_VALUE,
    Translator,
    choose_language,
    load_catalogue,
)
from api.web.session import (
    LANGUAGE_COOKIE,
    CsrfRejectedError,
    end_session,
    expected_csrf,
    remember_language,
)
from application.policy import Principal
from application.ports import TransparencyLogError
from application.projections import ProjectionLagError
from domain.errors import (
    DomainError,
    NotAuthenticatedError,
)

log = logging.getLogger("custody.web")
TEMPLATES: Final = Path(__file__).parent / "templates"
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    # Pages show personal data: never kept in shared caches or the back-forward cache.
    "Cache-Control": "no-store",
}


class SignInRequiredError(Exception):
    """The page needs a signed-in staff member; ``expired``: the cookie's token is not valid."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("sign-in required")
        self.expired = expired


class WebUI:
    """What every page shares: the templates and both translation tables."""

    def __init__(self, templates: Path = TEMPLATES) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates)),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.catalogues = {lang: load_catalogue(lang) for lang in LANGUAGES}

    def translator(self, lang: str) -> Translator:
        return Translator(lang, self.catalogues[lang])


def web_ui(request: Request) -> WebUI:
    ui: WebUI | None = getattr(request.app.state, "web_ui", None)
    if ui is None:
        ui = WebUI()
        request.app.state.web_ui = ui
    return ui


def language(request: Request) -> str:
    return choose_language(request.query_params.get("lang"),
                           request.cookies.get(LANGUAGE_COOKIE))


def translator(request: Request) -> Translator:
    return web_ui(request).translator(language(request))


class Directory:
    """Names for ids shown on pages (school units, staff), read once per page."""

    def __init__(self, request: Request, t: Translator) -> None:
        self.request = request
        self.t = t
        self._schools: dict[str, str] | None = None
        self._people: dict[str, str] | None = None

    def place(self, code: str | None) -> str:
        if not code:
            return NO_VALUE
        if code == "archive":
            return self.t("place.archive")
        if self._schools is None:
            self._schools = {s["id"]: s["name"] for s in get_queries(self.request).schools()}
        return self._schools.get(code, code)

    def person(self, actor_id: str | None) -> str:
        if not actor_id:
            return NO_VALUE
        if actor_id == "policy":
            return self.t("actor.policy")
        if actor_id.startswith("system:"):
            return self.t("actor.system")
        if self._people is None:
            self._people = {a["id"]: a["name"] for a in get_queries(self.request).actors()}
        return self._people.get(actor_id, actor_id)


def lang_links(request: Request, canonical: str | None) -> dict[str, str]:
    """Links to this page in each language (a POST's result links to its GET page)."""
    if request.method == "GET" and canonical is None:
        links = {}
        for lang in LANGUAGES:
            url = request.url.include_query_params(lang=lang)
            links[lang] = f"{url.path}?{url.query}"
        return links
    base = canonical or request.url.path
    return {lang: f"{base}?lang={lang}" for lang in LANGUAGES}


def render(request: Request, template: str, *, principal: Principal | None = None,
           status: int = 200, canonical: str | None = None, csrf: str | None = None,
           title_key: str | None = None, **context: Any) -> HTMLResponse:
    """A page in the request's language; untranslated keys show as ``⟦key⟧``."""
    ui = web_ui(request)
    t = ui.translator(language(request))
    principal = principal or getattr(request.state, "principal", None)
    names = Directory(request, t)
    html = ui.env.get_template(template).render(
        t=t,
        lang=t.lang,
        principal=principal,
        menu=navigation.menu(principal) if principal else [],
        current_path=request.url.path,
        csrf=csrf if csrf is not None else (expected_csrf(request) or ""),
        lang_links=lang_links(request, canonical),
        place=names.place,
        person=names.person,
        title_key=title_key,
        **context,
    )
    if t.missing:
        log.warning("untranslated keys on %s (%s): %s", request.url.path, t.lang,
                    ", ".join(sorted(set(t.missing))))
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


# -- errors as pages -----------------------------------------------------------------------

WEB_ERRORS: Final[list[tuple[type[Exception], int, str]]] = [
    (CsrfRejectedError, 403, "csrf"),
    (TransparencyLogError, 404, "not_in_log"),
    (ProjectionLagError, 503, "lagging"),
    (RequestValidationError, 404, "not_found"),
]
"""Errors only pages meet; domain errors take their status from ``api.problems``."""

PAGE_KINDS: Final = {"not-authorised": "not_authorised", "not-found": "not_found",
                     "invalid-input": "invalid_input", "domain-rule": "domain_rule"}
"""The problem kinds that have a page of their own; every other 409 is shown as an
illegal transition."""

ERROR_KINDS: Final = frozenset({kind for _, _, kind in WEB_ERRORS} | set(PAGE_KINDS.values())
                               | {"illegal_transition", "unexpected"})
"""Every error page there is (each needs its title and text in both languages)."""


def error_page(request: Request, error: Exception) -> HTMLResponse:
    status, kind = 500, "unexpected"
    for cls, code, name in WEB_ERRORS:
        if isinstance(error, cls):
            status, kind = code, name
            break
    else:
        if isinstance(error, DomainError):
            status, problem_kind = status_of(error)
            kind = PAGE_KINDS.get(problem_kind, "illegal_transition")
    detail: str | DomainError = (
        "" if kind == "unexpected" or isinstance(error, CsrfRejectedError | RequestValidationError)
        else error if isinstance(error, DomainError) else str(error))
    return render(request, "error.html", status=status, kind=kind, detail=detail, code=status,
                  title_key=f"error.{kind}.title")


def sign_in_redirect(request: Request, expired: bool) -> Response:
    target = request.url.path
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    path = "/login?next=" + quote(target, safe="/")
    if expired:
        path += "&expired=1"
    response = redirect(path)
    if expired:
        end_session(response, request)
    return response


class WebRoute(APIRoute):
    """A web page route: errors become pages, ``?lang=`` is remembered in a cookie."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInRequiredError as error:
                response = sign_in_redirect(request, error.expired)
            except NotAuthenticatedError:
                response = sign_in_redirect(request, True)
            except (CsrfRejectedError, DomainError, RequestValidationError, TransparencyLogError,
                    ProjectionLagError) as error:
                response = error_page(request, error)
            except Exception as error:  # a page, never a stack trace or JSON, for people
                log.exception("web page %s failed", request.url.path)
                response = error_page(request, error)
            requested = request.query_params.get("lang")
            if requested in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != requested:
                remember_language(response, request, str(requested))
            return response

        return page


def has_untranslated(html: str) -> bool:
    return MISSING_OPEN in html
