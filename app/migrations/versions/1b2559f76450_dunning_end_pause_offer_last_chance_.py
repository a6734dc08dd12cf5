"""dunning end: the pause offer and the last-chance discount (settings, links, campaigns)

Revision ID: 1b2559f76450
Revises: 377c68d4f359
Create Date: 2026-12-06 04:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "1b2559f76450"
down_revision = "377c68d4f359"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("dunning_settings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pause_offer_days",
                sa.Integer(),
                nullable=True,
                comment="after the last touch, email an offer to pause for 14, 30 or 60 days; "
                "null = off",
            )
        )
        batch_op.add_column(
            sa.Column(
                "discount_percent",
                sa.Integer(),
                nullable=True,
                comment="last-chance discount in the final touch: percent off (5-90); null = off",
            )
        )
        batch_op.add_column(
            sa.Column(
                "discount_months",
                sa.Integer(),
                nullable=True,
                comment="last-chance discount: for this many months (1-12)",
            )
        )
    with op.batch_alter_table("card_update_link", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pause_days",
                sa.Integer(),
                nullable=True,
                comment="pause_offer links: the pause the email offered, in days",
            )
        )
        batch_op.add_column(
            sa.Column(
                "discount_percent",
                sa.Integer(),
                nullable=True,
                comment="the final touch's last-chance offer this link carries: percent off",
            )
        )
        batch_op.add_column(
            sa.Column(
                "discount_months", sa.Integer(), nullable=True, comment="... for this many months"
            )
        )
        batch_op.add_column(
            sa.Column(
                "discount_applied_at",
                sa.DateTime(timezone=True),
                nullable=True,
                comment="the customer paid through this link and the discount was set on Stripe",
            )
        )
        batch_op.alter_column(
            "purpose",
            existing_type=sa.String(length=16),
            comment="dunning | expiry | wall | fresh (asked for on an expired page) | pause_offer",
            existing_comment="dunning | expiry | wall | fresh (asked for on an expired page)",
            existing_nullable=False,
        )
        batch_op.alter_column(
            "outcome",
            existing_type=sa.String(length=32),
            comment="updated | paid | declined | already_paid | paused",
            existing_comment="updated | paid | declined | already_paid",
            existing_nullable=True,
        )
    with op.batch_alter_table("recovery_campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "offer_taken",
                sa.String(length=120),
                nullable=True,
                comment="an offer the customer took, in words (a last-chance discount)",
            )
        )
        batch_op.add_column(sa.Column("offer_taken_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("recovery_step", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(length=16),
            comment="retry | email | window_end | pause_offer",
            existing_comment="retry | email | window_end",
            existing_nullable=False,
        )


def downgrade():
    with op.batch_alter_table("recovery_step", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=sa.String(length=16),
            comment="retry | email | window_end",
            existing_comment="retry | email | window_end | pause_offer",
            existing_nullable=False,
        )
    with op.batch_alter_table("recovery_campaign", schema=None) as batch_op:
        batch_op.drop_column("offer_taken_at")
        batch_op.drop_column("offer_taken")
    with op.batch_alter_table("card_update_link", schema=None) as batch_op:
        batch_op.alter_column(
            "outcome",
            existing_type=sa.String(length=32),
            comment="updated | paid | declined | already_paid",
            existing_comment="updated | paid | declined | already_paid | paused",
            existing_nullable=True,
        )
        batch_op.alter_column(
            "purpose",
            existing_type=sa.String(length=16),
            comment="dunning | expiry | wall | fresh (asked for on an expired page)",
            existing_comment="dunning | expiry | wall | fresh (asked for on an expired page) | "
            "pause_offer",
            existing_nullable=False,
        )
        batch_op.drop_column("discount_applied_at")
        batch_op.drop_column("discount_months")
        batch_op.drop_column("discount_percent")
        batch_op.drop_column("pause_days")
    with op.batch_alter_table("dunning_settings", schema=None) as batch_op:
        batch_op.drop_column("discount_months")
        batch_op.drop_column("discount_percent")
        batch_op.drop_column("pause_offer_days")
