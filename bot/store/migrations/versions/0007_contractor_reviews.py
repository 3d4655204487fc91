"""periodic reviews of ledger contractors (定期点検), their corrective actions, reminders sent

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-13 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contractor_reviews",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("contractor_id", sa.String(length=20), nullable=False),
        sa.Column("dialog_id", sa.String(length=32), nullable=True),
        sa.Column("reviewed_on", sa.Date(), nullable=False),
        sa.Column("methods", sa.JSON(), nullable=False),
        sa.Column("report_received", sa.Boolean(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=True),
        sa.Column("checked", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("findings", sa.Text(), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.Column("reviewer", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contractor_id"], ["contractors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dialog_id"),
    )
    with op.batch_alter_table("contractor_reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contractor_reviews_contractor_id"), ["contractor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contractor_reviews_created_at"), ["created_at"], unique=False
        )
    op.create_table(
        "corrective_actions",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("review_id", sa.String(length=20), nullable=False),
        sa.Column("contractor_id", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contractor_id"], ["contractors.id"]),
        sa.ForeignKeyConstraint(["review_id"], ["contractor_reviews.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("corrective_actions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corrective_actions_contractor_id"), ["contractor_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_corrective_actions_due"), ["due"], unique=False)
        batch_op.create_index(batch_op.f("ix_corrective_actions_owner"), ["owner"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_corrective_actions_review_id"), ["review_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_corrective_actions_status"), ["status"], unique=False)
    op.create_table(
        "review_notices",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("review_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_review_notices_subject"), ["subject"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("review_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_notices_subject"))
    op.drop_table("review_notices")
    with op.batch_alter_table("corrective_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corrective_actions_status"))
        batch_op.drop_index(batch_op.f("ix_corrective_actions_review_id"))
        batch_op.drop_index(batch_op.f("ix_corrective_actions_owner"))
        batch_op.drop_index(batch_op.f("ix_corrective_actions_due"))
        batch_op.drop_index(batch_op.f("ix_corrective_actions_contractor_id"))
    op.drop_table("corrective_actions")
    with op.batch_alter_table("contractor_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contractor_reviews_created_at"))
        batch_op.drop_index(batch_op.f("ix_contractor_reviews_contractor_id"))
    op.drop_table("contractor_reviews")
