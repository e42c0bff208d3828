"""The web's lists with 2,000 imported pupils (imported through the application layer,
like ``custody import``): every list page is paged and stays under 300 KB.

One store on SQLite for the module: the pages' size does not depend on the backend (the
lists' behaviour is tested on both in ``test_web_work.py``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from application.importing import import_inventory
from infrastructure.bootstrap import Runtime, bootstrap
from infrastructure.settings import Settings
from tests.e2e.test_web_work import Browser
from tests.factories import Staff, pnr, seed_staff, sha

PUPILS = 2000
LIMIT = 300 * 1024


def inventory(count: int) -> str:
    lines = ["kind;personnummer;name;school_id;class;title;category;sha256;pages"]
    schools = ("holmes", "kvistberg", "fryken")
    for i in range(count):
        born = dt.date(2003, 1, 1) + dt.timedelta(days=i)
        number = pnr(born.year, born.month, born.day, 100 + i % 800)
        lines.append(f"student_documentation;{number};Elev Nummer{i:04d};{schools[i % 3]};"
                     f"{7 + i % 3}A;IUP ht 2017;iup;{sha(f'{number}/iup')};3")
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, Staff, Any]]:
    rt = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("web-scale")))
    staff = seed_staff(rt.custody)
    report = import_inventory(rt.custody, staff.archivist, inventory(PUPILS))
    assert report.ok and report.captured_students == PUPILS, report.summary()
    custody = rt.custody
    rt.queries.fresh()
    for index, record in enumerate(rt.queries.students()):
        copy_id = custody.print_copy(staff.archivist, UUID(record["id"]), "archive", None)
        if index % 2 == 0:
            custody.archive_copy(staff.archivist, UUID(record["id"]), copy_id,
                                 box=f"A{index // 100:03d}", shelf="1")
    with TestClient(create_app(runtime=rt)) as client:
        yield rt, staff, client.app
    rt.close()


PAGES = ("/oversikt", "/oversikt/saknas", "/arkiv/hyllforteckning",
         "/arkiv/hyllforteckning?sida=20", "/elev?q=elev", "/bestallningar",
         "/skola/innehav?skola=holmes", "/gallring", "/arkiv/kartong?kartong=A000",
         "/arkiv/hyllforteckning/etiketter?kartong=A000", "/arkiv/forteckning",
         "/arkiv/leveranser", "/gallringslistor",
         "/gallringslistor/ny", "/gallringsbeslut")


@pytest.mark.parametrize("path", PAGES)
def test_every_list_page_stays_under_300_kb_with_2000_pupils(
    big: tuple[Runtime, Staff, Any], path: str
) -> None:
    _, staff, app = big
    web = Browser(app, staff.tokens["archivist"])
    started = time.monotonic()
    page = web.get(path)
    took = time.monotonic() - started
    assert page.status_code == 200, page.text[:500]
    size = len(page.content)
    print(f"{path}: {size / 1024:.0f} KB in {took * 1000:.0f} ms")
    assert size < LIMIT
    if path in ("/arkiv/hyllforteckning", "/oversikt/saknas", "/elev?q=elev"):
        assert 'rel="next"' in page.text  # paged, not one long page
