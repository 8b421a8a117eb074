"""store_items: idempotent upserts, first_seen kept, article dates win, sightings and site links recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedsvc.config import parse_config
from feedsvc.models import Appearance, Item, ListingItem, RelatedLink
from feedsvc.store.items import ItemRecord, count_items, item_ids_by_url, store_items
from feedsvc.store.sources import sync_sources

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
CFG = parse_config({"sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"],
                                  "listings": [{"id": "latest", "heading": "最新"}]}]})


def _listed(url: str, title: str, rank: int, published: datetime | None = None) -> ItemRecord:
    return ItemRecord(source_id="gw", url=url, title=title, published=published, date_text="10-12",
                      listing_id="latest", listing_kind="latest", rank=rank)


def _setup(session: Session) -> None:
    sync_sources(session, CFG.sources, T0)


def test_store_is_idempotent_and_keeps_first_seen(session: Session) -> None:
    _setup(session)
    records = [_listed("http://a/1", "One", 1, T0), _listed("http://a/2", "Two", 2, T0)]
    first = store_items(session, records, None, T0)
    session.commit()
    assert (first.seen, first.new) == (2, 2)
    later = T0 + timedelta(days=1)
    again = store_items(session, records, None, later)
    session.commit()
    assert (again.seen, again.new) == (2, 0)
    assert session.scalar(select(func.count()).select_from(Item)) == 2
    item = session.scalar(select(Item).where(Item.url == "http://a/1"))
    assert item is not None and item.first_seen == T0 and item.last_seen == later
    assert session.scalar(select(func.count()).select_from(Appearance)) == 4
    assert session.scalar(select(func.count()).select_from(ListingItem)) == 2


def test_article_date_wins_and_listing_date_never_moves_it(session: Session) -> None:
    _setup(session)
    listing_date = datetime(2025, 10, 11, 16, 0, tzinfo=UTC)
    article_date = datetime(2024, 10, 12, 2, 30, tzinfo=UTC)
    store_items(session, [_listed("http://a/1", "One", 1, listing_date)], None, T0)
    article = ItemRecord(source_id="gw", url="http://a/1", title="One (full)", published=article_date,
                         date_text="2024-10-12 10:30", is_article=True, summary="s", content="<p>c</p>")
    store_items(session, [article], None, T0)
    store_items(session, [_listed("http://a/1", "One", 1, listing_date + timedelta(days=365))], None, T0)
    session.commit()
    item = session.scalar(select(Item).where(Item.url == "http://a/1"))
    assert item is not None
    assert item.published == article_date and item.date_source == "article"
    assert item.title == "One (full)" and item.content == "<p>c</p>"


def test_site_related_links_and_rank(session: Session) -> None:
    _setup(session)
    article = ItemRecord(source_id="gw", url="http://a/1", title="One", is_article=True)
    related = [ItemRecord(source_id="gw", url=f"http://a/{n}", title=f"T{n}", listing_id="related",
                          listing_kind="related", rank=n - 1, related_from="http://a/1") for n in (2, 3)]
    store_items(session, [article, *related], None, T0)
    session.commit()
    links = session.execute(select(RelatedLink.to_item_id, RelatedLink.rank, RelatedLink.origin)).all()
    ids = item_ids_by_url(session, ["http://a/2", "http://a/3"])
    assert sorted(links) == [(ids["http://a/2"], 1, "site"), (ids["http://a/3"], 2, "site")]


def test_duplicate_url_in_one_batch_keeps_best_rank(session: Session) -> None:
    _setup(session)
    result = store_items(session, [_listed("http://a/1", "One", 5), _listed("http://a/1", "One", 2)], None, T0)
    session.commit()
    assert result.new == 1
    assert session.scalar(select(ListingItem.rank)) == 2


def test_large_batch_crosses_parameter_limits(session: Session) -> None:
    _setup(session)
    records = [_listed(f"http://a/{n}", f"Title {n}", n, T0) for n in range(3000)]
    assert store_items(session, records, None, T0).new == 3000
    session.commit()
    assert count_items(session, "gw") == 3000


def test_storing_items_bumps_the_data_version(session: Session) -> None:
    from feedsvc.store.meta import data_version

    _setup(session)
    before = data_version(session)
    store_items(session, [_listed("http://a/1", "标题", 1, T0)], None, T0)
    session.commit()
    assert data_version(session) == before + 1  # cached feeds built before the batch are stale
