"""Writing an E-ARK SIP of the custody documentation (``custody export --format sip``).

Layout (CSIP/SIP 2.x)::

    METS.xml                                  every file below, SHA-256 and size
    metadata/descriptive/dc.xml               records creator, series, decision, scope
    metadata/preservation/premis.xml          the custody events as PREMIS 3 events
    representations/rep1/METS.xml
    representations/rep1/data/custody-bundle.json.gz   the export bundle, unchanged
    documentation/certificates/…              culling certificates (and other providers)
    schemas/                                  METS, PREMIS, XLink, xml.xsd, DILCIS extensions

The representation is the whole export bundle whatever the selection, because only the
whole log verifies against its signed checkpoints (``custody verify --bundle``); a
selection narrows the PREMIS events, the documentation and the description.
Imports: lxml, the standard library, ``application`` and ``infrastructure``.
"""

from __future__ import annotations

import base64
import gzip
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from importlib.resources import files as resource_files
from pathlib import Path
from typing import Any
from uuid import uuid4

from lxml import etree

from domain.culling import DECISION_ID
from infrastructure.bundle import bundle_dict
from infrastructure.keys import PublicKeys
from infrastructure.offline import decode, transcoder
from infrastructure.runtime_parts import StoreParts
from infrastructure.signed_events import Envelope
from infrastructure.sip.documents import PROVIDERS, DocumentProvider, PackageScope
from infrastructure.sip.event_types import mapping_for
from infrastructure.sip.mets import FileEntry, PackageFiles, representation_mets, root_mets
from infrastructure.sip.premis import (
    RECORDS_CREATOR,
    PackagedEvent,
    PackagedFile,
    premis_document,
)
from infrastructure.sip.selection import Everything, Selection, topic_of
from infrastructure.verification import RawKeys

REP_DIR = "representations/rep1/"
BUNDLE_PATH = f"{REP_DIR}data/custody-bundle.json.gz"
REP_PREMIS_PATH = f"{REP_DIR}metadata/preservation/premis.xml"
SCHEMA_FILES = ("mets.xsd", "xlink.xsd", "xml.xsd", "premis-v3-0.xsd",
                "DILCISExtensionMETS.xsd", "DILCISExtensionSIPMETS.xsd")
SERIES = "Elevdokumentation och allmän information ur Unikum: kedjan av förvar"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"


@dataclass(frozen=True, slots=True)
class SipSummary:
    path: Path
    package_id: str
    events: int
    documents: int


def schema_dir() -> Path:
    return Path(str(resource_files("infrastructure.sip") / "schemas"))


def software_version() -> str:
    try:
        return metadata.version("records-custody")
    except metadata.PackageNotFoundError:
        return "unknown"


def packaged_events(bundle: dict[str, Any]) -> list[PackagedEvent]:
    """Every event of an export bundle, decoded without secrets (personal data sealed)."""
    keys = RawKeys(PublicKeys.from_dicts(bundle["public_keys"]).raw())
    codec = transcoder()
    events = []
    for seq, rid, version, topic, state in bundle["events"]:
        raw = base64.b64decode(state)
        item = decode((int(seq), str(rid), int(version), str(topic), raw), keys, codec,
                      verified=True)
        events.append(PackagedEvent(item, str(rid), int(version), Envelope.parse(raw).kid))
    return events


def write_sip(rt: StoreParts, target: Path, selection: Selection | None = None,
              providers: tuple[DocumentProvider, ...] = PROVIDERS) -> SipSummary:
    """Write the package to ``target``: a ``.zip`` file, or else a new directory."""
    chooser: Selection = selection or Everything()
    created = datetime.now(UTC).replace(microsecond=0)
    package_id = f"urn:uuid:{uuid4()}"
    bundle = bundle_dict(rt)
    everything = packaged_events(bundle)
    for packaged in everything:
        mapping_for(topic_of(packaged.item))  # refuse to package an unmapped event type
    chosen_seqs = {item.seq for item in chooser.choose([e.item for e in everything])}
    chosen = [e for e in everything if e.item.seq in chosen_seqs]
    scope = PackageScope(chooser.label, [e.item for e in chosen],
                         whole_store=isinstance(chooser, Everything))
    if target.suffix == ".zip":
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / package_id.removeprefix("urn:uuid:")
            summary = _write_tree(rt, root, package_id, created, bundle, everything, chosen,
                                  scope, providers)
            _zip(root, target)
            return SipSummary(target, package_id, summary.events, summary.documents)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} exists and is not empty")
    return _write_tree(rt, target, package_id, created, bundle, everything, chosen, scope,
                       providers)


def _write_tree(rt: StoreParts, root: Path, package_id: str, created: datetime,
                bundle: dict[str, Any], everything: list[PackagedEvent],
                chosen: list[PackagedEvent], scope: PackageScope,
                providers: tuple[DocumentProvider, ...]) -> SipSummary:
    version = software_version()
    root.mkdir(parents=True, exist_ok=True)

    def put(relative: str, data: bytes) -> Path:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    bundle_file = put(BUNDLE_PATH, gzip.compress(
        json.dumps(bundle, separators=(",", ":")).encode(), compresslevel=6, mtime=0))
    bundle_entry = FileEntry.of(bundle_file, BUNDLE_PATH, "application/gzip", created)

    documentation = []
    for provider in providers:
        for document in provider(rt, scope):
            relative = f"documentation/{document.path}"
            documentation.append(FileEntry.of(put(relative, document.content), relative,
                                              document.mime_type, created))
    schemas = []
    for name in SCHEMA_FILES:
        relative = f"schemas/{name}"
        path = put(relative, (schema_dir() / name).read_bytes())
        schemas.append(FileEntry.of(path, relative, "application/xml", created))

    roles = {str(e.item.event.originator_id): str(vars(e.item.event).get("role"))
             for e in everything if topic_of(e.item) == "custody:Actor.Registered"}
    bundle_object = PackagedFile(BUNDLE_PATH, bundle_entry.sha256, bundle_entry.size,
                                 f"{bundle['format']} (JSON, gzip)")
    premis = premis_document(chosen, actor_roles=roles, package_id=package_id,
                             created=created, software_version=version, files=[bundle_object])
    # The representation's own PREMIS: the bundle file, its fixity and its packing.
    rep_premis_path = put(REP_PREMIS_PATH, premis_document(
        [], actor_roles={}, package_id=package_id, created=created, software_version=version,
        files=[bundle_object], schemas="../../../../schemas"))
    rep_premis = FileEntry.of(rep_premis_path, REP_PREMIS_PATH.removeprefix(REP_DIR),
                              "application/xml", created)
    preservation = FileEntry.of(put("metadata/preservation/premis.xml", premis),
                                "metadata/preservation/premis.xml", "application/xml", created)
    descriptive = FileEntry.of(
        put("metadata/descriptive/dc.xml", dublin_core(package_id, scope, created, chosen)),
        "metadata/descriptive/dc.xml", "application/xml", created)
    rep_mets_path = put("representations/rep1/METS.xml", representation_mets(
        package_id, created, version,
        [FileEntry(BUNDLE_PATH.removeprefix(REP_DIR), bundle_entry.mime_type,
                   bundle_entry.size, bundle_entry.sha256, bundle_entry.created)], rep_premis))
    rep_mets = FileEntry.of(rep_mets_path, "representations/rep1/METS.xml", "application/xml",
                            created)
    put("METS.xml", root_mets(
        package_id, f"Records custody: {scope.label}", created, version,
        PackageFiles(descriptive, preservation, documentation, schemas, rep_mets),
        records_creator=RECORDS_CREATOR))
    return SipSummary(root, package_id, len(chosen), len(documentation))


def dublin_core(package_id: str, scope: PackageScope, created: datetime,
                chosen: list[PackagedEvent]) -> bytes:
    """A simple Dublin Core record: who created the records, which series, which decision."""
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS})

    def dc(name: str, text: str) -> None:
        etree.SubElement(root, f"{{{DC_NS}}}{name}").text = text

    dc("identifier", package_id)
    dc("title", f"Kedjan av förvar för skolans handlingar ur Unikum: {scope.label}")
    dc("creator", RECORDS_CREATOR)
    dc("publisher", RECORDS_CREATOR)
    dc("subject", SERIES)
    dc("description",
       f"Gallringsbeslut {DECISION_ID} (Barn- och utbildningsnämnden 2017-12-14, § 88, "
       "Dnr BU 2017/503): elevdokumentation bevaras på papper i personnummerordning; "
       "allmän information gallras vid bytet; skolornas kopior lämnas över eller gallras "
       "vid läsårsskiftet. Paketet innehåller de signerade händelserna, de publika "
       "nycklarna, de signerade kontrollpunkterna, gallringsbevis och PREMIS-händelser.")
    dc("relation", DECISION_ID)
    if chosen:
        first = chosen[0].item.event.timestamp.date().isoformat()
        last = chosen[-1].item.event.timestamp.date().isoformat()
        dc("coverage", f"{first}/{last}")
    dc("date", created.date().isoformat())
    dc("type", "Collection")
    dc("language", "swe")
    dc("rights", "Offentlighets- och sekretesslagen (2009:400): personuppgifterna är "
       "krypterade per elev och kan inte läsas ur paketet.")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))


def _zip(root: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            # the bundle is gzip already: deflating it again costs time and saves nothing
            archive.write(path, f"{root.name}/{path.relative_to(root).as_posix()}",
                          zipfile.ZIP_STORED if path.suffix == ".gz" else None)

