"""The seed story end to end (``custody demo``), and the synthetic Unikum inventories
that the demo, the import tests and the import benchmark share.

The story follows the decision BU 2017/503 § 88 on a fresh store: the three school
units it names, about sixty synthetic students (valid synthetic personnummer; former
pupils born in the 1990s whose documentation is still in Unikum, current pupils born in
the 2000s, one coordination number) captured by importing an inventory, general
information culled under point 1, archive and school copies printed, filed in boxes in
personnummer order and checked (one discrepancy, fixed by a reprint), school copies
delivered, one granted and one refused document request, entries into IST-lärande, the
archive agreement terminated, departures and the year-end rollover: transfers confirmed
by the receiving custodians, a culling list under point 4 proposed by the archivist and
approved by a second archivist, each school copy destroyed by the custodian who holds it,
the signed culling protocol checked offline; a copy handed over to another organiser; the
boxes delivered to the archive and countersigned; then the reports.

The caller owns the store: :func:`run_demo` takes anything with ``custody`` and
``queries`` (the CLI's runtime) and a ``verify`` function returning the verifier's fault
lines, so this module imports only the application and the domain. It is a client of
the application like the HTTP API and the CLI (it lives beside them, not in
``application/``): it captures as they do, through the import use case and so
``Custody.capture_batch`` (:func:`capture_inventory`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from uuid import UUID

from application.culling import Culling, Destruction
from application.deliveries import ArchiveDeliveries
from application.importing import (
    COLUMNS,
    GENERAL,
    STUDENT,
    ImportReport,
    general_record_id,
    import_inventory,
)
from application.migration import Migration
from application.policy import Principal
from application.queries import CustodyQueries
from application.service import Custody
from domain.culling import DECISION_ID, POINT_GENERAL_INFORMATION
from domain.culling_list import ListStatus
from domain.errors import DomainError, NotAuthorisedError
from domain.personnummer import Personnummer, synthetic

SCHOOLS: dict[str, str] = {
    "holmes": "Holmesskolan",
    "kvistberg": "Kvistbergsskolan",
    "fryken": "Frykenskolorna",
}
"""The school units named in the decision: id → name."""

SCHOOL_YEAR = 2018
"""The spring term that ends with the rollover (läsåret 2017/18)."""

_FIRST_NAMES = ("Alva", "Elias", "Maja", "Noah", "Ella", "Hugo", "Wilma", "Lucas", "Saga",
                "Oscar", "Alice", "William", "Olivia", "Liam", "Astrid", "Adam", "Elsa",
                "Vincent", "Freja", "Theo", "Selma", "Leo", "Stella", "Axel", "Ebba", "Melvin",
                "Agnes", "Isak", "Tyra", "Nils", "Linnea")
_SURNAMES = ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson",
             "Olsson", "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson",
             "Holm", "Lindqvist", "Berg", "Fryk", "Kvist", "Sundberg", "Ek", "Lund", "Dahl",
             "Åberg", "Öberg", "Ström", "Björk", "Hedlund", "Nyström", "Sjöberg", "Mattsson")
_DOCUMENTS = (
    ("Individuell utvecklingsplan (IUP)", "iup"),
    ("Förberedelse utvecklingssamtal", "development_talk"),
    ("Kunskapsmål och uppföljning", "assessment"),
    ("Skriftliga omdömen", "assessment"),
    ("Åtgärdsprogram", "support_measure"),
    ("Pedagogisk kartläggning", "support_measure"),
    ("Lärlogg", "learning_log"),
    ("Måluppfyllelse", "assessment"),
    ("Överenskommelse med vårdnadshavare", "iup"),
    ("Extra anpassningar", "support_measure"),
)
_TERMS = ("ht", "vt")


# -- synthetic inventories -------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticStudent:
    personnummer: str
    name: str
    school_id: str
    class_name: str
    birth: dt.date


@dataclass(frozen=True)
class SyntheticGeneral:
    school_id: str
    category: str
    title: str

    @property
    def sha256(self) -> str:
        return sha256_of(f"{self.school_id}/{self.category}/{self.title}")


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def class_in(birth_year: int, spring: int = SCHOOL_YEAR) -> int:
    """The grade (årskurs) in the school year ending in ``spring``: pupils start grade 1
    in the autumn of the year they turn seven."""
    return spring - 1 - birth_year - 6


def synthetic_students(count: int, *, offset: int = 0, born: tuple[int, int] = (2002, 2010),
                       schools: Sequence[str] = tuple(SCHOOLS),
                       coordination: Iterable[int] = ()) -> list[SyntheticStudent]:
    """``count`` distinct students with valid synthetic personnummer, born in the years
    ``born`` (inclusive), spread over ``schools``; the indexes in ``coordination`` get
    coordination numbers. Student ``offset + i`` is the same in every call."""
    first, last = dt.date(born[0], 1, 1), dt.date(born[1], 12, 31)
    days = (last - first).days + 1
    # A stride prime to the number of days visits every day once per round, so birth
    # dates spread over the years and (date, birth number) never repeats.
    stride = next(p for p in (37, 41, 43, 47) if math.gcd(p, days) == 1)
    coordinated = set(coordination)
    students = []
    for i in range(offset, offset + count):
        birth = first + dt.timedelta(days=(i * stride) % days)
        birth_number = 100 + (i // days) % 900
        pnr = synthetic(birth, birth_number, coordination=i in coordinated)
        grade = min(max(class_in(birth.year), 1), 9)
        students.append(SyntheticStudent(
            personnummer=pnr.formatted(),
            name=f"{_FIRST_NAMES[i % len(_FIRST_NAMES)]} "
                 f"{_SURNAMES[(i // len(_FIRST_NAMES) + i) % len(_SURNAMES)]}",
            school_id=schools[i % len(schools)],
            class_name=f"{grade}{'ABC'[i % 3]}",
            birth=birth,
        ))
    return students


def student_rows(student: SyntheticStudent, documents: int) -> list[list[str]]:
    rows = []
    for j in range(documents):
        title, category = _DOCUMENTS[j % len(_DOCUMENTS)]
        year = SCHOOL_YEAR - 1 - j // 2
        full_title = f"{title} {_TERMS[j % 2]} {year}, {student.name.split()[0]}"
        rows.append([STUDENT, student.personnummer, student.name, student.school_id,
                     student.class_name, full_title, category,
                     sha256_of(f"{student.personnummer}/{j}/{full_title}"),
                     str(1 + (j * 7 + len(student.name)) % 6)])
    return rows


def general_row(item: SyntheticGeneral) -> list[str]:
    return [GENERAL, "", "", item.school_id, "", item.title, item.category, item.sha256, ""]


def inventory_csv(students: Iterable[SyntheticStudent], *, documents: int = 10,
                  general: Iterable[SyntheticGeneral] = ()) -> str:
    """The inventory as the archive would write it: header, general information, then
    each student's documents one after the other."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in general:
        writer.writerow(general_row(item))
    for student in students:
        writer.writerows(student_rows(student, documents))
    return buffer.getvalue()


def demo_students() -> list[SyntheticStudent]:
    """Sixty students: six former pupils born 1996-1999 (their documentation is still in
    Unikum), the rest born 2002-2010, and one with a coordination number."""
    former = [replace(s, class_name=f"9{'ABC'[k % 3]} (slutade {s.birth.year + 16})")
              for k in range(6)
              for s in synthetic_students(1, offset=k * 7, born=(1996, 1999))]
    current = synthetic_students(54, offset=6, coordination=[20])
    return former + current


def demo_general() -> list[SyntheticGeneral]:
    return [
        SyntheticGeneral("holmes", "newsletter", "Veckobrev v. 47, Holmesskolan"),
        SyntheticGeneral("kvistberg", "newsletter", "Månadsbrev november, Kvistbergsskolan"),
        SyntheticGeneral("fryken", "newsletter", "Informationsbrev inför jullovet"),
        SyntheticGeneral("fryken", "blog_post", "Klassbloggen: studiebesök på Alsters herrgård"),
        SyntheticGeneral("holmes", "statistics", "Frånvarostatistik läsåret 2016/17"),
    ]


# -- the story ---------------------------------------------------------------------------


class DemoRuntime(Protocol):
    """What the demo needs from the caller's runtime (the CLI's ``Runtime`` fits)."""

    @property
    def custody(self) -> Custody: ...

    @property
    def queries(self) -> CustodyQueries: ...


Output = Callable[[str], None]
ProtocolCheck = Callable[[UUID], tuple[dict[str, Any], list[str]]]
"""Issues a culling list's signed protocol and checks it offline: (document, problems)."""


@dataclass
class _Cast:
    admin: Principal
    archivist: Principal
    archive_head: Principal
    archive_custodian: Principal
    custodians: dict[str, Principal]
    principals: dict[str, Principal]
    teacher: Principal
    other_teacher: Principal


@dataclass
class _Student:
    data: SyntheticStudent
    record_id: UUID
    archive_copy: UUID | None = None
    school_copy: UUID | None = None
    school_id: str = ""
    events: list[str] = field(default_factory=list)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A plain-text table, columns as wide as their widest cell."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)]


DEMO_DOCUMENTS = 4
"""Documents per student in the demo's inventory."""


def capture_inventory(custody: Custody, archivist: Principal,
                      students: Sequence[SyntheticStudent],
                      general: Sequence[SyntheticGeneral] = ()) -> ImportReport:
    """The demo's capture step: the students' inventory, imported (each batch through
    ``Custody.capture_batch``, the API's and the import's capture path too)."""
    csv_text = inventory_csv(students, documents=DEMO_DOCUMENTS, general=general)
    return import_inventory(custody, archivist, csv_text)


class _Story:
    def __init__(self, rt: DemoRuntime, out: Output) -> None:
        self.custody = rt.custody
        self.queries = rt.queries
        self.migration = Migration(rt.custody, rt.queries)
        self.out = out

    def heading(self, text: str) -> None:
        self.out("")
        self.out(text)
        self.out("=" * len(text))

    def emit(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.out(line)

    # -- set-up ----------------------------------------------------------------------

    def set_up(self) -> _Cast:
        system = Principal.system()
        for code, name in SCHOOLS.items():
            self.custody.register_school(system, code, name)

        def staff(name: str, role: str, school: str | None) -> Principal:
            _, token = self.custody.register_actor(system, name, role, school)
            return self.custody.authenticate(token)

        cast = _Cast(
            admin=staff("Ada Administratör", "admin", None),
            archivist=staff("Arne Arkivarie", "archivist", None),
            archive_head=staff("Berit Arkivchef", "archivist", None),
            archive_custodian=staff("Asta Arkivet", "custodian", None),
            custodians={c: staff(f"Cecilia Utpekad ({n})", "custodian", c)
                        for c, n in SCHOOLS.items()},
            principals={c: staff(f"Rektor {n}", "principal", c) for c, n in SCHOOLS.items()},
            teacher=staff("Tove Lärare", "teacher", "holmes"),
            other_teacher=staff("Olle Lärare", "teacher", "holmes"),
        )
        self.heading("Skolenheter och personal")
        self.emit(table(["Skolenhet", "Namn"], SCHOOLS.items()))
        self.out(f"{4 + 2 * len(SCHOOLS) + 2} personer registrerade (arkivarie, utpekade "
                 "personer, rektorer, lärare)")
        return cast

    # -- capture and cull ---------------------------------------------------------------

    def capture(self, cast: _Cast, students: list[SyntheticStudent],
                general: list[SyntheticGeneral]) -> ImportReport:
        csv_text = inventory_csv(students, documents=DEMO_DOCUMENTS, general=general)
        report = capture_inventory(self.custody, cast.archivist, students, general)
        self.heading("Inläsning av inventeringen från Unikum")
        self.emit(table(["Rader", "Elever", "Allmän information", "Redan inlästa", "Avvisade"],
                        [[report.rows, report.captured_students, report.captured_general,
                          report.already_captured, len(report.rejected)]]))
        again = import_inventory(self.custody, cast.archivist, csv_text)
        self.out(f"Samma fil en gång till: {again.captured} nya, {again.already_captured} "
                 "redan inlästa (inget dubbelt)")
        return report

    def cull_general(self, cast: _Cast, general: list[SyntheticGeneral]) -> int:
        for item in general:
            record_id = general_record_id(self.custody, item.school_id, item.sha256, item.title)
            self.custody.cull_record(cast.archivist, record_id, decision=DECISION_ID,
                                     point=POINT_GENERAL_INFORMATION, method="deletion")
        self.out(f"{len(general)} poster allmän information gallrade enligt {DECISION_ID} "
                 f"p. {POINT_GENERAL_INFORMATION}")
        return len(general)

    # -- printing, archiving, verification, delivery ----------------------------------

    def print_and_archive(self, cast: _Cast, students: list[_Student]) -> _Student:
        a = cast.archivist
        for s in students:
            s.archive_copy = self.custody.print_copy(a, s.record_id, "archive", None)
            s.school_copy = self.custody.print_copy(a, s.record_id, "school", s.school_id)
        in_order = sorted(students, key=lambda s: Personnummer.parse(s.data.personnummer)
                          .sort_key)
        for position, s in enumerate(in_order):
            self.custody.archive_copy(a, s.record_id, _some(s.archive_copy),
                                      box=_box(position), shelf=_shelf(position))
        flawed = in_order[len(in_order) // 2]
        for s in in_order:
            if s is flawed:
                self.custody.verify_copy(a, s.record_id, _some(s.archive_copy),
                                         outcome="discrepancy",
                                         note="sidan 3 av åtgärdsprogrammet saknas")
            else:
                self.custody.verify_copy(a, s.record_id, _some(s.archive_copy), outcome="ok",
                                         note=None)
        position = in_order.index(flawed)
        flawed.archive_copy = self.custody.reprint(a, flawed.record_id,
                                                   _some(flawed.archive_copy))
        self.custody.archive_copy(a, flawed.record_id, flawed.archive_copy,
                                  box=_box(position), shelf=_shelf(position))
        self.custody.verify_copy(a, flawed.record_id, flawed.archive_copy, outcome="ok",
                                 note="omtryck kontrollerat")
        for s in students:
            self.custody.deliver_copy(cast.custodians[s.school_id], s.record_id,
                                      _some(s.school_copy), s.school_id)
        boxes = len({_box(p) for p in range(len(in_order))})
        self.out(f"{len(students)} arkivexemplar och {len(students)} skolexemplar utskrivna; "
                 f"arkivexemplaren lagda i {boxes} "
                 "kartonger i personnummerordning och kontrollerade; en avvikelse "
                 f"({flawed.data.personnummer}) åtgärdad med omtryck; skolexemplaren "
                 "levererade till skolenheterna")
        return flawed

    # -- requests --------------------------------------------------------------------

    def requests(self, cast: _Cast, student: _Student) -> bool:
        self.custody.assign(cast.admin, _actor_id(cast.teacher), student.data.personnummer)
        request = self.custody.make_request(cast.teacher, student.record_id,
                                            "Underlag inför mentorssamtal")
        custodian = cast.custodians[student.school_id]
        self.custody.decide_request(custodian, request.id, granted=True,
                                    reason="läraren undervisar eleven")
        self.custody.hand_out(custodian, request.id)
        self.custody.take_back(custodian, request.id)
        try:
            self.custody.make_request(cast.other_teacher, student.record_id, "Nyfikenhet")
        except NotAuthorisedError:
            refused = True
        else:
            refused = False
        self.out("Beställningar: en beviljad (utlämnad och återlämnad), en avslagen och "
                 "loggad" if refused else "FEL: en obehörig beställning beviljades")
        return refused

    # -- IST-lärande, agreement, departures, rollover -------------------------------------

    def ist_entries(self, cast: _Cast, students: list[_Student]) -> int:
        current = [s for s in students if s.data.birth.year >= 2000]
        for s in current:
            self.custody.enter_into_ist(cast.custodians[s.school_id], s.record_id,
                                        "IUP, åtgärdsprogram och kunskapsuppföljning inlagda")
        self.out(f"{len(current)} elever inlagda i IST-lärande")
        return len(current)

    def terminate(self, cast: _Cast) -> dict[str, Any]:
        readiness = self.migration.terminate_agreement(cast.archivist)
        self.heading("Arkiveringsavtalet med Unikt lärande AB")
        self.emit(table(["Elever", "Utskrivna", "Arkiverade", "Kontrollerade", "Avslutat"],
                        [[readiness["students"], readiness["printed"], readiness["archived"],
                          readiness["verified"],
                          "ja" if readiness["terminated"] else "nej"]]))
        return readiness

    def departures(self, cast: _Cast, students: list[_Student]) -> dict[str, int]:
        a = cast.archivist
        finished = [s for s in students if class_in(s.data.birth.year) >= 9]
        for s in finished:
            left = min(s.data.birth.year + 16, SCHOOL_YEAR)
            self.custody.record_departure(a, s.data.personnummer,
                                          reason="finished_compulsory_school",
                                          to_school_id=None, date=f"{left}-06-15")
        staying = [s for s in students if class_in(s.data.birth.year) < 9]
        movers = [staying[0], staying[1]]
        for s in movers:
            to_school = next(c for c in SCHOOLS if c != s.school_id)
            self.custody.record_departure(a, s.data.personnummer,
                                          reason="moved_within_municipality",
                                          to_school_id=to_school, date=f"{SCHOOL_YEAR}-06-15")
        self.custody.record_departure(a, staying[2].data.personnummer, reason="moved_away",
                                      to_school_id=None, date=f"{SCHOOL_YEAR}-05-31")
        return {"finished": len(finished), "moved": len(movers), "moved_away": 1}

    def rollover(self, cast: _Cast) -> dict[str, Any]:
        result = self.migration.close_school_year(cast.archivist, SCHOOL_YEAR)
        for moved in result["transfers"]:
            self.custody.receive_copy(cast.custodians[moved["to_school_id"]],
                                      UUID(moved["record_id"]), UUID(moved["copy_id"]))
        proposed = (Culling(self.custody, self.queries).culling_list(
            cast.archivist, UUID(result["culling_list_id"]))["items"]
            if result["culling_list_id"] else [])
        self.heading(f"Läsårsskifte {SCHOOL_YEAR - 1}/{SCHOOL_YEAR % 100:02d}")
        self.out("Skolavslutningen föreslår, människor utför: inget gallras av avslutningen")
        self.emit(table(["Överlämnade (kvitterade)", "Föreslagna för gallring",
                         "Till arkivarien", "Blockerade"],
                        [[len(result["transfers"]), len(proposed),
                          len(result["for_archivist"]), len(result["blocked"])]]))
        return result

    def culling_list(self, cast: _Cast, list_id: UUID,
                     protocol: ProtocolCheck | None) -> bool:
        culling = Culling(self.custody, self.queries)
        listed = culling.decide(cast.archive_head, list_id, approved=True,
                                reason="kontrollerad mot elevregistret: eleverna har slutat "
                                "grundskolan")
        today = self.custody.today().isoformat()
        for item in listed["items"]:
            school = item["location"]
            culling.destroy(cast.custodians[school], list_id, UUID(item["copy_id"]),
                            Destruction("shredding", today, f"Rektor {SCHOOLS[school]}"))
        done = culling.culling_list(cast.archivist, list_id)
        self.heading("Gallringslista (läsårsskiftet)")
        self.out(f"Föreslagen av Arne Arkivarie, attesterad av Berit Arkivchef; "
                 f"{len(done['items'])} skolexemplar förstörda av de utpekade personerna "
                 "som förvarar dem (strimling, med vittne)")
        self.emit(table(["Exemplar", "Skolenhet", "Status", "Gallringsbevis"],
                        [[i["copy_id"][:8], i["location"], _STATUS.get(i["status"],
                                                                         i["status"]),
                          (i["certificate_id"] or "")[:8]] for i in done["items"]]))
        if protocol is None:
            return bool(done["status"] == ListStatus.EXECUTED)
        document, problems = protocol(list_id)
        self.heading("Gallringsprotokoll")
        body = document["protocol"]
        self.out(f"{body['legal_basis']['decision']} p. {body['legal_basis']['point']}: "
                 f"{len(body['certificates'])} gallringsbevis, signerat med nyckel "
                 f"{document['signature']['key_id']}")
        self.out("kontrollerat offline: " + ("ja" if not problems else "; ".join(problems)))
        return not problems and bool(done["status"] == ListStatus.EXECUTED)

    def handover_away(self, cast: _Cast, result: dict[str, Any]) -> int:
        for item in result["for_archivist"]:
            custodian = cast.custodians[item["school_id"]]
            self.custody.hand_over_externally(
                custodian, UUID(item["record_id"]), UUID(item["copy_id"]),
                organiser="Karlstads kommun", school="Västerstrandskolan",
                receipt_reference=None)
            self.custody.record_external_receipt(custodian, UUID(item["record_id"]),
                                                 UUID(item["copy_id"]), "KS 2018/1234")
        self.out(f"{len(result['for_archivist'])} skolexemplar överlämnat till annan huvudman "
                 "(skollagen 3 kap. 12 j §), kvitterat")
        return len(result["for_archivist"])

    def delivery(self, cast: _Cast) -> bool:
        deliveries = ArchiveDeliveries(self.custody, self.queries)
        boxes = sorted(deliveries.boxes())
        delivered = deliveries.deliver(cast.archivist, boxes)
        received = deliveries.receive(cast.archive_custodian, UUID(delivered["id"]),
                                      "mottaget i kommunarkivet")
        self.heading("Leveransreversal till kommunarkivet")
        self.emit(table(["Kartong", "Hylla", "Första personnummer", "Sista personnummer",
                         "Antal"],
                        [[b["box"], b["shelf"], b["first_personnummer"],
                          b["last_personnummer"], b["copies"]] for b in received["boxes"]]))
        self.out(f"signerad av {received['delivered_by_name']}, kontrasignerad av "
                 f"{received['received_by_name']}")
        return bool(received["status"] == "received")

    # -- reports ---------------------------------------------------------------------

    def reports(self, cast: _Cast) -> tuple[int, int, int]:
        a = cast.archivist
        shelf = self.queries.shelf_list(a)
        self.heading("Hyllförteckning (arkivet)")
        self.out(f"{len(shelf)} arkivexemplar i personnummerordning")
        self.emit(table(
            ["Personnummer", "Namn", "Skolenhet", "Kartong", "Hylla", "Status"],
            [[r["personnummer"], r["name"], r["school_id"], r["box"], r["shelf"],
              _STATUS.get(r["status"], r["status"])] for r in shelf]))
        names = {r["record_id"]: r["name"] for r in shelf}
        for code, school_name in SCHOOLS.items():
            holdings = self.queries.holdings(a, code)
            self.heading(f"Skolexemplar: {school_name}")
            self.out(f"{len(holdings['copies'])} skolexemplar på skolenheten, "
                     f"{len(holdings['incoming'])} på väg")
            self.emit(table(["Personnummer", "Namn", "Status", "Från"],
                            [[r["personnummer"], r["name"], _STATUS.get(r["status"]),
                              r["from_school_id"]]
                             for r in holdings["copies"] + holdings["incoming"]]))
        log = self.queries.request_log(a)
        self.heading("Beställningslogg")
        self.out(f"{len(log)} beställningar")
        self.emit(table(["Beställare", "Elev", "Syfte", "Status", "Skäl"],
                        [[r["actor_name"], names.get(r["record_id"]), r["purpose"],
                          _STATUS.get(r["status"], r["status"]),
                          (r.get("decision") or {}).get("reason")] for r in log]))
        culls = self.queries.culls(a)
        self.heading("Gallringsregister")
        self.out(f"{len(culls)} gallringar")
        self.emit(table(["Intyg", "Vad", "Skolenhet", "Beslut", "Punkt", "Metod", "Villkor"],
                        [[r["certificate_id"][:8], _what(r), r["school_id"], r["decision"],
                          r["point"], r["method"], r["condition"]] for r in culls]))
        return len(shelf), len(log), len(culls)

    def verification(self, verify: Callable[[], Sequence[str]]) -> bool:
        faults = list(verify())
        events = self.custody.recorder.max_notification_id() or 0
        self.heading("Kontroll av signaturer, kedjor och logg")
        if faults:
            self.emit(faults)
            self.out(f"{len(faults)} fel i {events} händelser")
        else:
            self.out(f"intakt: {events} händelser kontrollerade, inga fel")
        return not faults


_STATUS = {
    "printed": "utskrivet", "archived": "arkiverat", "verified": "kontrollerat",
    "discrepancy": "avvikelse", "at_school": "på skolenheten", "in_transit": "på väg",
    "culled": "gallrat", "replaced": "ersatt", "returned": "återlämnad",
    "refused": "avslagen", "granted": "beviljad", "handed_out": "utlämnad",
    "pending": "väntar", "proposed": "föreslaget", "approved": "attesterat",
    "destroyed": "förstört", "withdrawn": "återtaget",
    "handed_over_externally": "överlämnat till annan huvudman",
}


def _what(cull: dict[str, Any]) -> str:
    if cull["kind"] == "general_information":
        return f"allmän information ({cull['category']})"
    return "skolexemplar"


def _box(position: int) -> str:
    return f"UNIKUM-{position // 20 + 1:03d}"


def _shelf(position: int) -> str:
    return f"Hylla {position // 40 + 1}"


def _some(value: UUID | None) -> UUID:
    if value is None:
        raise RuntimeError("the demo lost track of a copy it printed")
    return value


def _actor_id(principal: Principal) -> UUID:
    return UUID(principal.id)


def run_demo(rt: DemoRuntime, out: Output, verify: Callable[[], Sequence[str]],
             protocol: ProtocolCheck | None = None) -> int:
    """Run the seed story on a fresh store; 0 when every step and the verification are
    clean, 1 otherwise. ``verify`` checks the live store and returns its fault lines;
    ``protocol`` issues and checks the culling list's signed protocol."""
    story = _Story(rt, out)
    out(f"Unikum avvecklas — gallringsbeslut {DECISION_ID} (Barn- och utbildningsnämnden "
        "2017-12-14)")
    try:
        cast = story.set_up()
        data, general = demo_students(), demo_general()
        report = story.capture(cast, data, general)
        students = [_Student(d, rt.custody.student_record_id(d.personnummer),
                             school_id=d.school_id) for d in data]
        story.cull_general(cast, general)
        story.print_and_archive(cast, students)
        holmes = next(s for s in students if s.school_id == "holmes"
                      and s.data.birth.year >= 2003)
        refused = story.requests(cast, holmes)
        story.ist_entries(cast, students)
        story.terminate(cast)
        story.departures(cast, students)
        result = story.rollover(cast)
        executed = story.culling_list(cast, UUID(result["culling_list_id"]), protocol)
        story.handover_away(cast, result)
        delivered = story.delivery(cast)
        story.reports(cast)
    except DomainError as error:
        out(f"FEL: demonstrationen stannade: {error}")
        return 1
    intact = story.verification(verify)
    return 0 if intact and refused and report.ok and executed and delivered else 1
