"""Item aliases: the other URLs of an article (`item_aliases`), and merging the items that turn out to be one.

An article page names its canonical URL and the URLs that reached it. Items stored under any of them become
one item: the earliest (by first_seen, then id) keeps its id, first_seen and feed entry id (`feed_key`), takes
the canonical URL, and receives the others' listing rows, appearances and links. All datetimes are aware UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from feedsvc.models import Appearance, Item, ItemAlias, ListingItem, RelatedLink
from feedsvc.store._base import MAX_PARAMS_PER_STATEMENT, chunks, insert_for


def alias_targets(session: Session, urls: Iterable[str]) -> dict[str, str]:
    """alias URL → the URL of the item it names, for those of `urls` that are aliases."""
    found: dict[str, str] = {}
    for part in chunks(sorted(set(urls)), MAX_PARAMS_PER_STATEMENT):
        if part:
            stmt = select(ItemAlias.url, Item.url).join(Item, Item.id == ItemAlias.item_id).where(ItemAlias.url.in_(part))
            found.update((alias, url) for alias, url in session.execute(stmt))
    return found


def merge_article_urls(session: Session, articles: Iterable[tuple[str, Sequence[str]]]) -> None:
    """Before storing: for each (article URL, its aliases), merge the items stored under those URLs into the
    earliest, which then carries the article's URL."""
    groups = [(url, aliases) for url, aliases in articles if aliases]
    named: dict[str, tuple[int, str]] | None = None
    for n, (url, aliases) in enumerate(groups):
        if named is None:  # one look for the rest of the batch, instead of one query per article
            named = _named_items(session, {u for later, names in groups[n:] for u in (later, *names)})
        found = {named[u] for u in (url, *aliases) if u in named}
        # Nothing stored under these URLs, or one item already under the article's URL (most articles of a crawl):
        # nothing to merge. A merge moves rows, so the next article looks again.
        if found and found != {(next(iter(found))[0], url)}:
            _merge(session, url, aliases)
            named = None


def _named_items(session: Session, urls: set[str]) -> dict[str, tuple[int, str]]:
    """url → (id, url) of the item it names, as an item's own URL or as an alias of it."""
    named: dict[str, tuple[int, str]] = {}
    for part in chunks(sorted(urls), MAX_PARAMS_PER_STATEMENT):
        if part:
            named.update((alias, (item_id, url)) for alias, item_id, url in session.execute(
                select(ItemAlias.url, Item.id, Item.url).join(Item, Item.id == ItemAlias.item_id)
                .where(ItemAlias.url.in_(part))))
            named.update((url, (item_id, url)) for url, item_id in session.execute(
                select(Item.url, Item.id).where(Item.url.in_(part))))
    return named


def add_aliases(session: Session, rows: Mapping[str, int]) -> None:
    """After storing: record each alias URL as naming its item id (an alias moves to the latest article)."""
    if rows:
        stmt = insert_for(session, ItemAlias.__table__)
        stmt = stmt.on_conflict_do_update(index_elements=[ItemAlias.url], set_={"item_id": stmt.excluded.item_id})
        session.execute(stmt, [{"url": url, "item_id": item_id} for url, item_id in rows.items()])


def _merge(session: Session, canonical: str, aliases: Sequence[str]) -> None:
    urls = [canonical, *aliases]
    by_url = select(Item.id).where(Item.url.in_(urls))
    by_alias = select(ItemAlias.item_id).where(ItemAlias.url.in_(urls))
    rows = session.execute(select(Item.id, Item.url, Item.first_seen, Item.feed_key)
                           .where(Item.id.in_(by_url.union(by_alias).scalar_subquery()))
                           .order_by(Item.first_seen, Item.id)).all()
    if not rows:
        return
    keeper, others = rows[0], rows[1:]
    other_ids = [row.id for row in others]
    if other_ids:
        _move_references(session, keeper.id, other_ids)
        moved = [{"url": row.url, "item_id": keeper.id} for row in others]
        session.execute(delete(Item).where(Item.id.in_(other_ids)))
        stmt = insert_for(session, ItemAlias.__table__)
        session.execute(stmt.on_conflict_do_update(index_elements=[ItemAlias.url],
                                                   set_={"item_id": stmt.excluded.item_id}), moved)
    if keeper.url != canonical:
        session.execute(delete(ItemAlias).where(ItemAlias.url == canonical))
        session.execute(update(Item).where(Item.id == keeper.id).values(
            url=canonical, feed_key=func.coalesce(Item.feed_key, keeper.url)))
        stmt = insert_for(session, ItemAlias.__table__)
        session.execute(stmt.on_conflict_do_update(index_elements=[ItemAlias.url],
                                                   set_={"item_id": stmt.excluded.item_id}),
                        [{"url": keeper.url, "item_id": keeper.id}])


def _move_references(session: Session, keeper: int, others: list[int]) -> None:
    """Point every row that names one of `others` at `keeper`; where keeper already has the row, keeper's stays."""
    session.execute(update(Appearance).where(Appearance.item_id.in_(others)).values(item_id=keeper))
    session.execute(update(ItemAlias).where(ItemAlias.item_id.in_(others)).values(item_id=keeper))
    session.execute(update(Item).where(Item.id == keeper, Item.duplicate_of.in_(others)).values(duplicate_of=None))
    session.execute(update(Item).where(Item.duplicate_of.in_(others)).values(duplicate_of=keeper))

    listing_rows = [dict(row._mapping) for row in session.execute(
        select(ListingItem.__table__).where(ListingItem.item_id.in_(others)).order_by(ListingItem.first_seen))]
    session.execute(delete(ListingItem).where(ListingItem.item_id.in_(others)))
    if listing_rows:
        moved = list({(r["source_id"], r["listing_id"]): {**r, "item_id": keeper} for r in reversed(listing_rows)}.values())
        session.execute(insert_for(session, ListingItem.__table__).on_conflict_do_nothing(
            index_elements=[ListingItem.source_id, ListingItem.listing_id, ListingItem.item_id]), moved)

    table = RelatedLink.__table__
    link_rows = [dict(row._mapping) for row in session.execute(
        select(table).where(table.c.from_item_id.in_(others) | table.c.to_item_id.in_(others)))]
    session.execute(delete(RelatedLink).where(RelatedLink.from_item_id.in_(others) | RelatedLink.to_item_id.in_(others)))
    remapped: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in link_rows:
        row["from_item_id"] = keeper if row["from_item_id"] in others else row["from_item_id"]
        row["to_item_id"] = keeper if row["to_item_id"] in others else row["to_item_id"]
        if row["from_item_id"] != row["to_item_id"]:
            remapped.setdefault((row["from_item_id"], row["to_item_id"], row["origin"]), row)
    if remapped:
        session.execute(insert_for(session, table).on_conflict_do_nothing(
            index_elements=[RelatedLink.from_item_id, RelatedLink.to_item_id, RelatedLink.origin]),
            list(remapped.values()))
