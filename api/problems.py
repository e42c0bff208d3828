"""One table from the domain's named errors to HTTP statuses, and problem+json bodies
(RFC 9457) for every error the API returns.

A domain error's body carries its stable ``code`` (``domain/errors.py``) as an extension
member beside ``type``: ``type`` names the class of problem (``…/problems/illegal-transition``)
and stays as clients know it; ``code`` says exactly which rule (``copy_on_loan``,
``personnummer_check_digit``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import OperationalError as EventsourcingOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.answers import answer_after_commit, writes_seen
from application.culling import ItemsNotCullableError
from application.ports import CommitOutcomeUnknownError, TransparencyLogError
from application.projections import ProjectionLagError, ProjectionStoppedError
from domain.errors import (
    AgreementNotReadyError,
    AlreadyExistsError,
    ConcurrentChangeError,
    DomainError,
    IllegalTransitionError,
    InvalidInputError,
    NotAuthenticatedError,
    NotAuthorisedError,
    NotFoundError,
)

log = logging.getLogger("custody.api")
PROBLEM = "application/problem+json"
TYPE_BASE = "https://records-custody.example/problems/"

STATUS: list[tuple[type[Exception], int, str]] = [
    (NotAuthenticatedError, 401, "not-authenticated"),
    (NotAuthorisedError, 403, "not-authorised"),
    (NotFoundError, 404, "not-found"),
    (AlreadyExistsError, 409, "already-exists"),
    (AgreementNotReadyError, 409, "agreement-not-ready"),
    (ConcurrentChangeError, 409, "concurrent-change"),
    (IllegalTransitionError, 409, "illegal-transition"),
    (InvalidInputError, 422, "invalid-input"),
    (DomainError, 409, "domain-rule"),
]


def problem(status: int, kind: str, title: str, detail: str,
            headers_extra: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    headers.update(headers_extra or {})
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def status_of(error: DomainError) -> tuple[int, str]:
    """The HTTP status and problem kind of a domain error: the one table, for the API
    and the web pages alike."""
    for cls, status, kind in STATUS:
        if isinstance(error, cls):
            return status, kind
    return 409, "domain-rule"


def domain_problem(error: DomainError, stored_before_error: int | None = None) -> JSONResponse:
    for cls, status, kind in STATUS:
        if isinstance(error, cls):
            extra: dict[str, Any] = {"code": error.code}
            detail = str(error)
            if stored_before_error is not None:
                extra["stored_before_error"] = stored_before_error
                detail += (" (what this request changed before that was stored, up to log "
                           f"position {stored_before_error})")
            if isinstance(error, AlreadyExistsError):
                extra["id"] = error.existing_id
            if isinstance(error, AgreementNotReadyError):
                extra["missing"] = error.missing
            if isinstance(error, ItemsNotCullableError):
                extra["items"] = error.items
            if isinstance(error, NotAuthorisedError) and error.logged_request_id:
                extra["request_id"] = error.logged_request_id
            if isinstance(error, InvalidInputError) and error.field:
                extra["errors"] = [{"field": error.field, "message": str(error)}]
            return problem(status, kind, getattr(error, "title", cls.__name__), detail,
                           **extra)
    return problem(409, "domain-rule", "Domain rule violated", str(error), code=error.code)


def field_name(loc: Sequence[Any], body: Any) -> str:
    """The field a validation error is about, as the client wrote it: without the
    ``body``/``query``/``path`` prefix, and without the tag pydantic puts in the path of a
    discriminated union (``student_documentation.documents.0.sha256`` → ``documents.0.sha256``)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        if parts[0] == "body" and len(parts) > 2 and isinstance(body, dict) and (
            parts[1] == body.get("kind")
        ):
            parts = parts[2:]
        else:
            parts = parts[1:]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    def on_domain_error(request: Request, error: DomainError) -> JSONResponse:
        seen = writes_seen(request)
        # A later step failed after an earlier one was committed: the answer says so.
        return domain_problem(error, stored_before_error=seen.seq if seen else None)

    @app.exception_handler(RequestValidationError)
    def on_validation(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = []
        for item in error.errors():
            errors.append({"field": field_name(item.get("loc", ()), error.body),
                           "message": item.get("msg", "")})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(422, "invalid-input", "Invalid input", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == 400:
            # FastAPI's answer to a body it cannot decode (not UTF-8, not JSON): malformed
            # input like any other, so 422 as the contract says.
            return problem(422, "invalid-input", "Invalid input",
                           f"{error.detail}: the body must be JSON in UTF-8; nothing was stored",
                           errors=[{"field": "body", "message": "not decodable JSON"}])
        titles = {404: "Not found", 405: "Method not allowed", 401: "Not authenticated",
                  413: "Request body too large"}
        return problem(error.status_code, f"http-{error.status_code}",
                       titles.get(error.status_code, "HTTP error"), str(error.detail))

    @app.exception_handler(ProjectionStoppedError)
    def on_stopped(request: Request, error: ProjectionStoppedError) -> JSONResponse:
        log.error("integrity: %s", error)
        if (stored := answer_after_commit(request, error)) is not None:
            return stored
        return problem(503, "integrity-failure", "The views stopped at a forged or broken event",
                       str(error))

    @app.exception_handler(TransparencyLogError)
    def on_log(request: Request, error: TransparencyLogError) -> JSONResponse:
        return problem(404, "not-in-log", "Not in the log", str(error))

    @app.exception_handler(sqlite3.OperationalError)
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(EventsourcingOperationalError)
    def on_database_busy(request: Request, error: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", error, exc_info=error)
        runtime = getattr(request.app.state, "runtime", None)
        if runtime is not None:
            runtime.heal_connections()  # the next requests get working connections
        if (stored := answer_after_commit(request, error)) is not None:
            return stored
        return problem(503, "database-unavailable", "The database is busy or unreachable",
                       "nothing was stored; try again in a moment",
                       headers_extra={"Retry-After": "1"})

    @app.exception_handler(CommitOutcomeUnknownError)
    def on_outcome_unknown(request: Request, error: CommitOutcomeUnknownError) -> JSONResponse:
        log.error("commit outcome unknown: %s", error)
        if (stored := answer_after_commit(request, error)) is not None:
            return stored
        return problem(503, "outcome-unknown", "Whether the change was stored is not known",
                       str(error), headers_extra={"Retry-After": "1"})
    @app.exception_handler(UnicodeError)
    def on_undecodable(request: Request, error: UnicodeError) -> JSONResponse:
        # A lone surrogate (``"\\ud800"`` in JSON) is a valid Python string but no text
        # a database, a signature or a file can hold: malformed input, nothing stored.
        return problem(422, "invalid-input", "Invalid input",
                       "the input holds text that is not valid Unicode (e.g. a lone "
                       "surrogate); nothing was stored",
                       errors=[{"field": "body", "message": "not valid Unicode text"}])

    @app.exception_handler(Exception)
    def on_unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unexpected error on %s %s", request.method, request.url.path,
                  exc_info=error)
        return problem(500, "internal-error", "Internal error",
                       "the service failed unexpectedly; the outcome of a write is unknown: "
                       "read the resource again before repeating it")

    @app.exception_handler(ProjectionLagError)
    def on_lag(request: Request, error: ProjectionLagError) -> JSONResponse:
        if (stored := answer_after_commit(request, error)) is not None:
            return stored
        return problem(503, "projection-lag", "The views are behind",
                       f"{error}; nothing was stored by this request")
