"""The export query: every item (optionally of one source / one listing) with its listings, streamed in chunks.

Keyset pagination over items.id keeps memory flat however many items there are. Datetimes are aware UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from feedsvc.models import Item, ListingItem, Source
from feedsvc.store._base import wrap_exceptions


@dataclass(frozen=True)
class ListingRef:
    listing: str
    kind: str
    rank: int | None


@dataclass(frozen=True)
class ExportRow:
    id: int
    url: str
    title: str
    published: datetime | None
    timezone: str  # the source's IANA zone, for presenting `published` with the site's offset
    date_text: str | None
    source: str
    first_seen: datetime
    last_seen: datetime
    summary: str | None
    listings: list[ListingRef] = field(default_factory=list)
    content: str | None = None  # the article's cleaned HTML, read only when asked for (`with_content`)


@wrap_exceptions
def _chunk(session: Session, after_id: int, size: int, source_id: str | None,
           listing_id: str | None, with_content: bool) -> list[ExportRow]:
    # Article bodies are most of the database's bytes: left out of the query unless asked for.
    content = Item.content if with_content else null().label("content")
    stmt = (
        select(Item.id, Item.url, Item.title, Item.published, Source.timezone, Item.date_text, Item.source_id,
               Item.first_seen, Item.last_seen, Item.summary, content)
        .join(Source, Source.id == Item.source_id)
        .where(Item.id > after_id)
        .order_by(Item.id)
        .limit(size)
    )
    if source_id is not None:
        stmt = stmt.where(Item.source_id == source_id)
    if listing_id is not None:
        member = select(ListingItem.item_id).where(ListingItem.listing_id == listing_id)
        if source_id is not None:
            member = member.where(ListingItem.source_id == source_id)
        stmt = stmt.where(Item.id.in_(member))
    rows = session.execute(stmt).all()
    if not rows:
        return []
    refs: dict[int, list[ListingRef]] = defaultdict(list)
    ids = [row.id for row in rows]
    listing_rows = session.execute(
        select(ListingItem.item_id, ListingItem.listing_id, ListingItem.kind, ListingItem.rank)
        .where(ListingItem.item_id.in_(ids))
        .order_by(ListingItem.item_id, ListingItem.listing_id)
    )
    for item_id, listing, kind, rank in listing_rows:
        refs[item_id].append(ListingRef(listing, kind, rank))
    return [
        ExportRow(id=r.id, url=r.url, title=r.title, published=r.published, timezone=r.timezone,
                  date_text=r.date_text, source=r.source_id, first_seen=r.first_seen, last_seen=r.last_seen,
                  summary=r.summary, listings=refs.get(r.id, []), content=r.content)
        for r in rows
    ]


def iter_export_rows(session: Session, source_id: str | None = None, listing_id: str | None = None,
                     chunk_size: int = 500, with_content: bool = False) -> Iterator[ExportRow]:
    """Yield items in id order; each chunk is one query for items plus one for their listings. Rows carry the
    article's cleaned HTML only `with_content`."""
    after = 0
    while True:
        rows = _chunk(session, after, chunk_size, source_id, listing_id, with_content)
        if not rows:
            return
        yield from rows
        after = rows[-1].id
