"""RADIAN value-title events 035-051 (radian-issuing-facts.md A): the value blocks, the typed model, the builder and
parser, the blank-endorsement CUDE, the literals in doubt, and the history DIAN reads (the holder replay of A.11).

The rules (who may send what, when) live in ``dian.rules``, in the one table with 030-034.
"""
