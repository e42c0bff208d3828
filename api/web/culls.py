"""A culling certificate (the register is :mod:`api.web.lists`).

| URL | for | purpose |
| --- | --- | --- |
| ``/gallring/{id}`` | readers | a culling certificate (printable) |
| ``/gallring/{id}/intyg`` | readers | the signed certificate to download |
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web.deps import WebUser
from api.web.rendering import WebRoute, render
from domain.culling import DECISION_ID, POINTS

router = APIRouter(include_in_schema=False, route_class=WebRoute)


# -- culling --------------------------------------------------------------------------------------


@router.get("/gallring/{certificate_id}")
def certificate(request: Request, certificate_id: UUID, principal: WebUser) -> Response:
    cull = get_runtime(request).queries.cull(principal, certificate_id)
    return render(request, "certificate.html", principal=principal, cull=cull,
                  point_known=(cull["decision"] == DECISION_ID and int(cull["point"]) in POINTS),
                  title_key="certificate.title")


@router.get("/gallring/{certificate_id}/intyg")
def certificate_download(request: Request, certificate_id: UUID, principal: WebUser) -> Response:
    rt = get_runtime(request)
    rt.queries.cull(principal, certificate_id)  # the same access as the register
    return Response(rt.certificate_text(certificate_id), media_type="application/json",
                    headers={"Content-Disposition":
                             f'attachment; filename="gallringsbevis-{certificate_id}.json"',
                             "Cache-Control": "no-store"})
