"""Benchmark of the signed, hash-chained append, against a bare eventsourcing application.

On SQLite and PostgreSQL, in the same run:

(a) events/s of the custody service's signed append (``Custody.commit``) of captured
    student records: one command (one new record, one event) per save, and batches of
    100 new records per save. Each capture needs a per-subject key (one insert into the
    key table). The honest figure makes the key the way the use case does (one insert
    per command, ``new_subjects(100)`` per batch); the figure "keys made ahead" makes all
    keys in one bulk insert before the clock starts, to show what the signing store
    costs by itself. The full use case (``Custody.capture_student``: policy, two
    existence reads, key, save) is shown too, without a target.
(b) the same for a bare ``eventsourcing.application.Application`` (default mapper, no
    signing, no encryption) saving an ``Aggregate`` whose created event has the same
    fields and about the same size, in its own SQLite file / PostgreSQL schema;
(c) the ratio signed/bare (targets: >= 0.9 one per save, >= 0.7 in batches of 100);
(d) ``custody verify`` throughput: ``verify_rows(iter_rows(recorder), keys, workers=N)``
    over everything written above, with 1 worker and with every core (target >= 25,000
    events/s on all cores).

Bare, signed and signed-with-keys-ahead runs go back to back in every round (in an order
rotated each round); a rate is the median round, and a ratio is the median of the
per-round ratios, so load from elsewhere on the machine hits both sides of a ratio alike.
The load average is printed at the start and end of each backend: on a busy machine the
figures (the single-save ones most) are noisy.

    .venv/bin/python bench/append.py            # a few thousand events per figure
    .venv/bin/python bench/append.py --quick    # a smoke run
    .venv/bin/python bench/append.py --profile  # also cProfile the signed single append
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import io
import itertools
import json
import os
import pstats
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

# Runnable as a plain script from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from application.policy import Principal
from application.service import StudentCapture, checked_documents
from bench.common import (
    REPO_ROOT,
    Rate,
    Report,
    Store,
    Target,
    cpu_count,
    custody_runtime,
    fresh_store,
    load_average,
    paired_ratio,
    personnummer,
    subject_supply,
    timed,
)
from bench.fixtures import seed_staff, student
from domain.documents import Document, documentation_fingerprint
from domain.personnummer import Personnummer
from domain.record import Record
from infrastructure.bootstrap import Runtime
from infrastructure.store_rows import count_events, iter_rows
from infrastructure.verification import verify_rows

BATCH = 100
SINGLE_RATIO = Target(0.9)
BATCH_RATIO = Target(0.7)
VERIFY_RATE = Target(25_000, unit="events/s")


# -- the bare comparison -----------------------------------------------------------------


class BareRecord(Aggregate):
    """A captured student record for the bare application: the same fields as
    ``Record.StudentDocumentationCaptured``, personal data as an opaque blob of the
    size the custody store's ciphertext has, but nothing signed or encrypted."""

    @event("Captured")
    def __init__(self, subject: UUID, personal: dict[str, str], school_id: str,
                 document_count: int, fingerprint: str, actor: str) -> None:
        self.subject = subject
        self.personal = personal
        self.school_id = school_id
        self.document_count = document_count
        self.fingerprint = fingerprint
        self.actor = actor


class BareApplication(Application[UUID]):
    """eventsourcing's default application: default mapper and event store."""

    name = "BareBench"


# -- the inputs of one capture, prepared before the clock starts ---------------------------


@dataclass(frozen=True)
class Capture:
    """Everything a capture command carries, validated once outside the timed loop."""

    record_id: UUID
    personnummer: str
    name: str
    school_id: str
    class_name: str
    documents: list[Document]
    fingerprint: str
    opaque: str
    """For the bare event: random base64 as long as the custody store's sealed ``personal``."""

    @classmethod
    def of(cls, rt: Runtime, index: int) -> Capture:
        given = student(personnummer(index))
        documents = checked_documents(given.documents)
        personal = {"personnummer": given.personnummer, "name": given.name,
                    "class": given.class_name, "documents": [d.as_event() for d in documents]}
        plaintext = json.dumps(personal, separators=(",", ":"), sort_keys=True)
        return cls(rt.custody.student_record_id(str(given.personnummer)),
                   str(given.personnummer), given.name, given.school_id,
                   given.class_name or "", documents, documentation_fingerprint(documents).hex,
                   base64.b64encode(os.urandom(len(plaintext.encode()) + 12 + 16)).decode())

    def record(self, subject: UUID, actor: str) -> Record:
        return Record.capture_student_documentation(
            self.record_id, subject=subject, personnummer=Personnummer.parse(self.personnummer),
            name=self.name, school_id=self.school_id, class_name=self.class_name,
            documents=self.documents, actor=actor)

    def bare(self, subject: UUID, actor: str) -> BareRecord:
        return BareRecord(subject, {"sealed": self.opaque}, self.school_id, len(self.documents),
                          self.fingerprint, actor)

    def use_case(self) -> StudentCapture:
        return student(self.personnummer)


class Bench:
    """One backend's run: a custody runtime and a bare application on the same database."""

    def __init__(self, rt: Runtime, bare: BareApplication, actor: str) -> None:
        self.rt = rt
        self.bare = bare
        self.actor = actor
        self._numbers = itertools.count(1)

    def captures(self, count: int) -> list[Capture]:
        return [Capture.of(self.rt, next(self._numbers)) for _ in range(count)]

    # Each prepare_* method builds the inputs of ``count`` events outside the clock and
    # returns the timed part: run it with :func:`measure`.

    def prepare_signed_single(self, count: int, *, keys_ahead: bool) -> Callable[[], None]:
        """One command per save: a new record with its key, then ``Custody.commit``."""
        captures = self.captures(count)
        subject = subject_supply(self.rt, count, ahead=keys_ahead)
        custody, actor = self.rt.custody, self.actor

        def run() -> None:
            for capture in captures:
                custody.commit(capture.record(subject(), actor))

        return run

    def prepare_signed_batches(self, count: int, *, keys_ahead: bool) -> Callable[[], None]:
        """``BATCH`` new records (one event each) per ``Custody.commit``; the keys come
        from one ``new_subjects(BATCH)`` per batch, or were all made ahead."""
        captures = self.captures(count)
        ahead = iter(self.rt.vault.new_subjects(count)) if keys_ahead else None
        custody, vault, actor = self.rt.custody, self.rt.vault, self.actor

        def run() -> None:
            for start in range(0, count, BATCH):
                chunk = captures[start:start + BATCH]
                subjects = ([next(ahead) for _ in chunk] if ahead is not None
                            else vault.new_subjects(len(chunk)))
                custody.commit(*(c.record(s, actor)
                                 for c, s in zip(chunk, subjects, strict=True)))

        return run

    def prepare_bare_single(self, count: int) -> Callable[[], None]:
        """One new ``BareRecord`` per ``Application.save``."""
        captures = self.captures(count)
        bare, actor = self.bare, self.actor

        def run() -> None:
            for capture in captures:
                bare.save(capture.bare(capture.record_id, actor))

        return run

    def prepare_bare_batches(self, count: int) -> Callable[[], None]:
        """``BATCH`` new ``BareRecord`` per ``Application.save``."""
        captures = self.captures(count)
        bare, actor = self.bare, self.actor

        def run() -> None:
            for start in range(0, count, BATCH):
                chunk = captures[start:start + BATCH]
                bare.save(*(c.bare(c.record_id, actor) for c in chunk))

        return run

    def prepare_use_case(self, count: int, principal: Principal) -> Callable[[], None]:
        """The whole capture command: ``Custody.capture_student``."""
        commands = [c.use_case() for c in self.captures(count)]
        custody = self.rt.custody

        def run() -> None:
            for command in commands:
                custody.capture_student(principal, command)

        return run

    def stored_sizes(self) -> tuple[float, float]:
        """Mean stored ``state`` bytes of the last events, signed and bare."""
        def mean(recorder: Any) -> float:
            last = recorder.max_notification_id() or 0
            rows = recorder.select_notifications(max(1, last - 199), 200)
            return sum(len(bytes(n.state)) for n in rows) / max(1, len(rows))
        return mean(self.rt.custody.recorder), mean(self.bare.recorder)


@contextmanager
def bench_on(store: Store) -> Iterator[tuple[Bench, Principal]]:
    with custody_runtime(store) as rt:
        bare = BareApplication(store.bare_env())
        try:
            staff = seed_staff(rt.custody)
            yield Bench(rt, bare, staff.archivist.id), staff.archivist
        finally:
            bare.close()


# -- the figures -------------------------------------------------------------------------


def measure(rate: Rate, count: int, run: Callable[[], None]) -> None:
    """Time one prepared run of ``count`` events into ``rate``."""
    rate.add(count, timed(run)[1])


def measure_appends(bench: Bench, principal: Principal, report: Report, scope: str,
                    single: int, batched: int, rounds: int) -> None:
    # Warm up connections, prepared statements and caches on both sides.
    for warm_up in (bench.prepare_bare_single(20),
                    bench.prepare_signed_single(20, keys_ahead=False),
                    bench.prepare_bare_batches(BATCH),
                    bench.prepare_signed_batches(BATCH, keys_ahead=False)):
        warm_up()

    bare_1, signed_1, ahead_1 = Rate(), Rate(), Rate()
    bare_b, signed_b, ahead_b = Rate(), Rate(), Rate()
    for round_ in range(rounds):
        # The three runs of a round go back to back, in an order rotated every round.
        runs = [(bare_1, bench.prepare_bare_single(single)),
                (signed_1, bench.prepare_signed_single(single, keys_ahead=False)),
                (ahead_1, bench.prepare_signed_single(single, keys_ahead=True))]
        for rate, run in runs[round_ % 3:] + runs[:round_ % 3]:
            measure(rate, single, run)
    for round_ in range(rounds):
        runs = [(bare_b, bench.prepare_bare_batches(batched)),
                (signed_b, bench.prepare_signed_batches(batched, keys_ahead=False)),
                (ahead_b, bench.prepare_signed_batches(batched, keys_ahead=True))]
        for rate, run in runs[round_ % 3:] + runs[:round_ % 3]:
            measure(rate, batched, run)
    use_case = Rate()
    measure(use_case, single, bench.prepare_use_case(single, principal))
    signed_size, bare_size = bench.stored_sizes()

    report.note(f"stored state per event: signed {signed_size:,.0f} B, bare {bare_size:,.0f} B")
    report.note("(a, b) one command per save")
    report.figure("bare Application.save, 1 event/save", bare_1.median, "events/s",
                  detail=bare_1.detail())
    report.figure("signed commit, 1 event/save, key per command", signed_1.median, "events/s",
                  detail=signed_1.detail())
    report.figure("signed commit, 1 event/save, keys made ahead", ahead_1.median, "events/s",
                  detail=ahead_1.detail())
    report.figure("capture_student use case (reads+key+save)", use_case.median, "events/s",
                  detail=use_case.detail())
    report.note(f"(a, b) batches of {BATCH} events per save")
    report.figure(f"bare Application.save, {BATCH} events/save", bare_b.median, "events/s",
                  detail=bare_b.detail())
    report.figure(f"signed commit, {BATCH}/save, new_subjects({BATCH}) each", signed_b.median,
                  "events/s", detail=signed_b.detail())
    report.figure(f"signed commit, {BATCH}/save, keys made ahead", ahead_b.median, "events/s",
                  detail=ahead_b.detail())
    report.note("(c) ratio signed/bare: median of the per-round ratios")
    report.figure("ratio 1/save, key per command (real path)", paired_ratio(signed_1, bare_1),
                  "", fmt=".2f", target=SINGLE_RATIO, scope=scope)
    report.figure("ratio 1/save, keys made ahead", paired_ratio(ahead_1, bare_1), "",
                  fmt=".2f", target=SINGLE_RATIO, scope=scope)
    report.figure(f"ratio {BATCH}/save, new_subjects per batch (real path)",
                  paired_ratio(signed_b, bare_b), "", fmt=".2f", target=BATCH_RATIO,
                  scope=scope)
    report.figure(f"ratio {BATCH}/save, keys made ahead", paired_ratio(ahead_b, bare_b), "",
                  fmt=".2f", target=BATCH_RATIO, scope=scope)


def ed25519_rates(samples: int = 2_000) -> tuple[float, float]:
    """Signatures and verifications per second on one core, for the ceilings."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    message = b"records-custody event v1\n" + b"x" * 200
    signature = key.sign(message)
    _, sign_seconds = timed(lambda: [key.sign(message) for _ in range(samples)])
    _, verify_seconds = timed(lambda: [public.verify(signature, message)
                                       for _ in range(samples)])
    return samples / sign_seconds, samples / verify_seconds


def measure_verify(bench: Bench, report: Report, scope: str, rounds: int) -> None:
    """``custody verify`` as the CLI runs it, with 1 worker and with every core (median of
    ``rounds``); then the same split into reading the rows and checking them, and the
    ceiling that Ed25519 verification on this machine puts on it."""
    rt = bench.rt
    recorder = rt.custody.recorder
    keys = rt.keyring.raw()
    events = count_events(recorder)
    report.note(f"(d) custody verify over {events:,} stored events")
    for workers in sorted({1, cpu_count()}):
        rate = Rate()
        for _ in range(rounds):
            result, seconds = timed(partial(verify_rows, iter_rows(recorder), keys,
                                            workers=workers))
            if not result.ok or result.events != events:
                raise SystemExit(f"{scope}: verification failed: {result.faults[:3]}")
            rate.add(events, seconds)
        target = VERIFY_RATE if workers == cpu_count() else None
        report.figure(f"verify_rows(iter_rows(...)), workers={workers}", rate.median,
                      "events/s", target=target, scope=scope, detail=rate.detail())
    rows, seconds = timed(lambda: list(iter_rows(recorder)))
    report.figure("  of which: iter_rows alone (read)", len(rows) / seconds, "events/s",
                  detail=f"{seconds:.2f} s")
    for workers in sorted({1, cpu_count()}):
        _, seconds = timed(partial(verify_rows, rows, keys, workers=workers))
        report.figure(f"  verify_rows(rows in memory), workers={workers}", len(rows) / seconds,
                      "events/s", detail=f"{seconds:.2f} s")
    _, verify_rate = ed25519_rates()
    report.figure(f"  ceiling: bare Ed25519 verify x {cpu_count()} cores",
                  verify_rate * cpu_count(), "events/s",
                  detail=f"{1e6 / verify_rate:.0f} us per verify on one core")


def profile(label: str, run: Callable[[], None], lines: int = 16) -> None:
    """cProfile one prepared run; print the functions with the most own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(lines)
    print(f"\n   cProfile: {label}, by own time")
    for line in out.getvalue().splitlines():
        if line.strip() and not line.lstrip().startswith(("Ordered by", "List reduced")):
            print("   " + line.replace(str(REPO_ROOT) + "/", "").replace(
                str(Path(sys.prefix)) + "/", ""))


def measure_sign_costs(report: Report) -> None:
    sign_rate, _ = ed25519_rates()
    report.figure("  bare Ed25519 sign, one core", sign_rate, "sigs/s",
                  detail=f"{1e6 / sign_rate:.0f} us each")


def profile_all(bench: Bench, single: int, batched: int) -> None:
    """Where the time of the signed append goes, next to the bare one."""
    profile(f"{single} signed single saves, key per command",
            bench.prepare_signed_single(single, keys_ahead=False))
    profile(f"{single} bare single saves", bench.prepare_bare_single(single))
    profile(f"{batched} signed events in saves of {BATCH}, keys made ahead",
            bench.prepare_signed_batches(batched, keys_ahead=True))
    profile(f"{batched} bare events in saves of {BATCH}", bench.prepare_bare_batches(batched))


def run(backend: str, report: Report, single: int, batched: int, rounds: int,
        verify_rounds: int, profile: bool) -> None:
    with fresh_store(backend) as store, bench_on(store) as (bench, principal):
        report.heading(f"append on {backend}: {bench.rt.events_database}")
        report.note(f"at start: {load_average()}")
        measure_appends(bench, principal, report, backend, single, batched, rounds)
        measure_verify(bench, report, backend, verify_rounds)
        report.note(f"at end: {load_average()}")
        if profile:
            measure_sign_costs(report)
            profile_all(bench, single, batched)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few events: a smoke run")
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgres"),
                        help="repeatable; default: both")
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile the signed single append")
    args = parser.parse_args(argv)
    single, batched, rounds, verify_rounds = (200, 1_000, 2, 1) if args.quick else (
        500, 1_500, 5, 2)
    print(f"Signed append benchmark: {single:,} single-event saves and {batched:,} events in "
          f"saves of {BATCH} per round, {rounds} rounds; Python {sys.version.split()[0]}, "
          f"{cpu_count()} cores")
    report = Report()
    for backend in args.backend or ("sqlite", "postgres"):
        run(backend, report, single, batched, rounds, verify_rounds, args.profile)
    report.summary("append")


if __name__ == "__main__":
    main()
