"""Benchmark of the views: rebuild throughput next to raw reads of the log, and the lag
from append to visibility under a steady write load.

On SQLite and PostgreSQL, each in a fresh store:

1. writes N events in a scripted mix (in cohorts of students: captured, archive and
   school copy printed, archive copy filed, then verified), saved through the signing
   store in multi-record saves so that the set-up is quick and the log interleaves
   records the way a working day does;
2. (b) reads the same log with the library, in the runner's page size:
   ``recorder.select_notifications(...)`` alone, the same plus a bare ``Mapper`` decode
   of each payload (no signature check, no decryption), and the signed feed the runner
   uses (signature check, decryption, decode);
3. (a) rebuilds the views from scratch (``rt.runner.rebuild()``), with every signature
   checked, and prints rebuild/raw-read (target >= 0.25);
4. (c) starts the background runner (``rt.runner.start()``) and lets one thread run
   commands through the real use cases (``capture_student``, ``print_copy``,
   ``archive_copy``, ``verify_copy``) at a steady rate, while another thread polls
   ``rt.views.position()`` every millisecond; each command's lag is the time from its
   return until the views' position reaches its ``seq`` (p50/p99/max; target p99 <
   100 ms on PostgreSQL);
5. rebuilds the same views, alternating in each round, with a bare runner (the same
   projector and store, no signature checked, nothing decrypted), with signatures
   checked on threads and with pages checked and decoded in worker processes
   (``CUSTODY_REBUILD_POOL``), for the batch-signed log and, in another fresh store, for
   an API-shaped log (one save, so one signature, per command): the faster one against
   the bare one (target >= 0.6) and the API-shaped log's rate (target >= 10,000
   events/s).

    .venv/bin/python bench/projections.py            # 5,000 events, 10 s of load
    .venv/bin/python bench/projections.py --quick    # 1,000 events, 3 s of load
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from uuid import UUID, uuid4

# Runnable as a plain script from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import resolve_topic

from application.policy import Principal
from application.ports import EventFeed, FeedItem
from application.projections import ProjectionRunner, view_digest
from application.service import StudentCapture
from bench.common import (
    Rate,
    Report,
    Target,
    cpu_count,
    custody_runtime,
    fresh_store,
    load_average,
    percentile,
    personnummer,
    timed,
)
from bench.fixtures import seed_staff, student
from domain.record import Purpose, Record
from infrastructure.bootstrap import Runtime
from infrastructure.feed import SignedEventFeed
from infrastructure.signed_events import (
    Envelope,
    SignedMapper,
    canonical_id,
    forget_verified,
    signing_input,
)

PAGE = 500
"""Notifications per read: the projection runner's batch size."""
COHORT = 50
REBUILD_RATIO = Target(0.25)
VERSUS_BARE = Target(0.6)
REBUILD_RATE = Target(10_000, unit="events/s")
LAG_P99 = Target(100, at_least=False, unit="ms")
POLL_INTERVAL = 0.001


# -- writing the log ---------------------------------------------------------------------


def write_log(rt: Runtime, principal: Principal, events: int, first: int = 0) -> int:
    """Append at least ``events`` events in cohorts of ``COHORT`` students; each cohort is
    captured, then printed (archive and school copy), filed, and verified, one save per
    step for the whole cohort. Returns how many students were captured."""
    custody, actor = rt.custody, principal.id
    per_student = 5
    students = max(1, -(-events // per_student))
    for start in range(first, first + students, COHORT):
        numbers = range(start, min(first + students, start + COHORT))
        subjects = iter(rt.vault.new_subjects(3 * len(numbers)))
        records: list[Record] = []
        for number in numbers:
            capture = custody.prepare(principal, student(personnummer(number)),
                                      subject=next(subjects))
            records.append(capture)
        custody.commit(*records)
        archive: dict[UUID, UUID] = {}
        for record in records:
            archive[record.id] = uuid4()
            record.print_copy(Purpose.ARCHIVE, copy_id=archive[record.id],
                              subject=next(subjects), school_id=None, actor=actor)
            record.print_copy(Purpose.SCHOOL, copy_id=uuid4(), subject=next(subjects),
                              school_id=record.school_id, actor=actor)
        custody.commit(*records)
        for index, record in enumerate(records):
            record.archive(archive[record.id], box=f"box-{start // COHORT}",
                           shelf=f"shelf-{index % 7}", actor=actor)
        custody.commit(*records)
        for record in records:
            record.verify(archive[record.id], outcome="ok", note=None, actor=actor)
        custody.commit(*records)
    return students


def write_api_log(rt: Runtime, principal: Principal, events: int) -> int:
    """The same steps as :func:`write_log`, but saved the way the API saves them: one
    save per command, so every event has a signature of its own (``CSE1``), nothing
    batch-signed. Returns how many students were captured."""
    custody, actor = rt.custody, principal.id
    students = max(1, -(-events // 5))
    for start in range(0, students, COHORT):
        numbers = range(start, min(students, start + COHORT))
        subjects = iter(rt.vault.new_subjects(3 * len(numbers)))
        for index, number in enumerate(numbers):
            record = custody.prepare_student(principal, student(personnummer(number)),
                                             subject=next(subjects), check_exists=False)
            custody.commit(record)
            archive = uuid4()
            record.print_copy(Purpose.ARCHIVE, copy_id=archive, subject=next(subjects),
                              school_id=None, actor=actor)
            custody.commit(record)
            record.print_copy(Purpose.SCHOOL, copy_id=uuid4(), subject=next(subjects),
                              school_id=record.school_id, actor=actor)
            custody.commit(record)
            record.archive(archive, box=f"box-{start // COHORT}", shelf=f"shelf-{index % 7}",
                           actor=actor)
            custody.commit(record)
            record.verify(archive, outcome="ok", note=None, actor=actor)
            custody.commit(record)
    return students


# -- reading it back ---------------------------------------------------------------------


def read_raw(rt: Runtime) -> int:
    """Every notification, in pages of ``PAGE``, as the recorder returns them."""
    recorder, position, count = rt.custody.recorder, 0, 0
    while True:
        page = recorder.select_notifications(position, PAGE, inclusive_of_start=False)
        if not page:
            return count
        count += len(page)
        position = page[-1].id


def read_bare_decoded(rt: Runtime) -> int:
    """The same pages, each payload decoded by the library's own ``Mapper`` (the
    envelope's header is cut off, nothing is verified or decrypted)."""
    recorder, position, count = rt.custody.recorder, 0, 0
    mapper: Mapper[UUID] = Mapper(rt.custody.construct_transcoder())
    while True:
        page = recorder.select_notifications(position, PAGE, inclusive_of_start=False)
        if not page:
            return count
        for n in page:
            payload = Envelope.parse(bytes(n.state)).payload
            mapper.to_domain_event(StoredEvent(n.originator_id, n.originator_version,
                                               n.topic, payload))
        count += len(page)
        position = page[-1].id


def read_signed_feed(rt: Runtime) -> int:
    """The same pages through the runner's feed: signature check, decryption, decode."""
    return read_feed(rt.runner.feed)


def read_feed(feed: EventFeed) -> int:
    """Every page of ``feed``; how many events it gave."""
    position, count = 0, 0
    while True:
        items = feed.read(position, PAGE)
        if not items:
            return count
        count += len(items)
        position = items[-1].seq


def rate_of(rounds: int, read: Callable[[], int]) -> Rate:
    rate = Rate()
    for _ in range(rounds):
        count, seconds = timed(read)
        rate.add(count, seconds)
    return rate


def measure_rebuild(rt: Runtime, report: Report, scope: str, students: int,
                    rounds: int) -> None:
    events = rt.custody.recorder.max_notification_id() or 0
    read_raw(rt)  # warm the database's cache and the connections
    raw = rate_of(rounds, lambda: read_raw(rt))
    decoded = rate_of(rounds, lambda: read_bare_decoded(rt))
    def cold_feed() -> int:
        forget_verified(rt.keyring)  # as a fresh process: every signature checked again
        return read_signed_feed(rt)

    feed = rate_of(rounds, cold_feed)
    rebuild = Rate()
    for _ in range(rounds):
        forget_verified(rt.keyring)
        position, seconds = timed(rt.runner.rebuild)
        if position != events:
            raise SystemExit(f"{scope}: rebuild stopped at {position}, log has {events}")
        rebuild.add(events, seconds)
    captured = len(rt.views.find("records", status="captured"))
    if captured != students:
        raise SystemExit(f"{scope}: views hold {captured} records, {students} were captured")
    report.note(f"log of {events:,} events ({students:,} students); pages of {PAGE}")
    report.figure("(b) select_notifications, raw rows", raw.median, "events/s",
                  detail=raw.detail())
    report.figure("(b) + bare Mapper decode (no checks)", decoded.median, "events/s",
                  detail=decoded.detail())
    report.figure("    signed feed (verify + decrypt + decode)", feed.median, "events/s",
                  detail=feed.detail())
    report.figure("(a) runner.rebuild(), signatures checked", rebuild.median, "events/s",
                  detail=rebuild.detail())
    report.figure("ratio rebuild / raw read", rebuild.median / raw.median, "", fmt=".3f",
                  target=REBUILD_RATIO, scope=scope)
    report.figure("ratio rebuild / read + bare decode", rebuild.median / decoded.median, "",
                  fmt=".3f")


class BareFeed:
    """The anchor: the same rows fed to the same projector with no signature checked
    and nothing decrypted. Payloads are decoded by the library's transcoder; personal
    data is parsed from plaintext JSON kept aside beforehand (what decryption would
    give); the chain hashes the projector checks are still computed (SHA-256)."""

    def __init__(self, rt: Runtime, plaintexts: dict[int, bytes]) -> None:
        self.recorder = rt.custody.recorder
        self.transcoder = rt.custody.construct_transcoder()
        self.plaintexts = plaintexts

    def read(self, after: int, limit: int) -> list[FeedItem]:
        page = self.recorder.select_notifications(after, limit, inclusive_of_start=False)
        items = []
        for n in page:
            env = Envelope.parse(bytes(n.state))
            state = self.transcoder.decode(env.payload)
            plain = self.plaintexts.get(n.id)
            if plain is not None:
                state["personal"] = json.loads(plain)
            rid = canonical_id(n.originator_id)
            state["originator_id"] = UUID(rid)
            state["originator_version"] = n.originator_version
            event = object.__new__(resolve_topic(n.topic))
            object.__setattr__(event, "__dict__", state)
            message = signing_input(rid, n.originator_version, n.topic, env.kid, env.prev,
                                    env.payload)
            items.append(FeedItem(n.id, event, env.prev, hashlib.sha256(message).hexdigest()))
        return items

    def last_seq(self) -> int:
        return self.recorder.max_notification_id() or 0


def plaintexts_of(rt: Runtime) -> dict[int, bytes]:
    """Each event's personal data as plaintext JSON, by seq (read once, untimed)."""
    feed, position, found = rt.runner.feed, 0, {}
    while True:
        items = feed.read(position, PAGE)
        if not items:
            return found
        for item in items:
            personal = getattr(item.event, "personal", None)
            if personal is not None:
                found[item.seq] = json.dumps(personal).encode()
        position = items[-1].seq


def measure_vs_bare(rt: Runtime, report: Report, scope: str, shape: str, students: int,
                    rounds: int) -> None:
    """Rebuilds of the same views, alternating in each round: the bare runner, the
    signed feed with signatures on threads, and with pages checked and decoded in
    worker processes (``CUSTODY_REBUILD_POOL``); medians of ``rounds``."""
    events = rt.custody.recorder.max_notification_id() or 0
    mapper = rt.custody.mapper
    assert isinstance(mapper, SignedMapper)
    recorder = rt.custody.recorder
    feeds = {"threads": SignedEventFeed(recorder, mapper, pool="thread"),
             "processes": SignedEventFeed(recorder, mapper, pool="process")}
    workers = feeds["processes"].workers
    runners = {"bare": ProjectionRunner(BareFeed(rt, plaintexts_of(rt)), rt.views,
                                        batch_size=PAGE, search=rt.blind)}
    for name, feed in feeds.items():
        runners[name] = ProjectionRunner(feed, rt.views, batch_size=PAGE, search=rt.blind)
    feeds["processes"].read(0, PAGE)  # start the worker processes (untimed)
    rates = {name: Rate() for name in runners}
    reads = {name: Rate() for name in feeds}
    digests: dict[str, str] = {}
    order = list(runners)
    try:
        for round_ in range(rounds):
            for name, feed in feeds.items():  # the feed alone: read, check, decode
                forget_verified(rt.keyring)
                count, seconds = timed(lambda feed=feed: read_feed(feed))  # type: ignore[misc]
                reads[name].add(count, seconds)
            # A different variant goes first in each round (caches, the load's drift).
            for name in order[round_ % 3:] + order[:round_ % 3]:
                runner = runners[name]
                forget_verified(rt.keyring)
                position, seconds = timed(runner.rebuild)
                if position != events:
                    raise SystemExit(f"{scope}: {name} rebuild stopped at {position}")
                rates[name].add(events, seconds)
                digests.setdefault(name, view_digest(rt.views, "records"))
    finally:
        for feed in feeds.values():
            feed.close()
    if len(set(digests.values())) != 1:
        raise SystemExit(f"{scope}: the rebuilds built different records views: {digests}")
    captured = len(rt.views.find("records", status="captured"))
    if captured != students:
        raise SystemExit(f"{scope}: views hold {captured} records, {students} were captured")
    bare = rates["bare"].median
    best = max(("threads", "processes"), key=lambda name: rates[name].median)
    tag = shape.split()[0]
    report.note(f"{shape}: {events:,} events; rebuilds alternating bare / threads / "
                f"{workers} worker processes, median of {rounds}; {load_average()}")
    report.figure(f"[{tag}] bare rebuild (no signatures, no AES)", bare, "events/s",
                  detail=rates["bare"].detail())
    for name in ("threads", "processes"):
        report.figure(f"[{tag}] feed read alone, checked on {name}", reads[name].median,
                      "events/s", detail=reads[name].detail())
    for name in ("threads", "processes"):
        report.figure(f"[{tag}] rebuild, checked on {name}", rates[name].median,
                      "events/s", detail=rates[name].detail())
    report.figure(f"[{tag}] ratio rebuild ({best}) / bare", rates[best].median / bare, "",
                  fmt=".3f", target=VERSUS_BARE, scope=f"{scope} {shape}")
    if tag == "API-shaped":
        report.figure(f"[{tag}] rebuild ({best})", rates[best].median, "events/s",
                      target=REBUILD_RATE, scope=f"{scope} {shape}")


# -- lag under load -----------------------------------------------------------------------


@dataclass
class LagRun:
    """What the writer and the poller saw: each command's (seq, return time, duration),
    and each change of the views' position as (time, position)."""

    commands: list[tuple[int, float, float]] = field(default_factory=list)
    seen: list[tuple[float, int]] = field(default_factory=list)
    late_starts: int = 0
    error: BaseException | None = None

    def lags_ms(self) -> tuple[list[float], int]:
        """Each command's lag in ms, and how many never became visible."""
        times = [t for t, _ in self.seen]
        positions = [p for _, p in self.seen]
        lags: list[float] = []
        missing = 0
        for seq, returned, _ in self.commands:
            index = bisect.bisect_left(positions, seq)
            if index == len(positions):
                missing += 1
                continue
            lags.append(max(0.0, times[index] - returned) * 1000)
        return lags, missing


class CommandScript:
    """An endless, realistic stream of commands through the use cases: capture a
    student, print the archive copy, file it, verify it; then the next student."""

    def __init__(self, rt: Runtime, archivist: Principal, first: int) -> None:
        self.rt = rt
        self.archivist = archivist
        self.number = first
        self.step = 0
        self.record_id: UUID | None = None
        self.copy_id: UUID | None = None

    def __call__(self) -> None:
        custody, who = self.rt.custody, self.archivist
        if self.step == 0:
            capture: StudentCapture = student(personnummer(self.number))
            self.number += 1
            self.record_id = custody.capture_student(who, capture)
        elif self.step == 1:
            assert self.record_id is not None
            self.copy_id = custody.print_copy(who, self.record_id, "archive", None)
        elif self.step == 2:
            assert self.record_id is not None and self.copy_id is not None
            custody.archive_copy(who, self.record_id, self.copy_id, box="lag-box",
                                 shelf="1")
        else:
            assert self.record_id is not None and self.copy_id is not None
            custody.verify_copy(who, self.record_id, self.copy_id, outcome="ok", note=None)
        self.step = (self.step + 1) % 4


def run_lag(rt: Runtime, archivist: Principal, first: int, rate: float,
            seconds: float) -> LagRun:
    """Steady writes in one thread, 1 ms polling of the views' position in another,
    the background runner projecting; returns what was observed."""
    result = LagRun()
    last_seq = [0]

    def remember(seq: int, *_: object) -> None:
        # Called in the writer's thread by every save, with its last notification id.
        last_seq[0] = seq

    rt.custody.listeners.append(remember)
    script = CommandScript(rt, archivist, first)
    stop_polling = threading.Event()

    def poll() -> None:
        position = -1
        while not stop_polling.is_set():
            now_position = rt.views.position()
            if now_position != position:
                position = now_position
                result.seen.append((time.perf_counter(), position))
            time.sleep(POLL_INTERVAL)

    def write() -> None:
        try:
            total = int(rate * seconds)
            began = time.perf_counter()
            for i in range(total):
                due = began + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                else:
                    result.late_starts += 1
                started = time.perf_counter()
                script()
                returned = time.perf_counter()
                result.commands.append((last_seq[0], returned, returned - started))
        except BaseException as error:  # reported by the main thread
            result.error = error

    rt.runner.start()
    poller = threading.Thread(target=poll, name="bench-poller", daemon=True)
    writer = threading.Thread(target=write, name="bench-writer", daemon=True)
    poller.start()
    writer.start()
    writer.join()
    deadline = time.perf_counter() + 10
    target = result.commands[-1][0] if result.commands else 0
    while rt.views.position() < target and time.perf_counter() < deadline:
        time.sleep(0.01)
    time.sleep(5 * POLL_INTERVAL)
    stop_polling.set()
    poller.join()
    rt.runner.stop()
    if result.error is not None:
        raise result.error
    return result


def measure_lag(rt: Runtime, archivist: Principal, report: Report, scope: str, first: int,
                rate: float, seconds: float) -> None:
    run = run_lag(rt, archivist, first, rate, seconds)
    lags, missing = run.lags_ms()
    durations = [d * 1000 for _, _, d in run.commands]
    span = run.commands[-1][1] - run.commands[0][1] if len(run.commands) > 1 else 0.0
    achieved = (len(run.commands) - 1) / span if span > 0 else 0.0
    follower = ("the library's ProjectionRunner (LISTEN/NOTIFY), "
                f"{rt.runner.live_applied:,} events applied one by one"
                if scope == "postgres" else "the polling follower")
    report.note(f"(c) {len(run.commands):,} commands at {rate:g}/s for {seconds:g} s "
                f"(achieved {achieved:.1f}/s, {run.late_starts} started late); "
                f"views polled every {POLL_INTERVAL * 1000:g} ms; followed by {follower}")
    report.figure("command duration p50", percentile(durations, 0.5), "ms", fmt=".2f")
    report.figure("command duration p99", percentile(durations, 0.99), "ms", fmt=".2f")
    target = LAG_P99 if scope == "postgres" else None
    report.figure("append-to-visible lag p50", percentile(lags, 0.5), "ms", fmt=".2f")
    report.figure("append-to-visible lag p99", percentile(lags, 0.99), "ms", fmt=".2f",
                  target=target, scope=scope)
    report.figure("append-to-visible lag max", max(lags, default=float("nan")), "ms",
                  fmt=".2f")
    if missing:
        report.note(f"{missing} commands never became visible within 10 s")
    if rt.runner.error:
        raise SystemExit(f"{scope}: the runner stopped: {rt.runner.error}")


def run(backend: str, report: Report, events: int, rounds: int, rate: float,
        seconds: float) -> None:
    with fresh_store(backend) as store, custody_runtime(store) as rt:
        report.heading(f"projections on {backend}: {rt.events_database}")
        report.note(f"at start: {load_average()}")
        staff = seed_staff(rt.custody)
        students = write_log(rt, staff.archivist, events)
        measure_rebuild(rt, report, backend, students, rounds)
        measure_vs_bare(rt, report, backend, "batch-signed log", students, rounds)
        measure_lag(rt, staff.archivist, report, backend, students + 1, rate, seconds)
        report.note(f"at end: {load_average()}")
    with fresh_store(backend) as store, custody_runtime(store) as rt:
        report.heading(f"rebuild of an API-shaped log on {backend}")
        staff = seed_staff(rt.custody)
        students = write_api_log(rt, staff.archivist, events)
        measure_vs_bare(rt, report, backend, "API-shaped log", students, rounds)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few events: a smoke run")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgres"),
                        help="repeatable; default: both")
    parser.add_argument("--rate", type=float, default=100.0, help="commands/s under load")
    args = parser.parse_args(argv)
    events, rounds, seconds = (1_000, 1, 3.0) if args.quick else (5_000, 3, 10.0)
    print(f"Projection benchmark: {events:,} events, {rounds} round(s) per read figure, "
          f"{args.rate:g} commands/s for {seconds:g} s; Python {sys.version.split()[0]}, "
          f"{cpu_count()} cores")
    report = Report()
    for backend in args.backend or ("sqlite", "postgres"):
        run(backend, report, events, rounds, args.rate, seconds)
    report.summary("projections")


if __name__ == "__main__":
    main()
