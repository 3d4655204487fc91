"""the contractor ledger (委託先台帳)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 09:00:00
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
        "contractors",
        sa.Column("id", sa.String(length=20), nullable=False),
        sa.Column("ledger_key", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_key", sa.String(length=100), nullable=False),
        sa.Column("corporate_number", sa.String(length=13), nullable=True),
        sa.Column("services", sa.String(length=100), nullable=True),
        sa.Column("work", sa.Text(), nullable=False),
        sa.Column("contract_type", sa.String(length=10), nullable=True),
        sa.Column("contract_start", sa.Date(), nullable=False),
        sa.Column("contract_end", sa.Date(), nullable=False),
        sa.Column("personal_data", sa.Boolean(), nullable=False),
        sa.Column("personal_data_count", sa.Integer(), nullable=True),
        sa.Column("sensitive_data", sa.Boolean(), nullable=False),
        sa.Column("my_number", sa.Boolean(), nullable=False),
        sa.Column("confidential_business_data", sa.Boolean(), nullable=False),
        sa.Column("processing_country", sa.String(length=50), nullable=False),
        sa.Column("certifications", sa.JSON(), nullable=False),
        sa.Column("isms_expires", sa.Date(), nullable=True),
        sa.Column("pmark_expires", sa.Date(), nullable=True),
        sa.Column("certification_other", sa.String(length=100), nullable=True),
        sa.Column("certification_other_expires", sa.Date(), nullable=True),
        sa.Column("last_assessed", sa.Date(), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.String(length=20), nullable=True),
        sa.Column("source_request_id", sa.String(length=20), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["contractors.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ledger_key"),
        sa.UniqueConstraint("source_request_id"),
    )
    with op.batch_alter_table("contractors", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contractors_corporate_number"), ["corporate_number"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contractors_name_key"), ["name_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_contractors_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_contractors_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contractors_updated_at"), ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("contractors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contractors_updated_at"))
        batch_op.drop_index(batch_op.f("ix_contractors_parent_id"))
        batch_op.drop_index(batch_op.f("ix_contractors_owner"))
        batch_op.drop_index(batch_op.f("ix_contractors_name_key"))
        batch_op.drop_index(batch_op.f("ix_contractors_corporate_number"))
    op.drop_table("contractors")
