"""Checking a package offline (``custody verify-sip``): every file against the SHA-256
and size its METS lists, no file unlisted, METS and PREMIS valid against the schemas
shipped in this repository (no network), every PREMIS event naming a signed event of
the bundle inside, and the bundle itself through ``custody verify --bundle``.
Imports: lxml, the standard library and ``infrastructure``.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from infrastructure.sip.mets import METS_NS, XLINK_NS
from infrastructure.sip.package import BUNDLE_PATH, packaged_events, schema_dir
from infrastructure.sip.premis import PREMIS_NS, SEQ_ID, PackagedEvent

M = f"{{{METS_NS}}}"
P = f"{{{PREMIS_NS}}}"
HREF = f"{{{XLINK_NS}}}href"


@dataclass
class SipReport:
    problems: list[str] = field(default_factory=list)
    files: int = 0
    events: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def _parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)


@cache
def mets_schema() -> etree.XMLSchema:
    """METS with XLink, xml.xsd and the DILCIS extensions, from the vendored files."""
    base = schema_dir()
    imports = [("http://www.w3.org/XML/1998/namespace", "xml.xsd"),
               ("http://www.w3.org/1999/xlink", "xlink.xsd"),
               ("http://www.loc.gov/METS/", "mets.xsd"),
               ("https://DILCIS.eu/XML/METS/CSIPExtensionMETS", "DILCISExtensionMETS.xsd"),
               ("https://DILCIS.eu/XML/METS/SIPExtensionMETS", "DILCISExtensionSIPMETS.xsd")]
    wrapper = ('<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" '
               'targetNamespace="urn:records-custody:sip-schemas">'
               + "".join(f'<xsd:import namespace="{ns}" schemaLocation="{(base / name).as_uri()}"/>'
                         for ns, name in imports)
               + "</xsd:schema>")
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), _parser(),
                                            base_url=(base / "wrapper.xsd").as_uri()))


@cache
def premis_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(schema_dir() / "premis-v3-0.xsd"), _parser()))


def schema_problems(document: Path, schema: etree.XMLSchema) -> list[str]:
    try:
        tree = etree.parse(str(document), _parser())
    except etree.XMLSyntaxError as error:
        return [f"{document.name}: not well-formed XML: {error}"]
    if schema.validate(tree):
        return []
    return [f"{document.name} line {e.line}: {e.message}" for e in schema.error_log][:20]


@contextlib.contextmanager
def opened(path: Path) -> Iterator[Path]:
    """The package root: the directory itself, or a zip's one top folder unpacked."""
    if path.is_dir():
        yield path
        return
    with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as tmp:
        for name in archive.namelist():
            parts = PurePosixPath(name).parts
            if name.startswith("/") or ".." in parts:
                raise ValueError(f"{path}: the zip entry {name!r} leaves the package")
        archive.extractall(tmp)
        entries = [p for p in Path(tmp).iterdir()]
        yield entries[0] if len(entries) == 1 and entries[0].is_dir() else Path(tmp)


def _check_files(root: Path, base: Path, mets: Any, report: SipReport,
                 listed: set[Path]) -> None:
    """The files a METS document at ``base`` lists; problems name paths from ``root``."""
    for element in mets.iter(M + "file", M + "mdRef"):
        locator = element if element.tag == M + "mdRef" else element.find(M + "FLocat")
        href = locator.get(HREF) if locator is not None else None
        if not href:
            report.problems.append(f"{element.get('ID')}: no location")
            continue
        target = (base / href).resolve()
        listed.add(target)
        try:
            href = target.relative_to(root.resolve()).as_posix()
        except ValueError:
            report.problems.append(f"{href}: points outside the package")
            continue
        report.files += 1
        if not target.is_file():
            report.problems.append(f"{href}: listed in METS but missing")
            continue
        data = target.read_bytes()
        if element.get("CHECKSUMTYPE") != "SHA-256":
            report.problems.append(f"{href}: no SHA-256 checksum in METS")
        elif hashlib.sha256(data).hexdigest() != element.get("CHECKSUM"):
            report.problems.append(f"{href}: SHA-256 differs from METS: the file was changed")
        if str(len(data)) != element.get("SIZE"):
            report.problems.append(f"{href}: size {len(data)} differs from METS "
                                   f"({element.get('SIZE')})")


def verify_sip(path: Path) -> SipReport:
    report = SipReport()
    with opened(path) as root:
        _verify_tree(root, report)
    return report


def _verify_tree(root: Path, report: SipReport) -> None:
    mets_path = root / "METS.xml"
    if not mets_path.is_file():
        report.problems.append("no METS.xml at the package root")
        return
    listed: set[Path] = {mets_path.resolve()}
    mets = _valid(mets_path, mets_schema(), report)
    if mets is None:
        return
    _check_files(root, root, mets, report, listed)
    for pointer in mets.iter(M + "mptr"):
        rep_mets = (root / (pointer.get(HREF) or "")).resolve()
        rep = _valid(rep_mets, mets_schema(), report) if rep_mets.is_file() else None
        if rep is not None:
            _check_files(root, rep_mets.parent, rep, report, listed)
    for file in sorted(p for p in root.rglob("*") if p.is_file()):
        if file.resolve() not in listed:
            report.problems.append(f"{file.relative_to(root)}: in the package but not in METS")
    premis_path = root / "metadata/preservation/premis.xml"
    if not premis_path.is_file():
        report.problems.append("no metadata/preservation/premis.xml")
        return
    premis = _valid(premis_path, premis_schema(), report)
    for representation_premis in sorted(root.glob("representations/*/metadata/preservation/"
                                                  "premis.xml")):
        _valid(representation_premis, premis_schema(), report)
    bundle = root / BUNDLE_PATH
    if premis is not None and bundle.is_file():
        try:
            events = packaged_events(read_packaged_bundle(bundle))
        except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
            report.problems.append(f"{BUNDLE_PATH}: not a readable export bundle ({error})")
            return
        _check_premis_against_bundle(premis, events, report)


def _valid(path: Path, schema: etree.XMLSchema, report: SipReport) -> Any:
    """The parsed document if it is well-formed and valid, else None (problems noted)."""
    problems = schema_problems(path, schema)
    report.problems += problems
    return None if problems else etree.parse(str(path), _parser())


def read_packaged_bundle(path: Path) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return bundle


def _check_premis_against_bundle(premis: Any, events: list[PackagedEvent],
                                 report: SipReport) -> None:
    """Each PREMIS event describes a signed event of the bundle: same seq, record, hash."""
    signed = {e.item.seq: f"seq={e.item.seq} record={e.record_id} version={e.version} "
                          f"sha256={e.item.event_hash}" for e in events}
    for event in premis.iter(P + "event"):
        kind = event.findtext(f"{P}eventIdentifier/{P}eventIdentifierType")
        if kind != SEQ_ID:
            continue
        report.events += 1
        value = event.findtext(f"{P}eventIdentifier/{P}eventIdentifierValue") or ""
        details = [d.text or "" for d in event.iter(P + "eventDetail")]
        claim = signed.get(int(value)) if value.isdigit() else None
        if claim is None or not any(d.startswith(f"signed event: {claim} ") for d in details):
            report.problems.append(f"PREMIS event seq={value} does not describe a signed "
                                   "event of the bundle")


def extract_bundle(package: Path, destination: Path) -> Path:
    """Copy the export bundle out of a package, for ``custody verify --bundle``."""
    with opened(package) as root:
        destination.write_bytes((root / BUNDLE_PATH).read_bytes())
    return destination

