"""The access log: one append-only, hash-chained row per page view, download, export and refusal

Who looked at and exported what (docs/deployment.md, "Access log"). The
product only ever inserts into this table; ``partnership-dashboard audit
verify`` detects an edited or deleted row through the chain of SHA-256
hashes.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False, comment="1, 2, 3 ... in order"),
        sa.Column("logged_at", sa.DateTime(timezone=False), nullable=False, comment="UTC"),
        sa.Column("user_name", sa.String, nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("object", sa.String, nullable=False, comment="page, file kind or table"),
        sa.Column("filters", sa.Text, nullable=False, comment="JSON object"),
        sa.Column("rows_returned", sa.BigInteger),
        sa.Column("interface", sa.String(10), nullable=False, comment="dashboard or cli"),
        sa.Column("detail", sa.Text, comment="a refusal's reason, an error"),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False, comment="SHA-256 of prev_hash and this row"),
    )


def downgrade() -> None:
    op.drop_table("access_log")
