"""Outbound issuing: our own invoices and notes.

A request (request.py: the native payload of payload.py read by validation.py, plus the numbering the ERP may choose)
goes through the façade (service.py): its number is taken from a range read from DIAN (ranges.py) in the transaction
that stores the signed document (document.py, with totals.py), and the outbox (outbox.py) sends it with SendBillSync,
keeps DIAN's proven answer and builds the AttachedDocument (attached.py); an outage is retried, Regla 90 reconciled.
Also: the apidian adapter (apidian.py + apidian_codes.toml) and the PDF (pdf.py). Still to come: the mail to the
buyer, contingency sweeps and the habilitación test set.
"""

# The invoice.* webhooks ride on the flush that changes an issued document (issuing/webhooks.py registers a Session
# listener on import); installing it here means any process that issues or sends has it.
from issuing import webhooks as _webhooks  # noqa: F401
