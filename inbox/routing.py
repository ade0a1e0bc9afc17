"""Which of the install's companies a mail is for: intake of a group of companies (buzon/group.py) routes a mail
addressed to another of our companies to that company's intake, whose database files it.

``addressed_to`` peeks at a mail's bytes — unpacked as intake unpacks them (inbox.unpack), each XML part read by the
hardened parser (dian.xmlsafe) — for the NITs it is addressed to: an AttachedDocument's ReceiverParty, a bare
invoice's or note's AccountingCustomerParty, an ApplicationResponse's ReceiverParty. The peek is unverified on
purpose: it only chooses which company's intake verifies the mail, and that intake still checks the buyer's NIT
strictly against its own company (a forged addressee lands in the other company's quarantine as not_for_us, never in
its files). Whatever cannot be peeked (no mail, no zip, bad XML, too large) is addressed to no one, and stays with the
mailbox's own company, which quarantines it as before.

``Router`` is one mailbox's choice: its own intake, and the other companies' by NIT. Only a group builds one; a
single company's poll never peeks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dian.cdata import parse_aside
from dian.errors import ParseError
from dian.nit import nit_digits
from dian.ubl.namespaces import CAC, CBC
from dian.ubl.parse import attached_payloads
from dian.xmlsafe import parse_xml
from inbox.intake import Envelope, Intake, Result
from inbox.unpack import Limits, is_mail, parse_mail, unpack
from store.models import MailStatus

log = logging.getLogger("buzon.routing")

_COMMERCIAL = frozenset({"Invoice", "CreditNote", "DebitNote"})
_RECEIVER = f"{{{CAC}}}ReceiverParty"
_CUSTOMER = f"{{{CAC}}}AccountingCustomerParty"
_COMPANY_ID = f"{{{CBC}}}CompanyID"


def addressed_to(
    data: bytes,
    name: str = "message.eml",
    *,
    limits: Limits | None = None,
    max_bytes: int | None = None,
    oversize: int | None = None,
) -> tuple[str, ...]:
    """The NITs (digits, no check digit) a mail, zip or XML is addressed to, in the order its documents name them;
    empty when it cannot be peeked (never raises). ``max_bytes`` and ``oversize`` as intake's: a message past them is
    addressed to no one (intake quarantines it as too large)."""
    if oversize is not None or (max_bytes is not None and len(data) > max_bytes):
        return ()
    try:
        message = parse_mail(data) if is_mail(data) else None
        parts = unpack(data, "correo.eml" if message is not None else name, limits, message=message)
    except Exception:  # an UnpackError, or anything a hostile mail makes the parsers raise: no one
        return ()
    found: list[str] = []
    for part in parts:
        if part.kind == "xml":
            for nit in _part_nits(part.data, part.name):
                if nit not in found:
                    found.append(nit)
    return tuple(found)


def _part_nits(data: bytes, name: str) -> list[str]:
    """Whom one XML part is addressed to; no one when it cannot be read."""
    try:
        return _document_nits(data)
    except ParseError:
        return []
    except Exception:  # anything else these bytes make the parser raise: this part names no one
        log.debug("peeking at %s failed", name, exc_info=True)
        return []


def _document_nits(data: bytes) -> list[str]:
    """Whom one XML document is addressed to (see the module's docstring); an AttachedDocument that names no
    receiver is read for its embedded document's buyer."""
    root, aside = parse_aside(data)  # a container's payloads are cut from its bytes, not read into its tree
    local = _local(root)
    if local == "AttachedDocument":
        try:
            document_xml: bytes | None = attached_payloads(root, data, aside)[0]
        except ParseError:
            document_xml = None
        aside.restore(root)
        nits = _party_nits(root, _RECEIVER)
        if nits or document_xml is None:
            return nits
        root = parse_xml(document_xml)
        return _party_nits(root, _CUSTOMER) if _local(root) in _COMMERCIAL else []
    aside.restore(root)
    if local in _COMMERCIAL:
        return _party_nits(root, _CUSTOMER)
    if local == "ApplicationResponse":
        return _party_nits(root, _RECEIVER)
    return []


def _local(root: Any) -> str:
    tag = root.tag if isinstance(root.tag, str) else ""
    return tag.rpartition("}")[2]


def _party_nits(root: Any, party: str) -> list[str]:
    """The CompanyIDs under the root's ``party`` children, as NIT digits."""
    nits: list[str] = []
    for element in root.iterfind(party):
        for company_id in element.iter(_COMPANY_ID):
            nit = nit_digits(company_id.text)
            if nit and nit not in nits:
                nits.append(nit)
    return nits


class Router:
    """One mailbox's intake (``own``, its company's) and the install's other companies' intakes by NIT: each mail
    goes to the intake of the company it is addressed to, or stays with ``own``."""

    def __init__(self, own: Intake, others: Mapping[str, Intake]) -> None:
        self.own = own
        self.own_nit = nit_digits(own.policy.our_nit)
        self.others = {nit_digits(key): intake for key, intake in others.items() if nit_digits(key) != self.own_nit}

    @property
    def intakes(self) -> tuple[Intake, ...]:
        """Every company's intake, the mailbox's own first."""
        return (self.own, *self.others.values())

    @property
    def targets(self) -> tuple[tuple[str | None, Intake], ...]:
        """Every company's intake with its NIT (None for the mailbox's own, first)."""
        return ((None, self.own), *self.others.items())

    def choose(self, envelope: Envelope) -> tuple[str | None, Intake]:
        """The company a message goes to (its NIT, None for the mailbox's own) and that company's intake: the own
        when the message is addressed to the own company, to none of ours, or cannot be peeked; else the first other
        company of ours it is addressed to."""
        policy = self.own.policy
        nits = addressed_to(envelope.data, envelope.name, limits=policy.limits, max_bytes=policy.max_message_bytes,
                            oversize=envelope.oversize)  # fmt: skip
        if self.own_nit in nits:
            return None, self.own
        for nit in nits:
            other = self.others.get(nit)
            if other is not None:
                log.info("%s is addressed to company %s: routed to its intake", envelope.name, nit)
                return nit, other
        return None, self.own

    def take_many(self, envelopes: Sequence[Envelope]) -> list[tuple[str | None, Intake, Result]]:
        """Take a batch, each message by the intake it is routed to (one ``take_many`` per company, each committing
        in its company's database); in the batch's order, each with its company (None: the own) and intake."""
        chosen = [self.choose(envelope) for envelope in envelopes]
        groups: dict[int, list[int]] = {}
        for index, (_, intake) in enumerate(chosen):
            groups.setdefault(id(intake), []).append(index)
        results: list[Result | None] = [None] * len(envelopes)
        for indexes in groups.values():
            intake = chosen[indexes[0]][1]
            taken = intake.take_many([envelopes[i] for i in indexes])
            for index, result in zip(indexes, taken, strict=True):
                results[index] = result
        assert None not in results
        return [(key, intake, result) for (key, intake), result in zip(chosen, results, strict=True)]  # type: ignore[misc]

    # What a source's scan asks of intake (inbox.sources.Source.scan), over every company's database: a message of
    # this mailbox routed to another company is recorded in that company's database only.

    def known_many(self, mailbox: str, uidvalidity: int, uids: list[int]) -> dict[int, tuple[int, MailStatus]]:
        """The id and status of each of these UIDs recorded in any company's database (a decided one before a pending
        one), one query per company's database."""
        found: dict[int, tuple[int, MailStatus]] = {}
        for intake in self.intakes:
            for uid, row in intake.known_many(mailbox, uidvalidity, uids).items():
                if uid not in found or found[uid][1] == MailStatus.PENDING:
                    found[uid] = row
        return found

    def known_uids(self, mailbox: str, uidvalidity: int) -> dict[int, MailStatus]:
        """Every UID recorded for this mailbox and UIDVALIDITY in any company's database, with its status."""
        known: dict[int, MailStatus] = {}
        for intake in self.intakes:
            for uid, status in intake.known_uids(mailbox, uidvalidity).items():
                if known.get(uid) in (None, MailStatus.PENDING):
                    known[uid] = status
        return known

    def checkpoint(self, mailbox: str, uidvalidity: int) -> int:
        """The highest UID recorded for this mailbox under this UIDVALIDITY in any company's database."""
        return max(intake.checkpoint(mailbox, uidvalidity) for intake in self.intakes)

    def hook(self, step: str) -> None:
        """The own intake's hook (a test's crash point)."""
        self.own.hook(step)
