"""Suppliers' reception addresses from GetExchangeEmails (issue 20).

Placeholder until the work lands: it changes nothing yet.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06
"""

from __future__ import annotations

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
