"""The documento soporte (05) and its adjustment note (95), radian-issuing-facts C: issued by US as the buyer about a
purchase from a seller not obliged to invoice, so the UBL roles are inverted (the seller is AccountingSupplierParty,
we are AccountingCustomerParty, C.1).

``literals.py`` the strings the sources disagree on, ``cuds.py`` the key (C.2) and the QR text (C.3), also from a
parsed document, ``build.py`` the unsigned 05 and 95. Parsing is dian.ubl.parse's (InvoiceTypeCode 05,
CreditNoteTypeCode 95 → DocumentType.SUPPORT_DOCUMENT / SUPPORT_ADJUSTMENT); whoever reads one must take its CUSTOMER
as the issuer.
"""
