"""Transparency-log benchmark: does checkpointing keep up with appends, and how fast does
an auditor verify an export bundle offline?

For each backend, in one run:
(a) the signed append rate of a bulk capture (the fastest way events arrive),
(b) the sealing rate (leaves appended + a signed checkpoint) over the same events, and
(c) while one thread appends as fast as it can for a few seconds with the service's
    background sealer running (checkpoint interval 1 s), how far the signed checkpoint
    trails the newest event — sampled every 50 ms — and how long after the last append
    the final checkpoint covers everything;
(d) export the bundle and verify it offline (signatures, chains, checkpoints, replay).
"""

from __future__ import annotations

import argparse
import threading
import time

from common import BACKENDS, Report, Target, custody_runtime, fresh_store, load_average, timed

from api.demo import inventory_csv, synthetic_students
from application.importing import command_line_archivist, import_inventory
from application.policy import Principal
from infrastructure.bundle import verify_bundle, write_bundle
from infrastructure.transparency.checkpoint import open_note


def run(backend: str, students: int, report: Report) -> None:
    with fresh_store(backend) as store, custody_runtime(store) as rt:
        Report.heading(f"log on {backend}")
        Report.note(f"at start: {load_average()}")
        for code in ("holmes", "kvistberg", "fryken"):
            rt.custody.register_school(Principal.system(), code, code)
        text = inventory_csv(synthetic_students(students), documents=1)
        result, seconds = timed(lambda: import_inventory(rt.custody, command_line_archivist(),
                                                         text, batch_size=200))
        appended = result.captured
        append_rate = appended / seconds
        report.figure("(a) signed append, bulk capture", append_rate, "events/s",
                      scope=backend)
        _, seal_seconds = timed(rt.log.seal_and_checkpoint)
        seal_rate = (appended + 3) / seal_seconds
        report.figure("(b) sealing + checkpoint", seal_rate, "events/s",
                      target=Target(append_rate, unit="events/s (the append rate)"),
                      scope=backend)

        # (c) live: appends at full speed while the background sealer runs.
        rt.log.interval = 1.0
        rt.log.start()
        stop = threading.Event()
        trailing: list[int] = []
        vkeys = [k.vkey for k in rt.keyring.all()]

        def sample() -> None:
            while not stop.is_set():
                note = rt.log.latest_checkpoint()
                size = open_note(note, vkeys).size if note else 0
                trailing.append((rt.custody.recorder.max_notification_id() or 0) - size)
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        more = inventory_csv(synthetic_students(students, offset=students), documents=1)
        started = time.monotonic()
        import_inventory(rt.custody, command_line_archivist(), more, batch_size=200)
        append_done = time.monotonic()
        last = rt.custody.recorder.max_notification_id() or 0
        while True:
            note = rt.log.latest_checkpoint()
            if note and open_note(note, vkeys).size >= last:
                break
            time.sleep(0.01)
        covered = time.monotonic()
        stop.set()
        sampler.join()
        rt.log.stop()
        Report.note(f"(c) {students:,} more events appended in {append_done - started:.1f} s "
                    "with the background sealer running")
        report.figure("(c) checkpoint trails newest event, max", max(trailing), "events")
        half = trailing[len(trailing) // 2:]
        report.figure("(c) ... in the second half of the run, max", max(half or [0]), "events")
        report.figure("(c) last append -> covered by a checkpoint", covered - append_done, "s",
                      fmt=".2f", target=Target(2.0, at_least=False, unit="s (2 intervals)"),
                      scope=backend)

        # (d) the auditor's offline verification of an export bundle.
        bundle = store.workdir / "bundle.json.gz"
        _, export_seconds = timed(lambda: write_bundle(rt, bundle))
        events = rt.custody.recorder.max_notification_id() or 0
        verified, verify_seconds = timed(lambda: verify_bundle(bundle))
        report.figure("(d) export bundle", events / export_seconds, "events/s")
        report.figure("(d) offline bundle verification", events / verify_seconds, "events/s",
                      detail=f"{events:,} events, {bundle.stat().st_size / events:,.0f} bytes "
                      f"per event gzipped, faults: {len(verified.faults)}")
        Report.note(f"at end: {load_average()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small run (2,000 events)")
    parser.add_argument("--backend", action="append", choices=BACKENDS)
    args = parser.parse_args()
    students = 2_000 if args.quick else 20_000
    report = Report()
    print(f"Transparency-log benchmark: {students:,} captures per phase")
    for backend in args.backend or list(BACKENDS):
        run(backend, students, report)
    report.summary("log")


if __name__ == "__main__":
    main()
