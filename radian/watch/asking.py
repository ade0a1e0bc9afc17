"""Asking DIAN about the titles due: one look (GetStatusEvent, then the new events' XML and GetDocumentInfo),
and the threads that ask about many, paced by one rate limit."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from typing import Protocol

from dian.errors import ParseError
from dian.radian.chain import read_status_events
from dian.soap import DianFault, DianResponse, DianTransportError
from dian.soap.results import DocumentInfo, DocumentXml
from radian.watch.due import Due
from radian.watch.plan import RateLimit

_PREFETCH = 50  # at most this many new events' XML fetched per look (a longer chain: the rest when settling)
THREADS_PER_CLIENT = 16  # dian.soap.transport.POOL_SIZE: the connections one client keeps to DIAN


class DianWatch(Protocol):
    """What the watch asks DIAN (dian.soap.DianClient has it)."""

    def get_status_event(self, cufe: str) -> DianResponse: ...
    def get_xml_by_document_key(self, track_id: str) -> DocumentXml: ...


@dataclass(frozen=True)
class Look:
    """What GetStatusEvent said about one title: DIAN's status code, the CUDEs it lists (read, not yet proven), the
    answer itself, or the error that kept it from answering."""

    due: Due
    status: str | None
    listed: frozenset[str] = frozenset()
    response: DianResponse | None = field(default=None, repr=False)
    error: str | None = None
    fetched: dict[str, DocumentXml] = field(default_factory=dict, repr=False)  # new CUDE (lower) -> its XML
    info: DocumentInfo | None = field(default=None, repr=False)  # GetDocumentInfo's unsigned view, a cross-check

    @property
    def new(self) -> frozenset[str]:
        """The CUDEs DIAN lists that are not registered on file."""
        return self.listed - self.due.known

    @property
    def changed(self) -> bool:
        """True when the title must be settled: something new is listed (or an unproven event waits)."""
        return self.error is None and (bool(self.new) or self.due.recheck) and self.response is not None


def look(client: DianWatch, due: Due, *, rate: RateLimit | None = None) -> Look:
    """Ask GetStatusEvent about one title and read which CUDEs it lists (unproven: only to decide whether to settle).
    With ``rate``, the XML of each new event is fetched too (GetXmlByDocumentKey, each call paced by ``rate``), so the
    settling that follows waits for no DIAN answer; nothing fetched here is believed before it is proven there."""
    try:
        response = client.get_status_event(due.cufe)
    except (DianTransportError, DianFault) as exc:
        return Look(due, None, error=exc.words[:500])
    code = (response.status_code or "").strip()
    if code == "67":  # no events yet (A.12)
        return Look(due, code, response=response)
    if code != "00":
        return Look(due, code, response=response, error=f"GetStatusEvent {code}: {response.status_description}"[:500])
    try:
        listed = frozenset(entry.cude.lower() for entry in read_status_events(response.xml or b""))
    except ParseError as exc:
        return Look(due, code, response=response, error=f"respuesta ilegible: {exc}"[:500])
    found = Look(due, code, listed, response)
    if rate is None or not found.new:
        return found
    fetched: dict[str, DocumentXml] = {}
    for cude in sorted(found.new)[:_PREFETCH]:
        rate.wait()
        try:
            fetched[cude] = client.get_xml_by_document_key(cude)
        except (DianTransportError, DianFault):
            break  # settling asks again, and counts the failure there
    return replace(found, fetched=fetched, info=_document_info(client, due.cufe, rate))


def _document_info(client: DianWatch, cufe: str, rate: RateLimit) -> DocumentInfo | None:
    """GetDocumentInfo where the client has it and DIAN answers; None otherwise (it is only a cross-check)."""
    ask = getattr(client, "get_document_info", None)
    if ask is None:
        return None
    rate.wait()
    try:
        info = ask(cufe)
    except (DianTransportError, DianFault):
        return None
    return info if isinstance(info, DocumentInfo) and info.found else None


def ask_each(
    dues: Sequence[Due],
    client_factory: Callable[[], DianWatch],
    *,
    rate: RateLimit,
    concurrency: int,
    ask: Callable[..., Look] = look,
) -> Iterator[Look]:
    """Ask about every title, ``concurrency`` threads paced together by ``rate``; each look is yielded as soon as it
    is done (not in input order), so the caller settles a changed title while the others are still being asked.
    A client serves up to ``THREADS_PER_CLIENT`` threads (its connection pool's size): building one loads the
    company's certificate, which costs more than many calls."""
    clients: dict[int, DianWatch] = {}
    lock = threading.Lock()
    local = threading.local()
    counter = itertools.count()
    slots = max(1, -(-concurrency // THREADS_PER_CLIENT))

    def one(due: Due) -> Look:
        client = getattr(local, "client", None)
        if client is None:
            slot = next(counter) % slots
            with lock:
                if slot not in clients:
                    clients[slot] = client_factory()
                client = local.client = clients[slot]
        rate.wait()
        return ask(client, due, rate=rate)

    try:
        if concurrency <= 1:
            for due in dues:
                yield one(due)
            return
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="title-watch") as pool:
            futures = [pool.submit(one, due) for due in dues]
            try:
                for future in as_completed(futures):
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()
    finally:
        for client in clients.values():
            close = getattr(client, "close", None)
            if close is not None:
                close()
