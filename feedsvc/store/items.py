"""Crawl writes: items, their listing sightings (`listing_items`, `appearances`) and site related links.

All datetimes are timezone-aware UTC. `store_items` is idempotent per (url, listing) and runs in the caller's
transaction, so a batch lands whole or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from feedsvc.models import Appearance, Item, ListingItem, RelatedLink
from feedsvc.store._base import MAX_PARAMS_PER_STATEMENT, chunks, insert_for, wrap_exceptions
from feedsvc.store.aliases import add_aliases, alias_targets, merge_article_urls
from feedsvc.store.meta import bump_data_version

SITE_ORIGIN = "site"


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """What one crawl learned about one item, from a listing entry or from the article page itself.

    `published` is timezone-aware UTC. A listing sighting sets listing_id/kind/rank; `related_from` is the
    canonical URL of the article whose "you may also like" block listed this item. An article page record
    sets is_article and carries summary/content; its date wins over any listing date.
    """

    source_id: str
    url: str
    title: str | None
    published: datetime | None = None
    date_text: str | None = None
    listing_id: str | None = None
    listing_kind: str | None = None
    rank: int | None = None
    related_from: str | None = None
    is_article: bool = False
    summary: str | None = None
    content: str | None = None
    # An article's other URLs (the listing's link before redirects, variants): they all name this item.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreResult:
    seen: int = 0
    new: int = 0
    new_item_ids: list[int] = field(default_factory=list)


@wrap_exceptions
def item_ids_by_url(session: Session, urls: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(urls))
    found: dict[str, int] = {}
    for part in chunks(wanted, MAX_PARAMS_PER_STATEMENT):
        if part:
            found.update(session.execute(select(Item.url, Item.id).where(Item.url.in_(part))).all())
    return found


def _merge_by_url(records: Sequence[ItemRecord]) -> dict[str, dict[str, Any]]:
    """One dict of item fields per URL: article data beats listing data; the first listing title wins."""
    merged: dict[str, dict[str, Any]] = {}
    for rec in records:
        row = merged.setdefault(rec.url, {"source_id": rec.source_id, "title": None, "published": None,
                                          "date_text": None, "date_source": None, "summary": None,
                                          "content": None, "is_article": False})
        if rec.is_article:
            row["is_article"] = True
            row["title"] = rec.title or row["title"]
            row["summary"] = rec.summary
            row["content"] = rec.content
            if rec.published is not None:
                row.update(published=rec.published, date_text=rec.date_text, date_source="article")
        else:
            row["title"] = row["title"] or rec.title
            if rec.published is not None and row["date_source"] is None:
                row.update(published=rec.published, date_text=rec.date_text, date_source="listing")
            elif row["date_text"] is None:
                row["date_text"] = rec.date_text
    return merged


@wrap_exceptions
def store_items(session: Session, records: Sequence[ItemRecord], run_id: int | None, at: datetime) -> StoreResult:
    """Upsert items and record where they were seen. Re-storing never duplicates and keeps `first_seen`.

    Rules: an article page's date replaces a listing date; a listing date only fills an empty one (a
    month-day re-read next year must not move an old item); titles from the article page win. An article's
    aliases name its item: items stored under them are merged into it (store/aliases.py).
    """
    if not records:
        return StoreResult()
    records = _resolve_aliases(session, records)
    merged = _merge_by_url(records)
    existing = _existing(session, merged.keys())
    new_urls = [url for url in merged if url not in existing]
    _insert_new(session, {url: merged[url] for url in new_urls}, at)
    _update_existing(session, {url: merged[url] for url in merged if url in existing}, existing, at)

    ids = item_ids_by_url(session, set(merged) | {r.related_from for r in records if r.related_from})
    _upsert_listing_items(session, records, ids, run_id, at)
    _insert_appearances(session, records, ids, run_id, at)
    _upsert_site_links(session, records, ids, at)
    add_aliases(session, {alias: ids[rec.url] for rec in records if rec.is_article and rec.url in ids
                          for alias in rec.aliases if alias != rec.url})
    new_ids = sorted(ids[url] for url in new_urls if url in ids)
    bump_data_version(session)  # new items, ranks or dates: feeds built before this batch are stale
    return StoreResult(seen=len(merged), new=len(new_ids), new_item_ids=new_ids)


def _resolve_aliases(session: Session, records: Sequence[ItemRecord]) -> list[ItemRecord]:
    """Merge what each article's URLs name, then rewrite every record's URLs that are aliases (of an article in
    this batch or of a stored item) to the item's URL, so a listing link resolves to the article's item."""
    merge_article_urls(session, [(rec.url, rec.aliases) for rec in records if rec.is_article])
    targets = {alias: rec.url for rec in records if rec.is_article for alias in rec.aliases if alias != rec.url}
    urls = {rec.url for rec in records} | {rec.related_from for rec in records if rec.related_from}
    targets.update(alias_targets(session, urls - targets.keys()))
    if not targets:
        return list(records)
    out = []
    for rec in records:
        url = rec.url if rec.is_article else targets.get(rec.url, rec.url)
        related_from = targets.get(rec.related_from, rec.related_from) if rec.related_from else None
        out.append(rec if (url, related_from) == (rec.url, rec.related_from)
                   else replace(rec, url=url, related_from=related_from))
    return out


def _existing(session: Session, urls: Iterable[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(urls), MAX_PARAMS_PER_STATEMENT):
        if not part:
            continue
        stmt = select(Item.url, Item.id, Item.title, Item.published, Item.date_source, Item.summary,
                      Item.content).where(Item.url.in_(part))
        for url, item_id, title, published, date_source, summary, content in session.execute(stmt):
            found[url] = {"id": item_id, "title": title, "published": published, "date_source": date_source,
                          "summary": summary, "content": content}
    return found


def _insert_new(session: Session, rows: dict[str, dict[str, Any]], at: datetime) -> None:
    values = [
        {
            "source_id": row["source_id"],
            "url": url,
            "title": row["title"] or url,
            "published": row["published"],
            "date_text": row["date_text"],
            "date_source": row["date_source"],
            "summary": row["summary"],
            "content": row["content"],
            "article_fetched_at": at if row["is_article"] else None,
            "first_seen": at,
            "last_seen": at,
            "updated_at": at,
        }
        for url, row in rows.items()
    ]
    if values:
        # A concurrent writer may have inserted the same URL since we looked: theirs stands.
        stmt = insert_for(session, Item.__table__).on_conflict_do_nothing(index_elements=[Item.url])
        session.execute(stmt, values)


def _update_existing(
    session: Session, rows: dict[str, dict[str, Any]], existing: dict[str, dict[str, Any]], at: datetime
) -> None:
    touched_only: list[int] = []
    changes: list[dict[str, Any]] = []
    for url, row in rows.items():
        old = existing[url]
        change: dict[str, Any] = {}
        if row["is_article"]:
            change.update(summary=row["summary"], content=row["content"], article_fetched_at=at)
            if row["title"] and row["title"] != old["title"]:
                change["title"] = row["title"]
        if row["published"] is not None and (
            row["date_source"] == "article" or old["published"] is None
        ) and row["published"] != old["published"]:
            change.update(published=row["published"], date_text=row["date_text"], date_source=row["date_source"])
        if change:
            # A re-fetched article whose text did not change is not an update: readers would see every undated
            # (and every dated) entry "changed" on each crawl that re-reads its article.
            rewritten = (row["summary"], row["content"]) != (old["summary"], old["content"])
            if "title" in change or "published" in change or (row["is_article"] and rewritten):
                change["updated_at"] = at
            changes.append({"id": old["id"], "last_seen": at, **change})
        else:
            touched_only.append(old["id"])
    for part in chunks(touched_only, MAX_PARAMS_PER_STATEMENT):
        if part:
            session.execute(update(Item).where(Item.id.in_(part)).values(last_seen=at))
    # Group by key set: executemany needs the same columns in every row.
    by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        by_keys.setdefault(tuple(sorted(change)), []).append(change)
    for group in by_keys.values():
        session.execute(update(Item), group)


def _upsert_listing_items(
    session: Session, records: Sequence[ItemRecord], ids: dict[str, int], run_id: int | None, at: datetime
) -> None:
    rows: dict[tuple[str, str, int], dict[str, Any]] = {}
    for rec in records:
        if rec.listing_id is None or rec.url not in ids:
            continue
        key = (rec.source_id, rec.listing_id, ids[rec.url])
        if key in rows:  # the same item twice in one listing (e.g. on two pages): keep the better rank
            old_rank = rows[key]["rank"]
            if rec.rank is not None and (old_rank is None or rec.rank < old_rank):
                rows[key]["rank"] = rec.rank
            continue
        rows[key] = {"source_id": key[0], "listing_id": key[1], "item_id": key[2], "kind": rec.listing_kind or "latest",
                     "rank": rec.rank, "rank_changed_at": at, "first_seen": at, "last_seen": at,
                     "last_run_id": run_id}
    if rows:
        table = ListingItem.__table__
        stmt = insert_for(session, table)
        rank_changed = case((table.c.rank.is_distinct_from(stmt.excluded.rank), stmt.excluded.last_seen),
                            else_=table.c.rank_changed_at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[ListingItem.source_id, ListingItem.listing_id, ListingItem.item_id],
            set_={"rank": stmt.excluded.rank, "rank_changed_at": rank_changed, "last_seen": stmt.excluded.last_seen,
                  "last_run_id": stmt.excluded.last_run_id, "kind": stmt.excluded.kind},
        )
        session.execute(stmt, list(rows.values()))


def _insert_appearances(
    session: Session, records: Sequence[ItemRecord], ids: dict[str, int], run_id: int | None, at: datetime
) -> None:
    seen: set[tuple[str, int, int | None]] = set()
    values: list[dict[str, Any]] = []
    for rec in records:
        if rec.listing_id is None or rec.url not in ids:
            continue
        key = (rec.listing_id, ids[rec.url], rec.rank)
        if key in seen:
            continue
        seen.add(key)
        values.append({"run_id": run_id, "source_id": rec.source_id, "listing_id": rec.listing_id,
                       "item_id": ids[rec.url], "rank": rec.rank, "seen_at": at})
    if values:
        session.execute(insert_for(session, Appearance.__table__), values)


def _upsert_site_links(session: Session, records: Sequence[ItemRecord], ids: dict[str, int], at: datetime) -> None:
    rows: dict[tuple[int, int], dict[str, Any]] = {}
    for rec in records:
        if not rec.related_from or rec.related_from not in ids or rec.url not in ids:
            continue
        key = (ids[rec.related_from], ids[rec.url])
        if key[0] == key[1] or key in rows:
            continue
        rows[key] = {"from_item_id": key[0], "to_item_id": key[1], "origin": SITE_ORIGIN, "score": 1.0,
                     "rank": rec.rank, "updated_at": at}
    if rows:
        stmt = insert_for(session, RelatedLink.__table__)
        stmt = stmt.on_conflict_do_update(
            index_elements=[RelatedLink.from_item_id, RelatedLink.to_item_id, RelatedLink.origin],
            set_={"rank": stmt.excluded.rank, "updated_at": stmt.excluded.updated_at},
        )
        session.execute(stmt, list(rows.values()))


@wrap_exceptions
def get_item(session: Session, item_id: int) -> Item | None:
    return session.get(Item, item_id)


@wrap_exceptions
def get_item_by_url(session: Session, url: str) -> Item | None:
    return session.scalar(select(Item).where(Item.url == url))


@wrap_exceptions
def count_items(session: Session, source_id: str | None = None) -> int:
    from sqlalchemy import func

    stmt = select(func.count()).select_from(Item)
    if source_id is not None:
        stmt = stmt.where(Item.source_id == source_id)
    return int(session.scalar(stmt) or 0)
