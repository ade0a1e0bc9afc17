"""Documento soporte 05 and its adjustment note 95 (issue 19).

Placeholder until the work lands: it changes nothing yet.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
