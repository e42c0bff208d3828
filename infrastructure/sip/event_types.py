"""Every custody event topic as a PREMIS 3 event: one table, read by the PREMIS writer.

The event types are terms of the Library of Congress vocabulary
``id.loc.gov/vocabulary/preservation/eventType``; the agent roles are terms of
``id.loc.gov/vocabulary/preservation/eventRelatedAgentRole``. ``details`` names the
event fields that may be copied into ``eventDetail``: only ids, codes and counts, never
free text (a note or a reason may name a person) and never the sealed personal data.
A topic without a row here stops the package from being written (and fails
``tests/unit/test_sip_event_types.py``), so a new event forces a decision about it.
Imports: the standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

EVENT_TYPE_SCHEME = "http://id.loc.gov/vocabulary/preservation/eventType"
AGENT_ROLE_SCHEME = "http://id.loc.gov/vocabulary/preservation/eventRelatedAgentRole"

# label -> code in the LoC event type vocabulary.
EVENT_TYPES: dict[str, str] = {
    "accession": "acc",
    "appraisal": "app",
    "capture": "cap",
    "deaccession": "dea",
    "deletion": "del",
    "dissemination": "dis",
    "information package creation": "ipc",
    "ingestion end": "ine",
    "metadata modification": "mem",
    "migration": "mig",
    "policy assignment": "poa",
    "printing": "prt",
    "transfer": "tra",
    "validation": "val",
}

IMPLEMENTER = "implementer"
AUTHORIZER = "authorizer"
VALIDATOR = "validator"
EXECUTING_PROGRAM = "executing program"


@dataclass(frozen=True, slots=True)
class PremisMapping:
    event_type: str
    actor_role: str = IMPLEMENTER
    details: tuple[str, ...] = ()
    why: str = ""

    @property
    def value_uri(self) -> str:
        return f"{EVENT_TYPE_SCHEME}/{EVENT_TYPES[self.event_type]}"


CULL_DETAILS = ("certificate_id", "decision", "point", "method", "commitment")

PREMIS_EVENTS: dict[str, PremisMapping] = {
    "custody:SchoolUnit.Registered": PremisMapping(
        "metadata modification", details=("code",),
        why="a school unit, a holder of copies, is described"),
    "custody:Actor.Registered": PremisMapping(
        "policy assignment", details=("role", "school_id"),
        why="a staff member is given a role: what they may do with the records"),
    "custody:Actor.AssignmentGranted": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("record_id",),
        why="a teacher or mentor is authorised for one student's record"),
    "custody:Actor.AssignmentEnded": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("record_id",),
        why="that authorisation ends"),
    "custody:Actor.TokenRevoked": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER,
        why="every access of a staff member ends"),
    "custody:Record.StudentDocumentationCaptured": PremisMapping(
        "capture", details=("school_id", "document_count", "fingerprint"),
        why="taken by hand from Unikum, with a fingerprint of what was taken"),
    "custody:Record.GeneralInformationCaptured": PremisMapping(
        "capture", details=("school_id", "category", "sha256"),
        why="general information taken from Unikum"),
    "custody:Record.CopyPrinted": PremisMapping(
        "printing", details=("copy_id", "purpose", "school_id", "replaces"),
        why="an archive or school copy printed on paper"),
    "custody:Record.CopyArchived": PremisMapping(
        "accession", details=("copy_id", "box", "shelf"),
        why="the archive copy taken into the municipal archive, in personnummer order"),
    "custody:Record.CopyVerified": PremisMapping(
        "validation", actor_role=VALIDATOR, details=("copy_id", "outcome"),
        why="the copy checked against the source"),
    "custody:Record.CopyDelivered": PremisMapping(
        "transfer", details=("copy_id", "school_id"),
        why="the school copy handed to its school unit"),
    "custody:Record.CopyLent": PremisMapping(
        "dissemination", details=("copy_id", "request_id"),
        why="a copy handed out on a granted request"),
    "custody:Record.CopyReturned": PremisMapping(
        "transfer", details=("copy_id", "request_id"),
        why="a lent copy back with its custodian"),
    "custody:Record.CopyTransferred": PremisMapping(
        "transfer", details=("copy_id", "from_school_id", "to_school_id"),
        why="the school copy handed over to the next school unit"),
    "custody:Record.CopyReceived": PremisMapping(
        "accession", details=("copy_id", "school_id"),
        why="the receiving school unit takes the copy into its custody"),
    "custody:Record.CopyCulled": PremisMapping(
        "deaccession", details=("copy_id", *CULL_DETAILS),
        why="a paper copy destroyed under a culling decision (its key shredded)"),
    "custody:Record.Culled": PremisMapping(
        "deletion", details=CULL_DETAILS,
        why="general information deleted under a culling decision (its key shredded)"),
    "custody:Record.EnteredIntoIst": PremisMapping(
        "migration",
        why="what the student needs is entered by hand into IST-lärande"),
    "custody:Record.StudentDeparted": PremisMapping(
        "metadata modification", details=("reason", "from_school_id", "to_school_id"),
        why="the student left the school unit: it decides the copy's next step"),
    "custody:Record.HoldPlaced": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("hold_id",),
        why="a hold: nothing of the record may be culled"),
    "custody:Record.HoldLifted": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("hold_id",),
        why="the hold ends"),
    "custody:DocumentRequest.Made": PremisMapping(
        "dissemination", details=("record_id", "copy_id"),
        why="a staff member orders a document (refused at once when not authorised)"),
    "custody:DocumentRequest.Decided": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("granted",),
        why="the designated custodian grants or refuses the request"),
    "custody:DocumentRequest.HandedOut": PremisMapping(
        "dissemination", why="the document handed out"),
    "custody:DocumentRequest.Returned": PremisMapping(
        "transfer", why="the document returned to its custodian"),
    "custody:ArchiveAgreement.Terminated": PremisMapping(
        "ingestion end", actor_role=AUTHORIZER, details=("students", "verified"),
        why="everything captured from Unikum is printed, archived and verified: the "
            "vendor's archive agreement ends"),
    "custody:SchoolYear.Closed": PremisMapping(
        "appraisal", details=("year",),
        why="the year-end closing decides which school copies move and which are culled"),
    # -- sign-in and tokens: who may act, like the other staff events ("policy
    # assignment"); the token's name and secret digest and the provider's subject are
    # never copied.
    "custody:Actor.TokenIssued": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("token_id", "expires_at"),
        why="a named bearer token gives a staff member access until it expires"),
    "custody:Actor.TokenWithdrawn": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("token_id",),
        why="that one token no longer gives access"),
    "custody:Actor.IdentityLinked": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("issuer",),
        why="the staff member signs in through the municipality's identity provider"),
    "custody:Actor.ProfileChanged": PremisMapping(
        "policy assignment", details=("role", "school_id"),
        why="the staff member's role or school unit changes: what they may do changes"),
    # -- culling: the register of decisions is the retention policy ("policy
    # assignment"); a list proposed, approved, rejected or an item withdrawn evaluates
    # what is to be kept ("appraisal", like the year-end closing); an item destroyed is
    # the object removed from storage ("deletion"; the copy's own CopyCulled is its
    # deaccession from the inventory).
    "custody:CullingDecision.Registered": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER, details=("decision", "date"),
        why="a culling decision and its points are registered: what may be culled, when"),
    "custody:CullingList.Proposed": PremisMapping(
        "appraisal", details=("decision", "point", "school_year"),
        why="items proposed for culling under one point of a registered decision"),
    "custody:CullingList.Approved": PremisMapping(
        "appraisal", actor_role=AUTHORIZER,
        why="the school unit's principal approves the list: its items may be destroyed"),
    "custody:CullingList.Rejected": PremisMapping(
        "appraisal", actor_role=AUTHORIZER,
        why="the list is rejected: every item on it is kept"),
    "custody:CullingList.ItemWithdrawn": PremisMapping(
        "appraisal", details=("key",),
        why="one item taken off the list: it is kept"),
    "custody:CullingList.ItemDestroyed": PremisMapping(
        "deletion", details=("key", "certificate_id", "method", "date"),
        why="the holder destroyed the paper under the approved list, with a certificate"),
    # -- delivery to the archive authority: handed over ("transfer", like a copy
    # delivered to a school), countersigned on receipt ("accession", like a copy
    # received).
    "custody:ArchiveDelivery.Delivered": PremisMapping(
        "transfer", details=("boxes", "copies"),
        why="archive boxes delivered to the archive authority"),
    "custody:ArchiveDelivery.Received": PremisMapping(
        "accession", details=("boxes",),
        why="the archive's custodian countersigns: the boxes are in the archive's custody"),
    # -- a copy handed to a school of another organiser: a transfer, and its receipt
    # completes it (the receiving organiser's accession is theirs, not ours). The
    # receiving school's and organiser's names and the receipt reference are not copied.
    "custody:Record.CopyHandedOverExternally": PremisMapping(
        "transfer", details=("copy_id", "from_school_id"),
        why="the school copy handed to a school of another organiser"),
    "custody:Record.ExternalHandoverReceipted": PremisMapping(
        "transfer", details=("copy_id",),
        why="the receiving organiser's receipt for the handed-over copy"),
    # -- personal data: protected identity restricts who may see the record ("policy
    # assignment"); the sealed reason is never copied. A new personnummer changes how
    # the record is found ("metadata modification"), the numbers themselves never
    # copied. Reads of personal data are logged ("dissemination"); the log's opening
    # records no read.
    "custody:Record.ProtectionSet": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER,
        why="protected identity: only named roles may see where the student is"),
    "custody:Record.ProtectionLifted": PremisMapping(
        "policy assignment", actor_role=AUTHORIZER,
        why="the protected identity ends"),
    "custody:Record.Renumbered": PremisMapping(
        "metadata modification",
        why="the tax agency gave the student a new personnummer; the old one is kept sealed"),
    "custody:StudentAlias.Created": PremisMapping(
        "metadata modification", details=("record_id",),
        why="the new personnummer finds the same record"),
    "custody:AccessLog.Opened": PremisMapping(
        "metadata modification",
        why="a log of who read personal data is begun (it records no read itself)"),
    "custody:AccessLog.Recorded": PremisMapping(
        "dissemination",
        why="staff read personal data of records: who, which record, when (in the log)"),
}


class UnmappedEventError(LookupError):
    """A stored event whose topic has no PREMIS mapping (add a row to PREMIS_EVENTS)."""


def mapping_for(topic: str) -> PremisMapping:
    try:
        return PREMIS_EVENTS[topic]
    except KeyError:
        raise UnmappedEventError(
            f"event topic {topic!r} has no PREMIS event type; add it to "
            "infrastructure/sip/event_types.py"
        ) from None
