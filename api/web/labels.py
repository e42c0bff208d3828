"""Box labels for the archive's shelf list (the list itself is :mod:`api.web.lists`).

| URL | for | purpose |
| --- | --- | --- |
| ``/arkiv/hyllforteckning/etiketter`` | readers | box labels (printable) |
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web import presenters
from api.web.deps import WebUser
from api.web.rendering import WebRoute, render

router = APIRouter(include_in_schema=False, route_class=WebRoute)


# -- the archive: shelf list and box labels -------------------------------------------------------


@router.get("/arkiv/hyllforteckning/etiketter")
def box_labels(request: Request, principal: WebUser, kartong: str = "") -> Response:
    from api.web.barcodes import code128_data_uri

    rows = get_runtime(request).queries.shelf_list(principal)
    if kartong.strip():
        rows = [r for r in rows if r.get("box") == kartong.strip()]
    return render(request, "box_labels.html", principal=principal,
                  labels=presenters.box_labels(rows), barcode=code128_data_uri,
                  title_key="labels.title")
