"""The overview: migration progress per school unit, and the agreement's readiness.

| URL | for | purpose |
| --- | --- | --- |
| ``/oversikt`` | readers, principals | migration progress per school unit; readiness |
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web import presenters
from api.web.deps import WebUser, done_message
from api.web.rendering import WebRoute, render
from application.policy import may_read_agreement
from domain.errors import NotAuthorisedError, NotFoundError

router = APIRouter(include_in_schema=False, route_class=WebRoute)

MISSING_SHOWN: Final = 10


# -- overview ---------------------------------------------------------------------------------


@router.get("/oversikt")
def overview(request: Request, principal: WebUser) -> Response:
    queries = get_runtime(request).queries
    schools = presenters.school_progress(queries.progress(principal))
    readiness = missing = None
    more = 0
    if may_read_agreement(principal):
        readiness = queries.readiness(principal)

        def student(record_id: str) -> dict[str, Any] | None:
            try:
                found: dict[str, Any] = queries.record(principal, UUID(record_id))
            except (NotAuthorisedError, NotFoundError):
                return None
            return found

        missing, more = presenters.missing_items(readiness, MISSING_SHOWN, student)
    return render(request, "overview.html", principal=principal, schools=schools,
                  totals=presenters.totals(schools), readiness=readiness, missing=missing,
                  more_missing=more, stages=presenters.STAGES, done=done_message(request),
                  title_key="overview.title")
