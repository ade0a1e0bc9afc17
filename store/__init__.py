"""Persistence: SQLAlchemy models, sessions, the append-only audit log, the blob store and migrations."""

# Every process that maps the documents also enqueues a webhook on their state changes (a Session listener that
# store.webhooks registers on import). The package owns both the models and the listener, so it is the one that
# installs it: store.webhooks imports store.models, and store.models imports nothing back (no import circle).
# Likewise the inbox's search text follows a document's number, NIT and name when the ORM changes them.
from store import search as _search
from store import webhooks as _webhooks  # noqa: F401
from store.models import ReceivedDocument as _ReceivedDocument

_search.keep_folded(_ReceivedDocument)
