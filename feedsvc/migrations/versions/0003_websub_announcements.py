"""websub announcements: the latest announcement of each feed URL to each hub

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feedsvc.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('websub_announcements',
    sa.Column('hub', sa.String(length=1024), nullable=False),
    sa.Column('topic', sa.String(length=1024), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('http_status', sa.Integer(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempted_at', feedsvc.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ok_at', feedsvc.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('hub', 'topic', name=op.f('pk_websub_announcements'))
    )


def downgrade() -> None:
    op.drop_table('websub_announcements')
