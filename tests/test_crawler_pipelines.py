"""Pipelines: validation reasons, normalisation with the crawl clock, batched transactional storage."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from scrapy.exceptions import DropItem
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crawler.items import ArticleItem, ListingSighting
from crawler.middlewares import retry_after_seconds
from crawler.pipelines import NormalizeArticle, RecordGroup, StoreArticle, ValidateArticle, crawl_clock
from feedsvc.config import parse_config
from feedsvc.models import Item, RelatedLink
from feedsvc.store.items import ItemRecord
from feedsvc.store.sources import sync_sources

NOW = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)  # 2026-01-05 12:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
BASE = "http://127.0.0.1:8000"


def sighting(url: str, title: str | None = "标题", date_text: str | None = "12-30", rank: int = 1,
             related_from: str | None = None) -> ListingSighting:
    kind = "related" if related_from else "latest"
    return ListingSighting("gw", kind, kind, url, title, date_text, rank, BASE + "/", related_from)


def test_validate_drops_with_reasons() -> None:
    validate = ValidateArticle()
    with pytest.raises(DropItem, match=r"not a web link: 'javascript:void\(0\)' \(listing 'latest' on"):
        validate.process_item(sighting("javascript:void(0)"))
    with pytest.raises(DropItem, match="missing title: http://127.0.0.1:8000/a/1.html"):
        validate.process_item(sighting(f"{BASE}/a/1.html", title="  "))
    with pytest.raises(DropItem, match="article title selector matched nothing"):
        validate.process_item(ArticleItem("gw", f"{BASE}/a/1.html", None, None, None, None))
    ok = ArticleItem("gw", f"{BASE}/a/1.html", None, None, None, None, listing_title="From listing",
                     related=[sighting("mailto:x@y"), sighting(f"{BASE}/a/2.html", related_from=f"{BASE}/a/1.html")])
    assert validate.process_item(ok) is ok
    assert [s.url for s in ok.related] == [f"{BASE}/a/2.html"]  # the bad entry goes, the article stays


def test_normalize_canonical_url_clean_title_and_dates_in_source_zone() -> None:
    normalize = NormalizeArticle(["from"], SHANGHAI, NOW)
    rec = normalize.process_item(sighting(f"{BASE}/a/1001.html?from=home#top", title="  A &amp; B\x07 ",
                                          date_text=" 12-30 "))
    assert isinstance(rec, ItemRecord)
    assert rec.url == f"{BASE}/a/1001.html"
    assert rec.title == "A & B"
    assert rec.date_text == "12-30"  # raw text kept
    # 12-30 seen on 2026-01-05 is last year's: midnight Shanghai = 16:00 UTC the day before.
    assert rec.published == datetime(2025, 12, 29, 16, 0, tzinfo=UTC)
    related = normalize.process_item(sighting(f"{BASE}/a/2.html", related_from=f"{BASE}/a/1.html?from=x"))
    assert related.related_from == f"{BASE}/a/1.html"
    page = ArticleItem("gw", f"{BASE}/a/3.html?from=y", "", "2024-06-04 16:20", " s ", "<p>c</p>",
                       listing_title="Listing title", related=[sighting(f"{BASE}/a/4.html#x", related_from=f"{BASE}/a/3.html")])
    group = normalize.process_item(page)
    assert isinstance(group, RecordGroup)
    article, entry = group.records
    assert article.is_article and article.title == "Listing title" and article.summary == "s"
    assert article.url == f"{BASE}/a/3.html" and article.published == datetime(2024, 6, 4, 8, 20, tzinfo=UTC)
    assert (entry.url, entry.related_from, entry.listing_kind) == (f"{BASE}/a/4.html", article.url, "related")


def test_crawl_clock() -> None:
    assert crawl_clock("2026-01-05T12:00:00+08:00") == NOW
    assert crawl_clock("2026-01-05T04:00:00") == NOW
    assert crawl_clock(None).tzinfo is not None


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds(b"1") == 1.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_seconds(b"soon") is None and retry_after_seconds(None) is None


def _records(n: int) -> list[ItemRecord]:
    return [ItemRecord("gw", f"{BASE}/a/{i}.html", f"T{i}", listing_id="latest", listing_kind="latest", rank=i)
            for i in range(n)]


def _store(session_factory: sessionmaker[Session], items: list[ItemRecord], batch: int) -> StoreArticle:
    pipeline = StoreArticle(session_factory, None, NOW, batch)

    async def go() -> None:
        for item in items:
            await pipeline.process_item(item)
        await pipeline.close_spider()

    asyncio.run(go())
    return pipeline


def _setup(session_factory: sessionmaker[Session]) -> None:
    cfg = parse_config({"sources": [{"id": "gw", "title": "GW", "start_urls": [BASE + "/"],
                                     "listings": [{"id": "latest", "heading": "x"}]}]})
    with session_factory() as session, session.begin():
        sync_sources(session, cfg.sources, NOW)


def test_store_batches_and_counts(session_factory: sessionmaker[Session]) -> None:
    _setup(session_factory)
    pipeline = _store(session_factory, _records(7) + _records(3), batch=3)
    assert pipeline.batches == 4  # 10 records in batches of 3 (the last one flushed at close)
    assert len(pipeline.urls_seen) == 7 and len(pipeline.new_ids) == 7
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 7


def test_related_sighting_waits_for_its_article(session_factory: sessionmaker[Session]) -> None:
    _setup(session_factory)
    origin = f"{BASE}/a/100.html"
    early = [ItemRecord("gw", f"{BASE}/a/{i}.html", f"R{i}", listing_id="related", listing_kind="related", rank=i,
                        related_from=origin) for i in (1, 2)]
    article = ItemRecord("gw", origin, "Origin", is_article=True, content="<p>x</p>")
    # Batch size 1: had the sightings been written before the article, their links would be lost.
    _store(session_factory, [*early, RecordGroup([article])], batch=1)
    with session_factory() as session:
        links = session.execute(select(RelatedLink.rank).order_by(RelatedLink.rank)).scalars().all()
        assert links == [1, 2]


def test_store_failure_keeps_earlier_batches(session_factory: sessionmaker[Session]) -> None:
    _setup(session_factory)
    bad = ItemRecord("unknown-source", f"{BASE}/a/x.html", "X", listing_id="latest", listing_kind="latest", rank=1)
    pipeline = _store(session_factory, [*_records(2), bad, *_records(2)], batch=2)
    assert pipeline.failed
    with session_factory() as session:  # the first batch committed; the failing one rolled back whole
        assert session.scalar(select(func.count()).select_from(Item)) == 2


def test_a_full_database_counts_every_item_it_could_not_keep(tmp_path: Path) -> None:
    from sqlalchemy import event, text

    from feedsvc.store import Store

    store = Store.open(f"sqlite:///{tmp_path / 'full.db'}")
    try:
        _setup(store.session_factory)
        with store.engine.connect() as conn:
            pages = int(conn.execute(text("PRAGMA page_count")).scalar_one())

        # A real SQLITE_FULL ("database or disk is full"), as on a full disk: the file may grow a few pages only.
        @event.listens_for(store.engine, "connect")
        def cap(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 8}")

        store.engine.dispose()
        big = [ItemRecord("gw", f"{BASE}/big/{n}.html", f"Big {n}", is_article=True, content="<p>" + "x" * 3000 + "</p>")
               for n in range(60)]
        from scrapy import Spider
        from scrapy.utils.test import get_crawler

        stats = get_crawler(Spider).stats
        assert stats is not None
        pipeline = StoreArticle(store.session_factory, None, NOW, 5, stats)

        async def go() -> None:
            for record in big:
                await pipeline.process_item(record)
            await pipeline.close_spider()

        asyncio.run(go())
        assert pipeline.failed
        with store.session_factory() as session:
            kept = session.scalar(select(func.count()).select_from(Item)) or 0
        assert 0 < kept < 60
        message = str(stats.get_value("feedsvc/storage_error"))
        assert "full" in message and f"; {60 - kept} item(s) seen but not stored" in message, message
    finally:
        store.close()

