"""The documento soporte (05) and its adjustment note (95), radian-issuing-facts C: issued by US as the buyer about a
purchase from a seller not obliged to invoice, so the UBL roles are inverted (the seller is AccountingSupplierParty,
we are AccountingCustomerParty, C.1).

``literals.py`` the strings the sources disagree on, ``cuds.py`` the key (C.2) and the QR text (C.3), ``build.py`` the
unsigned 05 and 95, ``read.py`` what a signed one says beyond dian.ubl.parse (the generation modes, the roles).
"""
