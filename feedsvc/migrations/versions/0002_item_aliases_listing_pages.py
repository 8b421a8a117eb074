"""item aliases, items.feed_key, listing pages

Revision ID: 0002
Revises: 0001
Create Date: issue 10 (one item per article; honest listing health)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import feedsvc.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('feed_key', sa.String(length=2048), nullable=True))
    op.create_table('item_aliases',
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('item_id', BigId, nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_aliases_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('url', name=op.f('pk_item_aliases'))
    )
    op.create_index(op.f('ix_item_aliases_item_id'), 'item_aliases', ['item_id'], unique=False)
    op.create_table('listing_pages',
    sa.Column('source_id', sa.String(length=64), nullable=False),
    sa.Column('listing_id', sa.String(length=64), nullable=False),
    sa.Column('page_url', sa.String(length=2048), nullable=False),
    sa.Column('last_found', feedsvc.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], name=op.f('fk_listing_pages_source_id_sources')),
    sa.PrimaryKeyConstraint('source_id', 'listing_id', 'page_url', name=op.f('pk_listing_pages'))
    )


def downgrade() -> None:
    op.drop_table('listing_pages')
    op.drop_index(op.f('ix_item_aliases_item_id'), table_name='item_aliases')
    op.drop_table('item_aliases')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_column('feed_key')
