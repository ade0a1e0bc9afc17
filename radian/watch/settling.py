"""Settling one title DIAN lists something new on: record it (the sync's path), prove its events, derive the row
again, raise its alerts and schedule its next look."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dian.radian.model import Share
from dian.soap import DianResponse
from dian.soap.results import DocumentXml
from events.context import EventContext
from events.sync import SyncReport, sync_document
from radian.alerts import raise_alert
from radian.store import refresh_title
from radian.watch.alerts import drafts, holder_disputed
from radian.watch.asking import DianWatch, Look
from radian.watch.plan import UNPROVEN, WatchPlan, WatchReport
from radian.watch.proof import fetch_missing, prove_title
from store.models import AlertKind, ReceivedDocument, ValueTitle


class _Answered:
    """The client as sync_document sees it: GetStatusEvent answers what the look already got and GetXmlByDocumentKey
    what the look fetched (no second call); anything else goes to ``client``."""

    def __init__(self, client: DianWatch, cufe: str, response: DianResponse,
                 fetched: dict[str, DocumentXml] | None = None) -> None:  # fmt: skip
        self._client, self._cufe, self._response = client, cufe, response
        self._fetched = dict(fetched or {})

    def get_status_event(self, cufe: str) -> DianResponse:
        return self._response if cufe == self._cufe else self._client.get_status_event(cufe)

    def get_xml_by_document_key(self, track_id: str) -> DocumentXml:
        found = self._fetched.pop((track_id or "").lower(), None)
        return found if found is not None else self._client.get_xml_by_document_key(track_id)


def settle(
    s: Session,
    ctx: EventContext,
    client: DianWatch,
    look_: Look,
    now: datetime,
    plan: WatchPlan,
    report: WatchReport,
    *,
    actor: str = "job:title_watch",
) -> None:
    """Record what DIAN lists that is new on one title (the sync's path), prove its RADIAN events, derive the row
    again (``radian.store.refresh_title``) and raise the alerts its change calls for; the caller commits.
    ForgedAnswer, DianTransportError and DianFault propagate (the caller rolls back)."""
    due = look_.due
    row = s.get(ValueTitle, due.title_id)
    document = s.get(ReceivedDocument, due.document_id)
    if row is None or document is None or look_.response is None:
        return
    before = {"payee_nit": row.payee_nit, "payee_name": row.payee_name, "holder_nit": row.holder_nit,
              "limited": row.limited, "state": row.state}  # fmt: skip
    synced = SyncReport()
    answered = _Answered(client, document.cufe, look_.response, look_.fetched)
    sync_document(s, ctx, answered, document, now, synced, actor=actor)
    report.observed += len(synced.observed)
    s.flush()
    fetch_missing(s, ctx, answered, document)
    proven = prove_title(s, ctx, document)
    refresh_title(s, ctx.blobs, row, now)
    schedule(row, now, plan, look_.status, error=None)
    if proven.unproven:
        row.watch_status = UNPROVEN
        report.unproven += len(proven.unproven)
    title = proven.title(Share(document.issuer_nit, document.issuer_name, document.issuer_dv))
    found = drafts(before, row, title, proven)
    disputed = holder_disputed(look_.info, row)
    if disputed is not None:
        found.append(disputed)
        report.disputed += 1
    for draft in found:
        alert = raise_alert(s, ctx, row, draft, now, from_address=plan.from_address,
                            extra_recipients=plan.alert_emails, actor=actor)  # fmt: skip
        if alert is not None and draft.kind in (AlertKind.HOLDER_CHANGED, AlertKind.TRANSFERRED):
            report.holder_changed += 1
        elif alert is not None and draft.kind is AlertKind.LIMITED:
            report.limited += 1
    report.settled += 1


def schedule(row: ValueTitle, now: datetime, plan: WatchPlan, status: str | None, *, error: str | None) -> None:
    row.last_watched_at = now
    row.watch_status = status
    if error is None:
        row.watch_failures, row.watch_error = 0, None
        row.next_watch_at = now + plan.interval
    else:
        row.watch_failures += 1
        row.watch_error = error[:2000]
        row.next_watch_at = now + min(plan.interval, plan.retry * 2 ** min(row.watch_failures - 1, 16))
