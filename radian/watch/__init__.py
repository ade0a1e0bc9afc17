"""The endorsement watch: whom must we pay for each supplier invoice we owe? (issue 17, payable side)

A supplier may endorse its accepted credit invoice to a factor (037) — from then on paying the supplier pays the wrong
party — or a judge may limit it (041) and freeze its payment. DIAN's RADIAN is the only place this is written, so one
sweep (job ``title_watch``, ``buzon title watch --once``) asks DIAN about every unpaid received credit invoice:

1. **Enrol** (set-based): each received credit invoice that is accepted (033/034, or its claim window lapsed) or
   already a title gets a ``value_titles`` row, role obligor, payee = the supplier, due to be watched now.
2. **Select** (one index range, ``ix_value_titles_watch``): the obligor titles whose ``next_watch_at`` is due, not
   paid, not more than ``past_due_days`` past their due date, soonest first, ``batch`` of them.
3. **Ask** GetStatusEvent for each, ``concurrency`` threads with one DIAN client each, together at most
   ``rate_per_second`` calls a second (``RateLimit``). The listed CUDEs are compared with the events on file: when
   nothing is new the title is only re-scheduled, many at once (one UPDATE per chunk). The listing is read before its
   signature is weighed *only* to skip: an unverified answer can make the watch do work, never change a payee.
4. **Settle** each title where DIAN lists something new, one transaction each: ``events.sync.sync_document`` (the
   sync job's own path) weighs DIAN's signed answer (``dian.proof``) and records every new event observed and
   registered, fetched with GetXmlByDocumentKey; then every RADIAN event on the invoice is **proven** on its own —
   its signature and signer (``dian.reception.verify_received``), its reference to this invoice — and the holder is
   replayed (``radian.title.ValueTitle.of``, A.11). The ``value_titles`` row takes the result; a new payee raises a
   ``holder_changed`` alert (in-app, mail to treasury and AP, webhook ``title.holder_changed``), an active 041 a
   ``limited`` one (payment frozen). An event that cannot be proven is left out of the replay and marks the title
   ``unproven``: the payment run refuses it until someone looks (radian/payables.py).
"""

from radian.watch.alerts import drafts, holder_disputed
from radian.watch.asking import THREADS_PER_CLIENT, DianWatch, Look, ask_each, look
from radian.watch.due import Due, due_titles, enrol
from radian.watch.plan import UNPROVEN, WATCHED, RateLimit, WatchPlan, WatchReport
from radian.watch.proof import Proven, prove_title
from radian.watch.settling import settle
from radian.watch.sweeping import sweep

__all__ = [
    "THREADS_PER_CLIENT",
    "UNPROVEN",
    "WATCHED",
    "DianWatch",
    "Due",
    "Look",
    "Proven",
    "RateLimit",
    "WatchPlan",
    "WatchReport",
    "ask_each",
    "drafts",
    "due_titles",
    "enrol",
    "holder_disputed",
    "look",
    "prove_title",
    "settle",
    "sweep",
]
