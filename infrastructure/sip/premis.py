"""The PREMIS 3 file of a package: the custody events, who did them, what they concern.

Every selected event becomes a PREMIS event (type from :mod:`.event_types`), naming the
signed event it describes (seq, record id, version, event hash, signing key), its agents
with their roles (the staff member by actor id and role only, the software that signed
it, the committee whose decision a cull names) and the record or copy it concerns by
id. No name, personnummer or free text goes in: the file carries no personal data.
Imports: lxml, the standard library, ``application.ports`` and this package.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from lxml import etree

from application.ports import FeedItem
from infrastructure.sip.event_types import (
    AGENT_ROLE_SCHEME,
    AUTHORIZER,
    EVENT_TYPE_SCHEME,
    EVENT_TYPES,
    EXECUTING_PROGRAM,
    IMPLEMENTER,
    mapping_for,
)
from infrastructure.sip.selection import field_of, topic_of

PREMIS_NS = "http://www.loc.gov/premis/v3"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
P = f"{{{PREMIS_NS}}}"

SOFTWARE = "records-custody"
RECORDS_CREATOR = "Barn- och utbildningsnämnden"
SEQ_ID = "records-custody event seq"
RECORD_ID = "records-custody record id"
COPY_ID = "records-custody copy id"
CERTIFICATE_ID = "records-custody culling certificate id"
ACTOR_ID = "records-custody actor id"
PACKAGE_ID = "E-ARK SIP OBJID"
LOCAL_PATH = "local path in package"
CULL_TOPICS = ("custody:Record.CopyCulled", "custody:Record.Culled")


@dataclass(frozen=True, slots=True)
class PackagedEvent:
    """A decoded event with what identifies its signed form."""

    item: FeedItem
    record_id: str
    version: int
    key_id: str


@dataclass(frozen=True, slots=True)
class PackagedFile:
    path: str
    sha256: str
    size: int
    format_name: str


def _sub(parent: etree._Element, tag: str, text: str | None = None,
         **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, P + tag, attributes)
    if text is not None:
        element.text = text
    return element


def _identifier(parent: etree._Element, prefix: str, kind: str, value: str) -> etree._Element:
    holder = _sub(parent, f"{prefix}Identifier")
    _sub(holder, f"{prefix}IdentifierType", kind)
    _sub(holder, f"{prefix}IdentifierValue", value)
    return holder


def _outcome(topic: str, event: Any) -> str:
    facts = vars(event)
    if topic == "custody:Record.CopyVerified":
        return "success" if facts.get("outcome") == "ok" else "discrepancy found"
    if topic == "custody:DocumentRequest.Made":
        return "refused: not authorised for the student" if facts.get("refusal") else "pending"
    if topic == "custody:DocumentRequest.Decided":
        return "granted" if facts.get("granted") else "refused"
    return "success"


def _detail_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _objects_of(packaged: PackagedEvent, requests: Mapping[str, str]) -> list[tuple[str, str]]:
    """(identifier type, value) of the records and copies an event concerns."""
    item = packaged.item
    topic = topic_of(item)
    objects: list[tuple[str, str]] = []
    if topic.startswith("custody:Record."):
        objects.append((RECORD_ID, str(UUID(packaged.record_id))))
    elif topic.startswith("custody:DocumentRequest.") and packaged.record_id in requests:
        objects.append((RECORD_ID, str(UUID(requests[packaged.record_id]))))
    elif topic.startswith("custody:Actor.Assignment"):
        objects.append((RECORD_ID, str(UUID(str(field_of(item, "record_id"))))))
    elif topic == "custody:SchoolYear.Closed":
        objects += [(COPY_ID, str(c)) for c in field_of(item, "transferred")]
        objects += [(CERTIFICATE_ID, str(c)) for c in field_of(item, "culled")]
        objects += [(RECORD_ID, str(UUID(str(r)))) for r in field_of(item, "for_archivist")]
    copy_id = field_of(item, "copy_id")
    if copy_id is not None:
        objects.append((COPY_ID, str(copy_id)))
    if topic in CULL_TOPICS:
        objects.append((CERTIFICATE_ID, str(field_of(item, "certificate_id"))))
    return objects


def premis_document(events: Sequence[PackagedEvent], *, actor_roles: Mapping[str, str],
                    package_id: str, created: datetime, software_version: str,
                    files: Sequence[PackagedFile], schemas: str = "../../schemas") -> bytes:
    root = etree.Element(P + "premis", nsmap={"premis": PREMIS_NS, "xsi": XSI_NS})
    root.set("version", "3.0")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{PREMIS_NS} {schemas}/premis-v3-0.xsd")
    requests = {e.record_id: str(field_of(e.item, "record_id")) for e in events
                if topic_of(e.item) == "custody:DocumentRequest.Made"}
    concerned: dict[tuple[str, str], None] = {}
    for packaged in events:
        for obj in _objects_of(packaged, requests):
            concerned.setdefault(obj, None)
    for kind, value in concerned:
        obj = _sub(root, "object")
        obj.set(f"{{{XSI_NS}}}type", "premis:intellectualEntity")
        _identifier(obj, "object", kind, value)
    for file in files:
        obj = _sub(root, "object")
        obj.set(f"{{{XSI_NS}}}type", "premis:file")
        _identifier(obj, "object", LOCAL_PATH, file.path)
        characteristics = _sub(obj, "objectCharacteristics")
        _sub(characteristics, "compositionLevel", "0")
        fixity = _sub(characteristics, "fixity")
        _sub(fixity, "messageDigestAlgorithm", "SHA-256")
        _sub(fixity, "messageDigest", file.sha256)
        _sub(characteristics, "size", str(file.size))
        designation = _sub(_sub(characteristics, "format"), "formatDesignation")
        _sub(designation, "formatName", file.format_name)

    agents: dict[tuple[str, str], tuple[str | None, str, str | None]] = {
        ("software", SOFTWARE): (SOFTWARE, "software", software_version),
    }
    for packaged in events:
        _event(root, packaged, requests, agents, actor_roles)
    _package_created(root, package_id, created, files)
    if any(topic_of(e.item) in CULL_TOPICS for e in events):
        agents[("organization", RECORDS_CREATOR)] = (RECORDS_CREATOR, "organization", None)
    for (kind, value), (name, agent_type, note) in agents.items():
        agent = _sub(root, "agent")
        _identifier(agent, "agent", kind, value)
        if name is not None:
            _sub(agent, "agentName", name)
        _sub(agent, "agentType", agent_type,
             authority="agentType",
             authorityURI="http://id.loc.gov/vocabulary/preservation/agentType")
        if kind == "software" and note:
            _sub(agent, "agentVersion", note)
        elif note:
            _sub(agent, "agentNote", note)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                pretty_print=True))


def _event_type(parent: etree._Element, label: str) -> None:
    _sub(parent, "eventType", label, authority="eventType", authorityURI=EVENT_TYPE_SCHEME,
         valueURI=f"{EVENT_TYPE_SCHEME}/{EVENT_TYPES[label]}")


def _agent_link(parent: etree._Element, kind: str, value: str, role: str) -> None:
    link = _identifier(parent, "linkingAgent", kind, value)
    _sub(link, "linkingAgentRole", role, authority="eventRelatedAgentRole",
         authorityURI=AGENT_ROLE_SCHEME)


def _event(root: etree._Element, packaged: PackagedEvent, requests: Mapping[str, str],
           agents: dict[tuple[str, str], tuple[str | None, str, str | None]],
           actor_roles: Mapping[str, str]) -> None:
    item = packaged.item
    topic = topic_of(item)
    mapping = mapping_for(topic)
    event = _sub(root, "event")
    _identifier(event, "event", SEQ_ID, str(item.seq))
    _event_type(event, mapping.event_type)
    _sub(event, "eventDateTime", item.event.timestamp.isoformat())
    facts = [f"{name}={_detail_value(field_of(item, name))}" for name in mapping.details
             if field_of(item, name) is not None]
    _sub(_sub(event, "eventDetailInformation"), "eventDetail",
         "; ".join([topic, *facts]))
    _sub(_sub(event, "eventDetailInformation"), "eventDetail",
         f"signed event: seq={item.seq} record={packaged.record_id} "
         f"version={packaged.version} sha256={item.event_hash} key={packaged.key_id}")
    outcome = _sub(event, "eventOutcomeInformation")
    _sub(outcome, "eventOutcome", _outcome(topic, item.event))
    actor = str(item.event.actor)
    agent_type = "software" if actor.startswith("system:") else "person"
    role = actor_roles.get(actor)
    agents.setdefault((ACTOR_ID, actor), (None, agent_type, f"role: {role}" if role else None))
    _agent_link(event, ACTOR_ID, actor, mapping.actor_role)
    if mapping.actor_role != IMPLEMENTER:
        _agent_link(event, ACTOR_ID, actor, IMPLEMENTER)
    _agent_link(event, "software", SOFTWARE, EXECUTING_PROGRAM)
    if topic in CULL_TOPICS:
        _agent_link(event, "organization", RECORDS_CREATOR, AUTHORIZER)
    for kind, value in _objects_of(packaged, requests):
        link = _identifier(event, "linkingObject", kind, value)
        _sub(link, "linkingObjectRole", "source")


def _package_created(root: etree._Element, package_id: str, created: datetime,
                     files: Sequence[PackagedFile]) -> None:
    event = _sub(root, "event")
    _identifier(event, "event", PACKAGE_ID, package_id)
    _event_type(event, "information package creation")
    _sub(event, "eventDateTime", created.isoformat())
    _sub(_sub(event, "eventDetailInformation"), "eventDetail",
         "E-ARK SIP written by records-custody; SHA-256 of every file in METS.xml")
    _sub(_sub(event, "eventOutcomeInformation"), "eventOutcome", "success")
    _agent_link(event, "software", SOFTWARE, EXECUTING_PROGRAM)
    for file in files:
        link = _identifier(event, "linkingObject", LOCAL_PATH, file.path)
        _sub(link, "linkingObjectRole", "outcome")
