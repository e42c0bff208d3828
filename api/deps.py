"""FastAPI dependencies as ``Annotated`` aliases: the runtime's parts and the caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from application.migration import Migration
from application.policy import Principal
from application.queries import CustodyQueries
from application.service import Custody

bearer = HTTPBearer(auto_error=False, description="The staff member's token")


def get_custody(request: Request) -> Custody:
    custody: Custody = request.app.state.runtime.custody
    return custody


def get_queries(request: Request) -> CustodyQueries:
    queries: CustodyQueries = request.app.state.runtime.queries
    return queries


def get_migration(request: Request) -> Migration:
    rt = request.app.state.runtime
    return Migration(rt.custody, rt.queries)


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    token = credentials.credentials if credentials else None
    if token is None:
        token = request.cookies.get("custody_session_token")  # the web UI's session
    principal = get_custody(request).authenticate(token)
    request.state.principal = principal
    return principal


CustodyDep = Annotated[Custody, Depends(get_custody)]
QueriesDep = Annotated[CustodyQueries, Depends(get_queries)]
MigrationDep = Annotated[Migration, Depends(get_migration)]
CurrentActor = Annotated[Principal, Depends(get_principal)]
