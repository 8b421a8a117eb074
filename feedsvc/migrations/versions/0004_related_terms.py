"""related terms: document frequencies and postings replace per-item signatures

A crawl's refresh reads its new items' terms (df, and the items whose signatures hold them) instead of the
newest 50,000 signatures and a sample of texts. Existing databases get an empty table: run
`feedsvc related --rebuild` once after upgrading (until then new items are related only to items crawled
since).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('related_terms',
    sa.Column('key', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('df', sa.BigInteger(), nullable=False),
    sa.Column('postings', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_related_terms'))
    )
    op.drop_table('item_signatures')


def downgrade() -> None:
    op.create_table('item_signatures',
    sa.Column('item_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('terms', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_signatures_item_id_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('item_id', name=op.f('pk_item_signatures'))
    )
    op.drop_table('related_terms')
