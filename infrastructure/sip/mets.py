"""METS documents of an E-ARK SIP (CSIP/SIP 2.x): the package's root METS.xml and the
representation's METS.xml, each file listed with its SHA-256, size and MIME type.
Imports: lxml and the standard library.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from lxml import etree

METS_NS = "http://www.loc.gov/METS/"
XLINK_NS = "http://www.w3.org/1999/xlink"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
SIP_NS = "https://DILCIS.eu/XML/METS/SIPExtensionMETS"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"mets": METS_NS, "xlink": XLINK_NS, "csip": CSIP_NS, "sip": SIP_NS, "xsi": XSI_NS}
M = f"{{{METS_NS}}}"
XL = f"{{{XLINK_NS}}}"
CS = f"{{{CSIP_NS}}}"
SIP_PROFILE = "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
CONTENT_TYPE = "Chain of custody documentation (records-custody)"
CONTENT_INFORMATION = "records-custody-bundle/v1"


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file of the package, by its path relative to the METS document that lists it."""

    href: str
    mime_type: str
    size: int
    sha256: str
    created: str

    @classmethod
    def of(cls, path: Path, href: str, mime_type: str, created: datetime) -> FileEntry:
        data = path.read_bytes()
        return cls(href, mime_type, len(data), hashlib.sha256(data).hexdigest(),
                   created.isoformat(timespec="seconds"))

    def attributes(self, ident: str) -> dict[str, str]:
        return {"ID": ident, "MIMETYPE": self.mime_type, "SIZE": str(self.size),
                "CREATED": self.created, "CHECKSUM": self.sha256, "CHECKSUMTYPE": "SHA-256"}


def _sub(parent: etree._Element, tag: str, attributes: dict[str, str] | None = None,
         text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, M + tag, attributes or {})
    if text is not None:
        element.text = text
    return element


def _locator(entry: FileEntry) -> dict[str, str]:
    return {"LOCTYPE": "URL", XL + "type": "simple", XL + "href": entry.href}


def _root(objid: str, label: str, created: datetime, software_version: str, *,
          representation: bool) -> etree._Element:
    root = etree.Element(M + "mets", nsmap=NSMAP)
    root.set("OBJID", objid)
    root.set("LABEL", label)
    root.set("TYPE", "Other")
    root.set(CS + "OTHERTYPE", CONTENT_TYPE)
    root.set(CS + "CONTENTINFORMATIONTYPE", "OTHER")
    root.set(CS + "OTHERCONTENTINFORMATIONTYPE", CONTENT_INFORMATION)
    root.set("PROFILE", SIP_PROFILE)
    root.set(f"{{{XSI_NS}}}schemaLocation",
             f"{METS_NS} {'../../' if representation else ''}schemas/mets.xsd "
             f"{XLINK_NS} {'../../' if representation else ''}schemas/xlink.xsd")
    stamp = created.isoformat(timespec="seconds")
    header = _sub(root, "metsHdr", {"CREATEDATE": stamp, "LASTMODDATE": stamp,
                                    "RECORDSTATUS": "NEW", CS + "OAISPACKAGETYPE": "SIP"})
    software = _sub(header, "agent", {"ROLE": "CREATOR", "TYPE": "OTHER",
                                      "OTHERTYPE": "SOFTWARE"})
    _sub(software, "name", text="records-custody")
    _sub(software, "note", {CS + "NOTETYPE": "SOFTWARE VERSION"}, software_version)
    return root


@dataclass(frozen=True, slots=True)
class PackageFiles:
    descriptive: FileEntry
    preservation: FileEntry
    documentation: Sequence[FileEntry]
    schemas: Sequence[FileEntry]
    representation_mets: FileEntry


def root_mets(objid: str, label: str, created: datetime, software_version: str,
              files: PackageFiles, *, records_creator: str) -> bytes:
    root = _root(objid, label, created, software_version, representation=False)
    header = root.find(M + "metsHdr")
    assert header is not None
    creator = _sub(header, "agent", {"ROLE": "ARCHIVIST", "TYPE": "ORGANIZATION"})
    _sub(creator, "name", text=records_creator)
    stamp = created.isoformat(timespec="seconds")
    dmd = _sub(root, "dmdSec", {"ID": "dmd-dc", "CREATED": stamp, "STATUS": "CURRENT"})
    _sub(dmd, "mdRef", {**_locator(files.descriptive), "MDTYPE": "DC",
                        **_checksummed(files.descriptive)})
    amd = _sub(root, "amdSec", {"ID": "amd-1"})
    digiprov = _sub(amd, "digiprovMD", {"ID": "digiprov-premis", "CREATED": stamp,
                                        "STATUS": "CURRENT"})
    _sub(digiprov, "mdRef", {**_locator(files.preservation), "MDTYPE": "PREMIS",
                             **_checksummed(files.preservation)})
    file_sec = _sub(root, "fileSec", {"ID": "filesec-1"})
    groups: list[tuple[str, str, Sequence[FileEntry]]] = [
        ("Documentation", "grp-documentation", files.documentation),
        ("Schemas", "grp-schemas", files.schemas),
    ]
    for use, ident, entries in groups:
        # eark-validator 1.1.3 (its rule CSIP63) wants the content information type
        # on every file group, not only on the representations'.
        group = _sub(file_sec, "fileGrp", {"USE": use, "ID": ident, **_content_information()})
        for n, entry in enumerate(entries, 1):
            file = _sub(group, "file", entry.attributes(f"{ident}-{n}"))
            _sub(file, "FLocat", _locator(entry))
    rep = _sub(file_sec, "fileGrp", {"USE": "Representations/rep1", "ID": "grp-rep1",
                                     **_content_information()})
    rep_file = _sub(rep, "file", files.representation_mets.attributes("grp-rep1-mets"))
    _sub(rep_file, "FLocat", _locator(files.representation_mets))

    struct = _sub(root, "structMap", {"TYPE": "PHYSICAL", "LABEL": "CSIP", "ID": "struct-1"})
    top = _sub(struct, "div", {"ID": "div-root", "LABEL": objid})
    _sub(top, "div", {"ID": "div-metadata", "LABEL": "Metadata", "DMDID": "dmd-dc",
                      "ADMID": "digiprov-premis"})
    for label, ident, _ in groups:
        div = _sub(top, "div", {"ID": f"div-{label.lower()}", "LABEL": label})
        _sub(div, "fptr", {"FILEID": ident})
    reps = _sub(top, "div", {"ID": "div-representations", "LABEL": "Representations"})
    _sub(reps, "fptr", {"FILEID": "grp-rep1"})
    rep_div = _sub(reps, "div", {"ID": "div-rep1", "LABEL": "Representations/rep1"})
    _sub(rep_div, "mptr", {"LOCTYPE": "URL", XL + "type": "simple",
                           XL + "href": files.representation_mets.href,
                           XL + "title": "grp-rep1"})
    return _serialise(root)


def representation_mets(objid: str, created: datetime, software_version: str,
                        data: Sequence[FileEntry], preservation: FileEntry) -> bytes:
    root = _root(f"{objid}/rep1", "The signed events, keys and checkpoints (export bundle)",
                 created, software_version, representation=True)
    amd = _sub(root, "amdSec", {"ID": "rep1-amd"})
    digiprov = _sub(amd, "digiprovMD", {"ID": "rep1-digiprov-premis",
                                        "CREATED": created.isoformat(timespec="seconds"),
                                        "STATUS": "CURRENT"})
    _sub(digiprov, "mdRef", {**_locator(preservation), "MDTYPE": "PREMIS",
                             **_checksummed(preservation)})
    file_sec = _sub(root, "fileSec", {"ID": "rep1-filesec"})
    group = _sub(file_sec, "fileGrp", {"USE": "Data", "ID": "rep1-data",
                                       **_content_information()})
    for n, entry in enumerate(data, 1):
        file = _sub(group, "file", entry.attributes(f"rep1-data-{n}"))
        _sub(file, "FLocat", _locator(entry))
    struct = _sub(root, "structMap", {"TYPE": "PHYSICAL", "LABEL": "CSIP", "ID": "rep1-struct"})
    top = _sub(struct, "div", {"ID": "rep1-div", "LABEL": f"{objid}/rep1"})
    _sub(top, "div", {"ID": "rep1-div-metadata", "LABEL": "Metadata",
                      "ADMID": "rep1-digiprov-premis"})
    div = _sub(top, "div", {"ID": "rep1-div-data", "LABEL": "Data"})
    _sub(div, "fptr", {"FILEID": "rep1-data"})
    return _serialise(root)


def _content_information() -> dict[str, str]:
    return {CS + "CONTENTINFORMATIONTYPE": "OTHER",
            CS + "OTHERCONTENTINFORMATIONTYPE": CONTENT_INFORMATION}


def _checksummed(entry: FileEntry) -> dict[str, str]:
    attributes = entry.attributes("")
    del attributes["ID"]
    return attributes


def _serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))
