"""FastAPI dependencies as ``Annotated`` aliases: the runtime's parts and the caller."""

from __future__ import annotations

import dataclasses
import hmac
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from application.credentials import Credentials
from application.culling import Culling
from application.deliveries import ArchiveDeliveries
from application.migration import Migration
from application.policy import Principal
from application.ports import (
    KeyringReader,
    SignInSettings,
    StoreExports,
    TransparencyLogReader,
)
from application.queries import CustodyQueries
from application.service import Custody
from domain.errors import NotAuthorisedError

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
bearer = HTTPBearer(auto_error=False, description="The staff member's token")


class ServiceRuntime(StoreExports, Protocol):
    """What the doors (API routes and web pages) use of the composed service, typed: the
    composition root's runtime implements it (``api/app.py`` checks that), and the doors
    reach it only through the dependencies below, never as ``Any``."""

    @property
    def custody(self) -> Custody: ...
    @property
    def queries(self) -> CustodyQueries: ...
    @property
    def credentials(self) -> Credentials: ...
    @property
    def settings(self) -> SignInSettings: ...
    @property
    def keyring(self) -> KeyringReader: ...
    @property
    def log_reader(self) -> TransparencyLogReader: ...
    def health(self) -> tuple[bool, dict[str, Any]]:
        """``/healthz``: healthy or not, and the body that says why."""
        ...
    def gauges(self) -> tuple[int, int, int, bool]:
        """``/metrics``: projection lag, view position, log size, projection stopped."""
        ...


def get_runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.runtime
    return runtime


def get_custody(request: Request) -> Custody:
    custody: Custody = request.app.state.runtime.custody
    return custody


def get_credentials(request: Request) -> Credentials:
    credentials: Credentials = request.app.state.runtime.credentials
    return credentials


def get_queries(request: Request) -> CustodyQueries:
    queries: CustodyQueries = request.app.state.runtime.queries
    return queries


def get_migration(request: Request) -> Migration:
    rt = request.app.state.runtime
    return Migration(rt.custody, rt.queries)


def get_culling(request: Request) -> Culling:
    rt = request.app.state.runtime
    return Culling(rt.custody, rt.queries)


def get_deliveries(request: Request) -> ArchiveDeliveries:
    rt = request.app.state.runtime
    return ArchiveDeliveries(rt.custody, rt.queries)


def get_log(request: Request) -> TransparencyLogReader:
    log: TransparencyLogReader = request.app.state.runtime.log_reader
    return log


def get_exports(request: Request) -> StoreExports:
    exports: StoreExports = request.app.state.runtime
    return exports


def get_keys(request: Request) -> KeyringReader:
    keys: KeyringReader = request.app.state.runtime.keyring
    return keys


def get_sign_in_settings(request: Request) -> SignInSettings:
    settings: SignInSettings = request.app.state.runtime.settings
    return settings


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    from api.web.session import SESSION_COOKIE, csrf_token_for

    token = credentials.credentials if credentials else None
    session = request.cookies.get(SESSION_COOKIE) if token is None else None
    if session:
        # The web UI's session. A cookie is sent by the browser on its own: a change made
        # with it needs the session's CSRF token too (a bearer header cannot be forged
        # cross-site).
        if request.method not in SAFE_METHODS:
            sent = request.headers.get("x-csrf-token", "")
            if not hmac.compare_digest(sent, csrf_token_for(session)):
                raise NotAuthorisedError(
                    "a change made with the web session needs its X-CSRF-Token header")
        principal = get_credentials(request).session_principal(session)
    else:
        principal = get_custody(request).authenticate(token)
    principal = dataclasses.replace(principal, via=route_of(request))
    request.state.principal = principal
    return principal


def route_of(request: Request) -> str:
    """The route template the call came through (never its path: a path may hold a
    personnummer), for the access log."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    if path is None:
        from starlette.routing import Match

        for candidate in request.app.router.routes:
            if candidate.matches(request.scope)[0] is Match.FULL:
                path = getattr(candidate, "path", None)
                break
    return f"{request.method} {path or '?'}"


CustodyDep = Annotated[Custody, Depends(get_custody)]
QueriesDep = Annotated[CustodyQueries, Depends(get_queries)]
MigrationDep = Annotated[Migration, Depends(get_migration)]
CullingDep = Annotated[Culling, Depends(get_culling)]
DeliveriesDep = Annotated[ArchiveDeliveries, Depends(get_deliveries)]
CredentialsDep = Annotated[Credentials, Depends(get_credentials)]
RuntimeDep = Annotated[ServiceRuntime, Depends(get_runtime)]
LogDep = Annotated[TransparencyLogReader, Depends(get_log)]
ExportsDep = Annotated[StoreExports, Depends(get_exports)]
KeysDep = Annotated[KeyringReader, Depends(get_keys)]
CurrentActor = Annotated[Principal, Depends(get_principal)]
