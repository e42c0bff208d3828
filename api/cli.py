"""The ``custody`` command line: set-up, import, verification, export, serving."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from application.policy import Principal
from domain.errors import DomainError

if TYPE_CHECKING:
    from infrastructure.bootstrap import Runtime

app = typer.Typer(
    help="records-custody: the chain of custody of school records through the Unikum "
    "shutdown (BU 2017/503 § 88). Configure with CUSTODY_* environment variables "
    "(see README).",
    no_args_is_help=True,
    add_completion=False,
)
schools = typer.Typer(help="School units (skolenheter).", no_args_is_help=True)
actors = typer.Typer(help="Staff members and their bearer tokens.", no_args_is_help=True)
keys = typer.Typer(help="Signing keys.", no_args_is_help=True)
proof = typer.Typer(help="Transparency-log proofs (RFC 9162).", no_args_is_help=True)
projections = typer.Typer(help="The read models.", no_args_is_help=True)
app.add_typer(proof, name="proof")
app.add_typer(projections, name="projections")
app.add_typer(schools, name="schools")
app.add_typer(actors, name="actors")
app.add_typer(keys, name="keys")

err = Console(stderr=True)
out = Console()


def runtime() -> Runtime:
    """The store in ``CUSTODY_DATA_DIR``; exit 2 naming where it looked when there is none
    (never a new store made by accident: that is ``custody init``)."""
    from infrastructure.bootstrap import bootstrap, missing_store_parts
    from infrastructure.settings import Settings

    settings = Settings()
    missing = missing_store_parts(settings)
    if missing:
        fail(f"no store in {settings.data_dir.resolve()} (missing: "
             f"{', '.join(str(p) for p in missing)}); set CUSTODY_DATA_DIR to the store's "
             "folder, or run `custody init` to create a new one")
    return bootstrap(settings)


def version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"custody {version('records-custody')}")
        except PackageNotFoundError:
            print("custody (not installed)")
        raise typer.Exit


@app.callback()
def options(
    show_version: Annotated[bool, typer.Option(
        "--version", callback=version_callback, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """records-custody: the chain of custody of school records through the Unikum shutdown
    (BU 2017/503 § 88). Configure with CUSTODY_* environment variables (see README)."""


@app.command()
def init() -> None:
    """Create a new store (keys, databases) in CUSTODY_DATA_DIR; a store there is kept."""
    from infrastructure.bootstrap import bootstrap, missing_store_parts
    from infrastructure.settings import Settings

    settings = Settings()
    existed = not missing_store_parts(settings)
    rt = bootstrap(settings)
    try:
        where = rt.events_database
        key = rt.keyring.active_key_id
    finally:
        rt.close()
    if existed:
        out.print(f"a store exists already in {settings.data_dir.resolve()}; nothing changed",
                  highlight=False)
        return
    out.print(f"store created: events in {where}, keys in {settings.data_dir.resolve()} "
              f"(signing key {key}). Keep master.key and signing-key.pem safe and backed up.",
              highlight=False)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(code)


def progress_bar() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(),
        console=err,
        disable=not err.is_terminal and not os.environ.get("CUSTODY_PROGRESS"),
    )


@app.command()
def serve(
    host: Annotated[str, typer.Option(envvar="HOST", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="TCP port.")] = 8000,
) -> None:
    """Start the HTTP service (API, web pages, background checkpointing)."""
    import uvicorn

    uvicorn.run("api.app:create_app", factory=True, host=host, port=port,
                log_level="info", access_log=False)


@schools.command("add")
def schools_add(
    school_id: Annotated[str, typer.Argument(metavar="ID", help="Short id, e.g. holmes.")],
    name: Annotated[str, typer.Argument(metavar="NAME", help="e.g. Holmesskolan.")],
) -> None:
    """Register a school unit."""
    rt = runtime()
    try:
        rt.custody.register_school(Principal.system(), school_id, name)
        rt.seal()
    except DomainError as error:
        fail(str(error))
    finally:
        rt.close()
    out.print(f"school unit {school_id} registered: {name}", highlight=False)


@actors.command("add")
def actors_add(
    name: Annotated[str, typer.Argument(metavar="NAME")],
    role: Annotated[str, typer.Option(help="admin, archivist, custodian, principal, teacher, "
                                      "mentor or auditor.")],
    school: Annotated[str | None, typer.Option("--school", help="The staff member's school "
                                               "unit (a custodian without one is the "
                                               "archive's).")] = None,
) -> None:
    """Register a staff member; the bearer token is the last line of output (shown once)."""
    rt = runtime()
    try:
        actor_id, token = rt.custody.register_actor(Principal.system(), name, role, school)
        rt.seal()
    except DomainError as error:
        fail(str(error))
    finally:
        rt.close()
    out.print(f"staff member {actor_id} registered as {role}; bearer token (shown only now):",
              highlight=False)
    print(token)


@schools.command("list")
def schools_list() -> None:
    """List the registered school units (id, then name)."""
    rt = runtime()
    try:
        for school in rt.queries.schools():
            print(f"{school['id']}\t{school['name']}")
    finally:
        rt.close()


@actors.command("list")
def actors_list() -> None:
    """List the staff: id, role, school unit, name, and whether revoked."""
    rt = runtime()
    try:
        for actor in rt.queries.actors():
            state = "revoked" if actor["revoked"] else "active"
            print(f"{actor['id']}\t{actor['role']}\t{actor['school_id'] or '-'}\t{state}\t"
                  f"{actor['name']}")
    finally:
        rt.close()


@actors.command("revoke")
def actors_revoke(
    actor_id: Annotated[str, typer.Argument(metavar="ID", help="The staff member's id.")],
    reason: Annotated[str, typer.Option(help="Why (kept in the signed event).")] = "revoked "
    "at the command line",
) -> None:
    """Revoke every token and web session of a staff member, at once, in every instance."""
    from uuid import UUID

    try:
        parsed = UUID(actor_id)
    except ValueError:
        fail(f"{actor_id!r} is not a staff member's id (a UUID; see `custody actors list`)")
    rt = runtime()
    try:
        done = rt.credentials.revoke(Principal.system(), parsed, reason)
        rt.seal()
    except DomainError as error:
        fail(str(error))
    finally:
        rt.close()
    out.print(f"staff member {parsed} revoked" if done else
              f"staff member {parsed} was revoked already", highlight=False)


@keys.command("rotate")
def keys_rotate() -> None:
    """Start a new signing key; old public keys are kept so old signatures verify.

    Before the new key is used, the log signs a checkpoint of everything stored with
    both keys, naming the new key as the old one's successor: an auditor who trusts
    only the old key (``custody verify --bundle … --vkey OLD``) learns the new one
    from it."""
    rt = runtime()
    try:
        old = rt.keyring.active_key_id
        kid = rt.keyring.rotate(hand_over=rt.log.hand_over)
        size = rt.log.size()
    finally:
        rt.close()
    out.print(f"new signing key {kid} is active; the checkpoint of size {size}, signed by "
              f"{old} and {kid}, names it as {old}'s successor")


@keys.command("list")
def keys_list() -> None:
    """List every public key (the active one first)."""
    rt = runtime()
    try:
        for info in rt.keyring.all():
            mark = "active " if info.active else "retired"
            print(f"{info.key_id} {mark} {info.vkey}")
    finally:
        rt.close()


@app.command()
def verify(
    bundle: Annotated[Path | None, typer.Option("--bundle", help="Verify an export bundle "
                                                "instead of the live store.")] = None,
    trusted_checkpoint: Annotated[list[Path] | None, typer.Option(
        "--trusted-checkpoint", help="An earlier checkpoint the bundle must be consistent "
        "with (repeatable).")] = None,
    workers: Annotated[int | None, typer.Option(help="Threads for signature checks "
                                                "(default: all cores).")] = None,
    keys_file: Annotated[Path | None, typer.Option("--keys", help="With --bundle: the public "
                                                   "keys you trust (JSON of GET /api/v1/keys)."
                                                   )] = None,
    vkey: Annotated[list[str] | None, typer.Option("--vkey", help="With --bundle: a trusted "
                                                   "C2SP verifier key (repeatable).")] = None,
) -> None:
    """Check every signature, every record's chain and the transparency log.

    Exit 0 when intact; 1 with one line per fault naming seq, record and version.
    """
    if bundle is not None:
        import json

        from infrastructure.bundle import verify_bundle

        trusted = list(vkey or [])
        if keys_file:
            trusted += [k["vkey"] for k in json.loads(keys_file.read_text())["keys"]]
        report = verify_bundle(bundle, trusted_checkpoints=trusted_checkpoint or [],
                               trusted_keys=trusted, workers=workers)
    else:
        from infrastructure.audit import verify_live

        rt = runtime()
        try:
            with progress_bar() as bar:
                task = bar.add_task("verifying", total=None, rate="")

                def advance(n: int) -> None:
                    bar.update(task, advance=n)

                report = verify_live(rt, workers=workers, progress=advance)
        finally:
            rt.close()
    for note in report.notes:
        err.print(note, highlight=False)
    for fault in report.faults:
        print(fault.line())
    if report.faults:
        err.print(f"[red]{len(report.faults)} fault(s)[/red] in {report.events} events",
                  highlight=False)
        raise typer.Exit(1)
    out.print(f"intact: {report.events} events in {report.records} records verified",
              highlight=False)


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(metavar="FILE.csv", help="The Unikum inventory: "
                                         "kind,personnummer,name,school_id,class,title,"
                                         "category,sha256,pages")],
    batch_size: Annotated[int, typer.Option(help="Records per save.")] = 200,
) -> None:
    """Capture the Unikum inventory. Re-running captures nothing twice; killed, a re-run
    finishes the job. Exit 0 ok, 1 if rows were rejected (each named with its line)."""
    import time

    from application.importing import command_line_archivist, import_inventory

    if not file.exists():
        fail(f"{file} does not exist")
    rt = runtime()
    started = time.monotonic()
    try:
        with progress_bar() as bar:
            task = bar.add_task("capturing", total=None, rate="")

            def progress(done: int, total: int) -> None:
                elapsed = max(time.monotonic() - started, 1e-6)
                bar.update(task, completed=done, total=total,
                           rate=f"{done / elapsed:,.0f} rows/s")

            report = import_inventory(rt.custody, command_line_archivist(), file,
                                      progress=progress, batch_size=batch_size)
        rt.seal()
    except DomainError as error:
        fail(str(error))
    finally:
        rt.close()
    for problem in report.rejected:
        print(str(problem))
    out.print(report.summary(), highlight=False)
    if report.rejected:
        raise typer.Exit(1)


@app.command()
def demo(
    keep: Annotated[Path | None, typer.Option("--keep", help="Keep the demo store in this "
                                              "directory instead of a temporary one.")] = None,
) -> None:
    """Run the whole seed story end to end on a fresh store and print the reports."""
    import tempfile

    from api.demo import run_demo
    from infrastructure.audit import verify_live
    from infrastructure.bootstrap import bootstrap
    from infrastructure.culling_protocol import issue_and_check
    from infrastructure.settings import Settings

    with tempfile.TemporaryDirectory(prefix="custody-demo-") as tmp:
        data_dir = keep or Path(tmp)
        rt = bootstrap(Settings(data_dir=data_dir, database_url=None))
        try:
            def verify() -> list[str]:
                rt.seal()
                return [fault.line() for fault in verify_live(rt).faults]

            code = run_demo(rt, print, verify,
                            protocol=lambda list_id: issue_and_check(rt, list_id))
        finally:
            rt.close()
    raise typer.Exit(code)


@app.command()
def export(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Where to write the bundle "
                                         "(gzip when it ends in .gz), or with --format sip "
                                         "the package: a .zip file or a new directory.")],
    format_: Annotated[str, typer.Option("--format", help="bundle (default) or sip: an "
                                         "E-ARK SIP with PREMIS events for the e-archive."
                                         )] = "bundle",
    school_year: Annotated[int | None, typer.Option(
        "--school-year", help="With --format sip: only the closing of this school year "
        "(e.g. 2018 for 2017/18), its culling list and the records they touched.")] = None,
    culling_list: Annotated[str | None, typer.Option(
        "--culling-list", metavar="LIST_ID", help="With --format sip: only this culling "
        "list and everything it touches.")] = None,
) -> None:
    """Write an export bundle that `custody verify --bundle` checks on any machine."""
    if format_ not in ("bundle", "sip"):
        fail(f"--format is bundle or sip, not {format_!r}")
    if (school_year is not None or culling_list is not None) and format_ != "sip":
        fail("--school-year and --culling-list select what an E-ARK SIP holds: give "
             "--format sip too")
    if school_year is not None and culling_list is not None:
        fail("give --school-year or --culling-list, not both")
    if format_ == "sip":
        _export_sip(file, school_year, culling_list)
        return
    from infrastructure.bundle import write_bundle

    rt = runtime()
    try:
        size = write_bundle(rt, file)
        events = rt.custody.recorder.max_notification_id() or 0
    finally:
        rt.close()
    out.print(f"wrote {file} ({size:,} bytes, {events} events)", highlight=False)


def _export_sip(target: Path, school_year: int | None, culling_list: str | None) -> None:
    from uuid import UUID

    from infrastructure.sip.package import write_sip
    from infrastructure.sip.selection import Selection
    from infrastructure.sip.selection import culling_list as culling_list_selection
    from infrastructure.sip.selection import school_year as school_year_selection

    selection: Selection | None = None
    if school_year is not None:
        selection = school_year_selection(school_year)
    elif culling_list is not None:
        try:
            selection = culling_list_selection(str(UUID(culling_list)))
        except ValueError:
            fail(f"--culling-list takes a culling list's id, not {culling_list!r}")
    rt = runtime()
    try:
        summary = write_sip(rt, target, selection)
    except FileExistsError as error:
        fail(str(error))
    finally:
        rt.close()
    out.print(f"wrote the E-ARK SIP {summary.package_id} to {target} ({summary.events} "
              f"events, {summary.documents} documents)", highlight=False)


@app.command("verify-sip")
def verify_sip_cmd(
    path: Annotated[Path, typer.Argument(metavar="PATH", help="The package: .zip or directory.")],
    keys_file: Annotated[Path | None, typer.Option("--keys", help="The public keys you trust "
                                                   "(JSON of GET /api/v1/keys).")] = None,
    vkey: Annotated[list[str] | None, typer.Option("--vkey", help="A trusted C2SP verifier "
                                                   "key (repeatable).")] = None,
) -> None:
    """Check an E-ARK SIP offline: every file's SHA-256 in METS, METS and PREMIS against
    the shipped schemas, PREMIS against the signed events, and the bundle inside as
    `custody verify --bundle` does. Exit 0 if it holds; 1 with one line per problem."""
    import json
    import tempfile

    from infrastructure.bundle import verify_bundle
    from infrastructure.sip.verify import extract_bundle, verify_sip

    if not path.exists():
        fail(f"{path} does not exist")
    trusted = list(vkey or [])
    if keys_file:
        trusted += [k["vkey"] for k in json.loads(keys_file.read_text())["keys"]]
    try:
        report = verify_sip(path)
    except (ValueError, OSError) as error:
        fail(f"{path} is not a readable package: {error}", 1)
    problems = list(report.problems)
    if not problems:
        with tempfile.TemporaryDirectory() as tmp:
            bundle = extract_bundle(path, Path(tmp) / "bundle.json.gz")
            checked = verify_bundle(bundle, trusted_keys=trusted)
        for note in checked.notes:
            err.print(note, highlight=False)
        problems += [f"bundle: {fault.line()}" for fault in checked.faults]
    for problem in problems:
        print(problem)
    if problems:
        raise typer.Exit(1)
    out.print(f"package holds: {report.files} files match METS, {report.events} PREMIS "
              f"events match the bundle's signed events, the bundle is intact",
              highlight=False)


@proof.command("inclusion")
def proof_inclusion(
    seq: Annotated[int, typer.Argument(help="The event's seq.")],
    tree_size: Annotated[int | None, typer.Option(help="Tree size (default: newest).")] = None,
    text: Annotated[bool, typer.Option("--text", help="A self-contained tlog-proof with the "
                                       "signed checkpoint instead of JSON.")] = False,
) -> None:
    """Inclusion proof of one event in the log."""
    import json

    from infrastructure.transparency.log import LogError

    rt = runtime()
    try:
        rt.seal()
        print(rt.log.proof_text(seq) if text else json.dumps(rt.log.inclusion(seq, tree_size),
                                                             indent=2))
    except LogError as error:
        fail(str(error), 1)
    finally:
        rt.close()


@proof.command("consistency")
def proof_consistency(first: int, second: int) -> None:
    """Consistency proof between two tree sizes."""
    import json

    from infrastructure.transparency.log import LogError

    rt = runtime()
    try:
        rt.seal()
        print(json.dumps(rt.log.consistency(first, second), indent=2))
    except LogError as error:
        fail(str(error), 1)
    finally:
        rt.close()


@app.command()
def certificate(
    certificate_id: Annotated[str, typer.Argument(metavar="CERTIFICATE_ID")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Print (or write) the signed culling certificate (gallringsbevis)."""
    from uuid import UUID

    from infrastructure.certificates import certificate_text

    rt = runtime()
    try:
        text = certificate_text(rt, UUID(certificate_id))
    except (DomainError, ValueError) as error:
        fail(str(error))
    finally:
        rt.close()
    if out_file:
        out_file.write_text(text)
        out.print(f"wrote {out_file}")
    else:
        print(text, end="")


@app.command()
def protocol(
    list_id: Annotated[str, typer.Argument(metavar="CULLING_LIST_ID")],
    out_file: Annotated[Path | None, typer.Option("--out", help="Write to this file.")] = None,
) -> None:
    """Print (or write) the signed culling protocol (gallringsprotokoll) of an executed
    culling list; check it offline with ``custody verify-certificate``."""
    import json
    from uuid import UUID

    from infrastructure.culling_protocol import build_protocol

    rt = runtime()
    try:
        text = json.dumps(build_protocol(rt, UUID(list_id)), indent=2,
                          ensure_ascii=False) + "\n"
    except (DomainError, ValueError) as error:
        fail(str(error))
    finally:
        rt.close()
    if out_file:
        out_file.write_text(text)
        out.print(f"wrote {out_file}")
    else:
        print(text, end="")


@app.command("verify-certificate")
def verify_certificate_cmd(
    file: Annotated[Path, typer.Argument(metavar="FILE")],
    keys_file: Annotated[Path | None, typer.Option("--keys", help="Trusted public keys: the "
                                                   "JSON of GET /api/v1/keys.")] = None,
    vkey: Annotated[list[str] | None, typer.Option("--vkey", help="A trusted C2SP verifier "
                                                   "key (repeatable).")] = None,
) -> None:
    """Check a culling certificate or culling protocol offline with only the public keys.
    Exit 0 if it holds."""
    import json

    from infrastructure.certificates import verify_certificate

    trusted = list(vkey or [])
    if keys_file:
        trusted += [k["vkey"] for k in json.loads(keys_file.read_text())["keys"]]
    if not trusted:
        fail("give the keys you trust: --keys FILE (GET /api/v1/keys) or --vkey VKEY")
    problems = verify_certificate(file.read_text(), trusted)
    for problem in problems:
        print(problem)
    if problems:
        raise typer.Exit(1)
    if '"protocol"' in file.read_text()[:40]:
        out.print("protocol holds: signed, every list event and certificate verified")
    else:
        out.print("certificate holds: signed, lawful basis recorded, cull event in the log")


@projections.command("rebuild")
def projections_rebuild() -> None:
    """Drop every view and replay it from the signed events."""
    rt = runtime()
    try:
        total = rt.custody.recorder.max_notification_id() or 0
        with progress_bar() as bar:
            task = bar.add_task("rebuilding views", total=total, rate="")
            position = rt.runner.rebuild(progress=lambda n: bar.update(task, advance=n))
    finally:
        rt.close()
    out.print(f"views rebuilt up to seq {position}")


@app.command()
def rollover(
    year: Annotated[int, typer.Argument(help="The school year whose spring term ended, "
                                        "e.g. 2018 for 2017/18.")],
) -> None:
    """Close a school year: start the transfers and propose one culling list of the school
    copies of students who finished compulsory school. Nothing is culled."""
    import json

    from application.migration import Migration

    rt = runtime()
    try:
        from application.importing import command_line_archivist

        result = Migration(rt.custody, rt.queries).close_school_year(command_line_archivist(),
                                                                     year)
        rt.seal()
    except DomainError as error:
        fail(str(error))
    finally:
        rt.close()
    print(json.dumps(result, indent=2, ensure_ascii=False))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
