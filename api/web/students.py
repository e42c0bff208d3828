"""Finding a student's record by personnummer (the search form and name search are
:mod:`api.web.lists`).

| URL | for | purpose |
| --- | --- | --- |
| ``POST /elev`` | readers | find a student's record by personnummer |
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from api.deps import get_runtime
from api.web.deps import CSRF, Errors, WebUser, personnummer_error
from api.web.rendering import WebRoute, redirect, render, translator
from domain.errors import InvalidInputError

router = APIRouter(include_in_schema=False, route_class=WebRoute)


# -- finding a student and reading a record ------------------------------------------------------


@router.post("/elev", dependencies=CSRF)
def find_student(request: Request, principal: WebUser,
                 personnummer: Annotated[str, Form()] = "") -> Response:
    rt = get_runtime(request)
    t = translator(request)
    errors: Errors = {}
    if not personnummer.strip():
        errors["personnummer"] = t("errors.personnummer.required")
    else:
        try:
            record_id = rt.custody.student_record_id(personnummer)
        except InvalidInputError as error:
            errors["personnummer"] = personnummer_error(t, error)
        else:
            found = rt.queries.records_by_personnummer(principal, record_id)
            if found:
                return redirect(f"/post/{found[0]['id']}")
    return render(request, "find_student.html", principal=principal, errors=errors,
                  personnummer=personnummer, not_found=not errors, q="", searched=False,
                  paged=None, status=422 if errors else 404, canonical="/elev",
                  title_key="find.title")
