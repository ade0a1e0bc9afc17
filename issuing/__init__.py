"""Outbound issuing: our own invoices and notes.

Now: the native payload and its validator (payload.py, validation.py), the totals (totals.py), the apidian adapter
(apidian.py + apidian_codes.toml) and the signed document with its CUFE/CUDE, QR text and zip (document.py). Still to
come: numbering ranges from DIAN, persistence and the outbox, sending, the AttachedDocument, the PDF and the mail.
"""
