"""Outbound issuing: our own invoices and notes, numbering ranges, AttachedDocument, PDF with QR, and mail to the
buyer. Code arrives with the issuing issue.
"""
