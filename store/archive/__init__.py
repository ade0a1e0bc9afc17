"""The archive (issue 20): the auditor's pack of a period and the retention of every raw byte.

``pack.py`` streams the pack (the signed bytes, DIAN's answers, the events, the reports, the PDFs, an index and the
sums), reading rows with ``rows.py`` and writing the zip with ``zipstream.py``; ``seal.py`` signs the SHA-256 of the
sums with the company certificate (XAdES); ``verify.py`` checks a pack offline; ``retention.py`` says how long bytes
are kept, holds them longer, and lists what a purge would touch.
"""
