"""Read queries behind the feeds: newest items overall, of one source, of one listing; keyword/date filters.

Near-duplicates (`items.duplicate_of IS NOT NULL`) never appear. Ordering is newest first by when we first
saw the item (or when it entered the listing), which the indexes `ix_items_first_seen`,
`ix_items_source_first_seen` and `ix_listing_items_feed` serve without sorting. All datetimes are aware UTC.

The "new items" feeds (per source, /feeds/new) leave out undated items seen only in ranking listings: a hot list
of old stories says nothing about when they were published, so first_seen would present them as news. They stay
in the ranking's own feed, where entering the list is the news (docs/feeds.md, "Undated items").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, text
from sqlalchemy.orm import Session

from feedsvc.models import Item, ListingItem, Source
from feedsvc.store._base import MAX_PARAMS_PER_STATEMENT, chunks, wrap_exceptions
from feedsvc.store.search import matches_any


class ItemFilter(Protocol):
    """What a feed request narrows to (feedsvc.feeds.spec.FeedFilter is one). Words match as
    feedsvc/store/search.py says; `since` compares with when the item was first seen (or entered the listing)."""

    @property
    def limit(self) -> int: ...
    @property
    def q(self) -> tuple[str, ...]: ...
    @property
    def exclude(self) -> tuple[str, ...]: ...
    @property
    def since(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class ListedItem:
    """An item in a listing: when it entered, and its rank if it is still in the listing's latest crawl."""

    item: Item
    entered: datetime
    rank: int | None
    rank_changed: datetime | None = None  # when the current rank was first seen (None: not ranked now)


def _filter_conditions(flt: ItemFilter, first_seen: Any = Item.first_seen) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if flt.q:
        conditions.append(matches_any(flt.q))
    if flt.exclude:
        conditions.append(not_(matches_any(flt.exclude)))
    if flt.since is not None:
        conditions.append(first_seen >= flt.since)
    return conditions


def _item_conditions(flt: ItemFilter, first_seen: Any = Item.first_seen) -> list[ColumnElement[bool]]:
    return [Item.duplicate_of.is_(None), *_filter_conditions(flt, first_seen)]


# Listing kinds whose items are picks, not arrivals: being listed there is no sign that an item is new (a hot list
# or an editors' selection of old stories).
PICK_KINDS = ("ranking", "recommended")


def _claims_news() -> ColumnElement[bool]:
    """An item may appear among a source's new items: it has a date, or some sighting of it is not a pick
    (a 'latest' listing, a related block, or none recorded: first_seen is then the honest arrival time)."""
    sighted = ListingItem.item_id == Item.id
    return or_(
        Item.published.is_not(None),
        exists().where(sighted, ListingItem.kind.not_in(PICK_KINDS)),
        ~exists().where(sighted),
    )


@wrap_exceptions
def newest_items(session: Session, flt: ItemFilter, hidden_sources: Sequence[str] = ()) -> list[Item]:
    """Newest items across sources. `hidden_sources` (usually empty: sources no longer configured) are left
    out with NOT IN, which keeps the planner walking ix_items_first_seen backwards and stopping at `limit`."""
    stmt = select(Item).where(*_item_conditions(flt), _claims_news())
    if hidden_sources:
        stmt = stmt.where(Item.source_id.not_in(list(hidden_sources)))
    stmt = stmt.order_by(Item.first_seen.desc(), Item.id.desc()).limit(flt.limit)
    return list(session.scalars(stmt))


@wrap_exceptions
def source_items(session: Session, source_id: str, flt: ItemFilter) -> list[Item]:
    """Newest items of one source (ix_items_source_first_seen)."""
    stmt = (
        select(Item)
        .where(Item.source_id == source_id, *_item_conditions(flt), _claims_news())
        .order_by(Item.first_seen.desc(), Item.id.desc())
        .limit(flt.limit)
    )
    return list(session.scalars(stmt))


@wrap_exceptions
def listing_entries(session: Session, source_id: str, listing_id: str, flt: ItemFilter) -> list[ListedItem]:
    """Items of one listing, newest entry into the listing first; entries that entered in the same crawl in the
    listing's order (rank). `rank` is the rank seen in the listing's latest crawl, or None for items that have
    since dropped out of it."""
    # "Current" = seen by the latest run that saw this listing. Run ids, not timestamps: one run stores its
    # items in several batches with different times.
    latest_run, latest_seen = session.execute(
        select(func.max(ListingItem.last_run_id), func.max(ListingItem.last_seen)).where(
            ListingItem.source_id == source_id, ListingItem.listing_id == listing_id
        )
    ).one()
    stmt = (
        select(Item, ListingItem.first_seen, ListingItem.last_seen, ListingItem.last_run_id, ListingItem.rank,
               ListingItem.rank_changed_at)
        .join(ListingItem, ListingItem.item_id == Item.id)
        .where(
            ListingItem.source_id == source_id,
            ListingItem.listing_id == listing_id,
            *_item_conditions(flt, ListingItem.first_seen),
        )
        # A crawl stores every entry it finds with the crawl's one clock, so entries that entered together tie on
        # first_seen: they come in the order the site listed them (rank #1 first), not in arrival order.
        .order_by(ListingItem.first_seen.desc(), ListingItem.rank.asc().nulls_last(), ListingItem.item_id.desc())
        .limit(flt.limit)
    )
    out: list[ListedItem] = []
    for item, entered, last_seen, run_id, rank, rank_changed in session.execute(stmt):
        if latest_run is not None:
            current = run_id == latest_run
        else:  # written without run ids (imports, tests): fall back to the newest sighting time
            current = last_seen is not None and last_seen >= latest_seen
        ranked = current and rank is not None
        out.append(ListedItem(item=item, entered=entered, rank=rank if current else None,
                              rank_changed=rank_changed if ranked else None))
    return out


@wrap_exceptions
def listing_memberships(session: Session, item_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """item id → [(source_id, listing_id)] for the categories of feed entries."""
    out: dict[int, list[tuple[str, str]]] = {}
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT):
        if not part:
            continue
        stmt = (
            select(ListingItem.item_id, ListingItem.source_id, ListingItem.listing_id)
            .where(ListingItem.item_id.in_(part))
            .order_by(ListingItem.item_id, ListingItem.listing_id)
        )
        for item_id, source_id, listing_id in session.execute(stmt):
            out.setdefault(item_id, []).append((source_id, listing_id))
    return out


@wrap_exceptions
def filter_item_ids(session: Session, item_ids: Sequence[int], flt: ItemFilter) -> set[int]:
    """Those of `item_ids` that pass `flt`'s words and `since` (`limit` is the caller's): the same rule as the
    other feed queries, for feeds whose rows come ranked from elsewhere (related items, topics)."""
    conditions = _filter_conditions(flt)
    if not conditions:
        return set(item_ids)
    kept: set[int] = set()
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT):
        if part:
            kept.update(session.scalars(select(Item.id).where(Item.id.in_(part), *conditions)))
    return kept


@wrap_exceptions
def items_by_ids(session: Session, item_ids: Sequence[int]) -> dict[int, Item]:
    """id → Item for those of `item_ids` that exist (near-duplicates included): the one items-by-id read."""
    found: dict[int, Item] = {}
    for part in chunks(sorted(set(item_ids)), MAX_PARAMS_PER_STATEMENT):
        if part:
            found.update((item.id, item) for item in session.scalars(select(Item).where(Item.id.in_(part))))
    return found


@wrap_exceptions
def stored_source_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Source.id).order_by(Source.id)))


@wrap_exceptions
def source_item_counts(session: Session, source_ids: Sequence[str]) -> dict[str, int]:
    """Shown items (near-duplicates excluded) per source."""
    if not source_ids:
        return {}
    stmt = (
        select(Item.source_id, func.count())
        .where(and_(Item.source_id.in_(list(source_ids)), Item.duplicate_of.is_(None)))
        .group_by(Item.source_id)
    )
    return {source_id: int(count) for source_id, count in session.execute(stmt)}


@wrap_exceptions
def ping(session: Session) -> None:
    """Raise StorageError unless the database answers."""
    session.execute(text("SELECT 1"))
