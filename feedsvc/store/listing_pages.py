"""Which listing pages each listing was found on (`listing_pages`), so a block missing there later is a problem,
and what each listing showed last (for healing a renamed block).

All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedsvc.models import Item, ListingItem, ListingPage
from feedsvc.store._base import insert_for, wrap_exceptions


@wrap_exceptions
def known_listing_pages(session: Session, source_id: str) -> dict[str, set[str]]:
    """listing id → the pages it was found on in earlier crawls of the source."""
    found: dict[str, set[str]] = {}
    stmt = select(ListingPage.listing_id, ListingPage.page_url).where(ListingPage.source_id == source_id)
    for listing_id, page_url in session.execute(stmt):
        found.setdefault(listing_id, set()).add(page_url)
    return found


@wrap_exceptions
def record_listing_pages(session: Session, source_id: str, found: Mapping[str, set[str]], at: datetime) -> None:
    """Remember the pages each listing was found on in this crawl (upsert; last_found = at)."""
    rows = [{"source_id": source_id, "listing_id": listing_id, "page_url": url, "last_found": at}
            for listing_id, urls in found.items() for url in sorted(urls)]
    if rows:
        stmt = insert_for(session, ListingPage.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ListingPage.source_id, ListingPage.listing_id, ListingPage.page_url],
            set_={"last_found": stmt.excluded.last_found})
        session.execute(stmt, rows)


@wrap_exceptions
def listing_memory(session: Session, source_id: str, per_listing: int = 50) -> dict[str, list[tuple[str, str]]]:
    """(url, title) of the items each listing of a source showed most recently, newest first: what healing
    looks for when a listing's block has gone."""
    rows = session.execute(
        select(ListingItem.listing_id, Item.url, Item.title)
        .join(Item, Item.id == ListingItem.item_id)
        .where(ListingItem.source_id == source_id, ListingItem.kind != "related")
        .order_by(ListingItem.listing_id, ListingItem.last_seen.desc(), ListingItem.rank)
    )
    memory: dict[str, list[tuple[str, str]]] = {}
    for listing_id, url, title in rows:
        held = memory.setdefault(listing_id, [])
        if len(held) < per_listing:
            held.append((url, title))
    return memory
