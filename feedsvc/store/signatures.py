"""The `item_signatures` table: each item's packed relatedness signature (feedsvc/related/signatures.py).

Written by feedsvc/related/refresh.py when an item is first related and by a rebuild; read after each crawl
for the newest items. Nothing here commits: the caller owns the transaction. Signatures never show in a
feed, so writing them does not bump the data version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from feedsvc.models import Item, ItemSignature
from feedsvc.store._base import MAX_PARAMS_PER_STATEMENT, chunks, wrap_exceptions


@wrap_exceptions
def recent_signatures(session: Session, limit: int) -> list[tuple[int, bytes | None]]:
    """The newest `limit` items that are not duplicates, newest first, with their signature (None: none yet)."""
    stmt = (
        select(Item.id, ItemSignature.terms)
        .outerjoin(ItemSignature, ItemSignature.item_id == Item.id)
        .where(Item.duplicate_of.is_(None))
        .order_by(Item.first_seen.desc(), Item.id.desc())
        .limit(limit)
    )
    return [(int(item_id), terms) for item_id, terms in session.execute(stmt)]


@wrap_exceptions
def store_signatures(session: Session, signatures: Mapping[int, bytes], replace: bool = True) -> None:
    """Write these items' signatures; `replace=False` when the table is known to hold none of them."""
    ids = sorted(signatures)
    if replace:
        for part in chunks(ids, MAX_PARAMS_PER_STATEMENT):
            if part:
                session.execute(delete(ItemSignature).where(ItemSignature.item_id.in_(part)))
    table = cast(Table, ItemSignature.__table__)
    for part in chunks(ids, 5000):
        if part:
            session.execute(insert(table), [{"item_id": i, "terms": signatures[i]} for i in part])


@wrap_exceptions
def clear_signatures(session: Session) -> None:
    session.execute(delete(ItemSignature))
