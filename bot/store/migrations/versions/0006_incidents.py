"""incidents at contractors (委託先での漏えい等) with their checklist

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-12 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("contractor_id", sa.String(length=20), nullable=True),
        sa.Column("contractor_name", sa.String(length=100), nullable=False),
        sa.Column("reporter", sa.String(length=100), nullable=False),
        sa.Column("learned_on", sa.Date(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("assessment", sa.JSON(), nullable=False),
        sa.Column("preliminary_due", sa.Date(), nullable=False),
        sa.Column("final_due", sa.Date(), nullable=False),
        sa.Column("checklist", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dialog_id", sa.String(length=32), nullable=True),
        sa.Column("reminded", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=40), nullable=True),
        sa.Column("message_ts", sa.String(length=40), nullable=True),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dialog_id"),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_incidents_contractor_id"), ["contractor_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_incidents_learned_on"), ["learned_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_reporter"), ["reporter"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_incidents_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_updated_at"))
        batch_op.drop_index(batch_op.f("ix_incidents_status"))
        batch_op.drop_index(batch_op.f("ix_incidents_reporter"))
        batch_op.drop_index(batch_op.f("ix_incidents_learned_on"))
        batch_op.drop_index(batch_op.f("ix_incidents_contractor_id"))
    op.drop_table("incidents")
