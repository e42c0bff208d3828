"""The lists, at any size: server-side search (name or personnummer), filters, sorting
and paging, a student column wherever a pupil is concerned.

| URL | for | list |
| --- | --- | --- |
| ``/elev?q=`` | readers | students found by name or personnummer |
| ``/arkiv/hyllforteckning`` | the archive | archive copies in personnummer order (box, status) |
| ``/oversikt/saknas`` | readers | the whole "what is missing" before the agreement ends |
| ``/bestallningar`` | all | the request log, refusals included |
| ``/skola/innehav`` | a school unit's custodian and principal, readers | its holdings |
| ``/gallring`` | readers | the culling register |

Every page shows :data:`api.web.paging.PAGE_SIZE` rows and keeps its search in the page
links; printed, a page repeats its table header and numbers its sheets.

May import the application and the domain.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web import presenters
from api.web.deps import WebUser
from api.web.paging import paginate, sort_rows
from api.web.rendering import WebRoute, render
from application.policy import own_school_scope, require_agreement_reader
from application.queries import sort_key
from application.student_search import find_students, fold, student_labels
from domain.record import CopyStatus
from domain.request import RequestStatus

router = APIRouter(include_in_schema=False, route_class=WebRoute)

REQUEST_STATUSES: Final = tuple(RequestStatus)
SHELF_STATUSES: Final = (CopyStatus.PRINTED, CopyStatus.ARCHIVED, CopyStatus.VERIFIED,
                          CopyStatus.DISCREPANCY, CopyStatus.CULLED)
MISSING_REASONS: Final = ("not_printed", "not_filed", "not_verified", "discrepancy")


def _matches(q: str, *texts: Any) -> bool:
    """Every word of ``q`` in one of the texts (accents and case ignored; digits of a
    personnummer match in any notation)."""
    words = fold(q).split()
    if not words:
        return True
    haystack = " ".join(fold(str(t or "")) for t in texts)
    digits = "".join(c for c in haystack if c.isdigit() or c == " ")
    return all(w in haystack or ("".join(c for c in w if c.isdigit()) and
                                  "".join(c for c in w if c.isdigit()) in digits.replace(" ", ""))
               for w in words)


# -- finding a student ----------------------------------------------------------------------


@router.get("/elev")
def find_student(request: Request, principal: WebUser, q: str = "",
                 sida: str | None = None) -> Response:
    hits = find_students(get_runtime(request).queries, principal, q) if q.strip() else []
    return render(request, "find_student.html", principal=principal, errors={},
                  personnummer="", q=q, searched=bool(q.strip()),
                  paged=paginate(hits, sida, {"q": q}), not_found=False,
                  title_key="find.title")


# -- the archive's shelf list ---------------------------------------------------------------


SHELF_SORTS: Final = {
    "personnummer": lambda r: sort_key(r.get("personnummer")),
    "namn": lambda r: fold(str(r.get("name") or "")),
    "kartong": lambda r: (str(r.get("box") or "~"), sort_key(r.get("personnummer"))),
}


@router.get("/arkiv/hyllforteckning")
def shelf_list(request: Request, principal: WebUser, q: str = "", kartong: str = "",
               status: str = "", sortera: str = "", sida: str | None = None) -> Response:
    rows = get_runtime(request).queries.shelf_list(principal)
    total = len(rows)
    chosen = status if status in SHELF_STATUSES else ""
    rows = [r for r in rows
            if (not kartong or (r.get("box") or "") == kartong.strip())
            and (not chosen
                 or ((CopyStatus.VERIFIED if r.get("verified") else r["status"]) == chosen))
            and _matches(q, r.get("personnummer"), r.get("name"))]
    rows, order = sort_rows(rows, sortera, SHELF_SORTS, "personnummer")
    return render(request, "shelf_list.html", principal=principal,
                  paged=paginate(rows, sida, {"q": q, "kartong": kartong, "status": chosen,
                                              "sortera": order if order != "personnummer"
                                              else ""}),
                  total=total, q=q, box=kartong, chosen=chosen, statuses=SHELF_STATUSES,
                  order=order, printed_at_iso=dt.datetime.now(dt.UTC).isoformat(),
                  title_key="shelf.title")


# -- what still keeps the agreement open --------------------------------------------------------


@router.get("/oversikt/saknas")
def missing(request: Request, principal: WebUser, q: str = "", skola: str = "",
            orsak: str = "", sida: str | None = None) -> Response:
    require_agreement_reader(principal)
    queries = get_runtime(request).queries
    readiness = queries.readiness(principal)
    reason = orsak if orsak in MISSING_REASONS else ""
    items = []
    for item in readiness["missing"]:
        code = presenters.MISSING_FOR.get(item.get("archive_copy"), "other")
        if reason and code != reason:
            continue
        if skola and item.get("school_id") != skola:
            continue
        items.append((item, code))
    labels = student_labels(queries, principal, [i for i, _ in items])
    rows = []
    for item, code in items:
        who = labels.get(str(item["record_id"]))
        if q and not _matches(q, who.personnummer if who else "", who.name if who else ""):
            continue
        rows.append({"record_id": item["record_id"], "school_id": item.get("school_id"),
                     "reason_key": f"readiness.missing.{code}",
                     "personnummer": who.personnummer if who else None,
                     "name": who.name if who else None})
    rows.sort(key=lambda r: sort_key(r["personnummer"]))
    done = request.query_params.get("klart")
    return render(request, "missing.html", principal=principal,
                  done="printed_many" if done == "printed_many" else None,
                  printed=request.query_params.get("antal"),
                  paged=paginate(rows, sida, {"q": q, "skola": skola, "orsak": reason}),
                  all_missing=len(readiness["missing"]), q=q, school=skola, reason=reason,
                  reasons=MISSING_REASONS, schools=queries.schools(),
                  title_key="missing.title")


# -- the request log -------------------------------------------------------------------------


@router.get("/bestallningar")
def request_log(request: Request, principal: WebUser, status: str | None = None,
                q: str = "", sida: str | None = None) -> Response:
    queries = get_runtime(request).queries
    chosen = status if status in REQUEST_STATUSES else None
    rows = list(reversed(queries.request_log(principal, status=chosen)))
    labels = student_labels(queries, principal, rows)
    if q.strip():
        rows = [r for r in rows if _matches(
            q, *(lambda h: (h.personnummer, h.name) if h else ("", ""))(
                labels.get(str(r["record_id"]))), r.get("actor_name"), r.get("purpose"))]
    paged = paginate(rows, sida, {"status": chosen, "q": q})
    return render(request, "request_log.html", principal=principal, paged=paged,
                  rows=paged.items, students=labels, statuses=REQUEST_STATUSES,
                  chosen=chosen or "", q=q, title_key="log.title")


# -- a school unit's holdings ------------------------------------------------------------------


@router.get("/skola/innehav")
def holdings(request: Request, principal: WebUser, skola: str = "", q: str = "",
             sida: str | None = None) -> Response:
    queries = get_runtime(request).queries
    school_id = own_school_scope(principal) or skola
    schools = queries.schools()
    if not school_id:
        school_id = schools[0]["id"] if schools else ""
    held = queries.holdings(principal, school_id) if school_id else {"copies": [],
                                                                        "incoming": []}
    rows = [r for r in held["copies"] + held["incoming"]
            if _matches(q, r.get("personnummer"), r.get("name"))]
    rows.sort(key=lambda r: sort_key(r.get("personnummer")))
    return render(request, "holdings.html", principal=principal, school_id=school_id,
                  schools=schools, q=q,
                  paged=paginate(rows, sida, {"skola": skola, "q": q}),
                  title_key="holdings.title")


# -- the culling register -------------------------------------------------------------------


@router.get("/gallring")
def culls(request: Request, principal: WebUser, sida: str | None = None) -> Response:
    rows = list(reversed(get_runtime(request).queries.culls(principal)))
    paged = paginate(rows, sida, {})
    return render(request, "culls.html", principal=principal, rows=paged.items, paged=paged,
                  title_key="culls.title")
