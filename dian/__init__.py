"""The DIAN protocol, pure and stateless: codes, UBL parsing and building, CUFE/CUDE, XAdES, trust, event rules, the
business-day calendar, the web-service client and the local simulator. Imports nothing of ours.
"""
