"""Intake: store a message's raw bytes, find the documents inside, verify them, then file or quarantine — once.

The steps of one message, in order (each is a place where a crash must lose nothing and duplicate nothing):

``fetched``      the bytes are in memory, nothing stored yet
``stored``       the raw bytes are a blob (content-addressed: storing them again is harmless)
``recorded``     the MailMessage row is committed with status ``pending``
``verified``     the documents are verified; nothing of the outcome is written yet
``parts_stored`` the signed XML, DIAN's answer, the container and the PDF are blobs
``committed``    the outcome (documents, events, status, audit entries) is committed in one transaction
``settled``      the source moved or flagged the message (only ever after ``committed``)

Who takes each step (``service.Intake`` runs them in this order and commits between them):

1. ``receiving``  fetched, stored, recorded: the batch's raw bytes become blobs, its mail rows are committed.
2. ``planning``   verified: each pending message, locked, is verified from its bytes alone (no database); its
                  events are considered by ``events``. The result is the message's ``plan``.
3. ``known``      the batch reads what the files hold under its CUFEs and CUDEs, in one round trip; ``planning``
                  resolves each plan against it (duplicates, DIAN answers that came first, who may send an event).
4. ``applying``   each plan becomes its message's outcome (filed, duplicate, quarantined with its ``reasons``), its
                  rows added to the batch's ``writes`` (documents, events via ``events``, answers kept, audit).
5. ``writes``     parts_stored: the documents are inserted together and the blobs their rows name stored in one go;
                  ``service`` then settles the mail rows and commits: committed.
6. the source     settled: ``inbox.poll`` has the source move or flag the message (not this package).

The other modules: ``terms`` (``Envelope``, ``IntakePolicy``, ``Result``, ``STEPS``), ``plan`` (``Mail``, ``Plan``,
``Item``: what was decided before anything is written), ``keys`` (DIAN's keys of a run, added to as online
confirmation teaches certificates), ``reasons`` (what a clerk reads for each quarantine reason, ``error_interno``),
``tx`` (where the statements go: a connection, or a session standing for one).

Sources hand intake a batch of messages at a time (``take_many``; ``take`` is a batch of one): the batch's raw bytes
are stored in one blob transaction and its mail rows committed together, then its outcomes are committed together,
so the database's round trips and commits are paid per batch, not per message. Each step above is then reached by
every message of the batch before the next step begins; a crash anywhere still loses and doubles nothing, because
every step is idempotent and a recorded message that is still pending is processed again by the next run.

A message is identified by (mailbox, UIDVALIDITY, UID) when the source has UIDs, else by (mailbox, SHA-256 of its
bytes). A message seen again with the same Message-ID and the same bytes is a duplicate; a document is unique by its
CUFE/CUDE, so the same invoice mailed twice is filed once. Nothing here reads files, the environment or the clock:
the session factory, the blob store, the clock and the policy are handed in.
"""

from inbox.intake.reasons import REASON_TEXT, quarantine_reason
from inbox.intake.service import Intake
from inbox.intake.terms import ACTOR, STEPS, Envelope, IntakePolicy, Result

# Still reachable here as before the split: a test replaces it, beside inbox.unpack.parse_mail, to count the parses.
from inbox.unpack import parse_mail as parse_mail

__all__ = [
    "ACTOR",
    "REASON_TEXT",
    "STEPS",
    "Envelope",
    "Intake",
    "IntakePolicy",
    "Result",
    "quarantine_reason",
]
