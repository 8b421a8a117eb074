"""Item pipelines: ValidateArticle → NormalizeArticle → StoreArticle (no SQL here; storage is feedsvc.store).

Validate drops what cannot become an item (with the reason); Normalize turns spider items into ItemRecords
(clean titles, canonical URLs, dates parsed with the crawl clock in the source's time zone, raw date text
kept); Store writes them in batches, one transaction per batch, so a killed crawl never leaves half a batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from scrapy.exceptions import DropItem, NotConfigured

from crawler.dates import parse_date, parse_machine_date
from crawler.items import ArticleItem, ListingSighting
from crawler.urls import canonical_url
from feedsvc.config import parse_now
from feedsvc.errors import FeedsvcError
from feedsvc.store.items import ItemRecord, StoreResult
from feedsvc.text import clean_scraped_title

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from sqlalchemy.orm import Session, sessionmaker

    from feedsvc.store import Store

log = logging.getLogger(__name__)
WEB_SCHEMES = ("http://", "https://")
MAX_DATE_TEXT = 200  # Item.date_text's width


def crawl_clock(value: str | None) -> datetime:
    """The crawl's `now`: FEEDSVC_NOW (ISO 8601, from --now) or the current time; always aware UTC."""
    return parse_now(value) or datetime.now(UTC)


def sighting_problem(item: ListingSighting) -> str | None:
    """Why a listing entry cannot become an item, or None when it can."""
    where = f"listing '{item.listing_id}' on {item.page_url}"
    if not item.url or not item.url.lower().startswith(WEB_SCHEMES):
        return f"not a web link: {item.url!r} ({where})"
    if not (item.title or "").strip():
        return f"missing title: {item.url} ({where}; the title selector matched nothing)"
    return None


class ValidateArticle:
    """Drop items that cannot become feed entries, saying which and why (an article's unusable related
    entries are removed from it and logged, the article itself stays)."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ListingSighting):
            problem = sighting_problem(item)
            if problem:
                raise DropItem(problem)
        elif isinstance(item, ArticleItem):
            if not item.url.lower().startswith(WEB_SCHEMES):
                raise DropItem(f"not a web link: {item.url!r} (article page)")
            if not (item.title or "").strip() and not (item.listing_title or "").strip():
                raise DropItem(f"missing title: {item.url} (article title selector matched nothing)")
            kept = []
            for entry in item.related:
                problem = sighting_problem(entry)
                if problem:
                    log.debug("dropped related entry: %s", problem)
                else:
                    kept.append(entry)
            item.related = kept
        return item


@dataclass(frozen=True, slots=True)
class RecordGroup:
    """An article page's records: the article first, then its related entries (stored together, in order)."""

    records: list[ItemRecord]


class NormalizeArticle:
    """ListingSighting → ItemRecord, ArticleItem → RecordGroup: the source's URL rules, time zone, crawl clock.

    The same URLs and date texts recur on every page (related blocks, sidebars), so results are memoised.
    """

    CACHE_LIMIT = 100_000

    def __init__(self, drop_query_params: list[str], tz: ZoneInfo, now: datetime, drop_tracking: bool = True) -> None:
        self.drop = list(drop_query_params)
        self.drop_tracking = drop_tracking
        self.tz = tz
        self.now = now
        self._urls: dict[str, str] = {}
        self._dates: dict[str, datetime | None] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizeArticle:
        s = crawler.settings
        return cls(s.getlist("FEEDSVC_DROP_QUERY_PARAMS"), ZoneInfo(s.get("FEEDSVC_TIMEZONE", "UTC")),
                   crawl_clock(s.get("FEEDSVC_NOW")), s.getbool("FEEDSVC_DROP_TRACKING_PARAMS", True))

    def _url(self, url: str) -> str:
        found = self._urls.get(url)
        if found is None:
            if len(self._urls) > self.CACHE_LIMIT:
                self._urls.clear()
            found = self._urls[url] = canonical_url(url, self.drop, self.drop_tracking)
        return found

    def _date(self, text: str | None, value: str | None = None) -> datetime | None:
        """A machine-readable value (exact instant) beats the shown text; either may be a machine form."""
        if value:
            exact = parse_machine_date(value, self.tz)
            if exact is not None:
                return exact
        if not text or not text.strip():
            return None
        if text not in self._dates:
            if len(self._dates) > self.CACHE_LIMIT:
                self._dates.clear()
            self._dates[text] = parse_machine_date(text, self.tz) or parse_date(text, self.now, self.tz)
        return self._dates[text]

    def _aliases(self, urls: list[str], url: str) -> tuple[str, ...]:
        kept: dict[str, None] = {}
        for alias in urls:
            try:
                kept[self._url(alias)] = None
            except ValueError:  # a redirect through an over-long URL: the item keeps its other names
                continue
        return tuple(alias for alias in kept if alias != url)

    def sighting(self, item: ListingSighting) -> ItemRecord:
        return ItemRecord(
            source_id=item.source_id, url=self._url(item.url), title=clean_scraped_title(item.title or "") or None,
            published=self._date(item.date_text, item.date_value), date_text=_date_text(item.date_text),
            listing_id=item.listing_id, listing_kind=item.kind, rank=item.rank,
            related_from=self._url(item.related_from) if item.related_from else None,
        )

    def process_item(self, item: Any) -> Any:
        try:
            return self._normalize(item)
        except ValueError as exc:  # crawler/offsite.py drops such links first; a redirect can still lead to one
            raise DropItem(f"unusable URL: {exc}") from None

    def _normalize(self, item: Any) -> Any:
        if isinstance(item, ListingSighting):
            return self.sighting(item)
        if isinstance(item, ArticleItem):
            url = self._url(item.url)
            title = clean_scraped_title(item.title or "") or clean_scraped_title(item.listing_title or "") or None
            article = ItemRecord(
                source_id=item.source_id, url=url, title=title,
                published=self._date(item.date_text), date_text=_date_text(item.date_text),
                is_article=True, summary=(item.summary or "").strip() or None, content=item.content_html or None,
                aliases=self._aliases(item.aliases, url),
            )
            return RecordGroup([article, *(self.sighting(entry) for entry in item.related)])
        return item


def _date_text(text: str | None) -> str | None:
    """The date text as shown, within its column (String(200)): longer text is no date, and PostgreSQL would
    refuse the whole batch for it."""
    return (text or "").strip()[:MAX_DATE_TEXT] or None


_STORES: dict[str, Store] = {}
_LOCKS: dict[int, asyncio.Lock] = {}


def shared_store(url: str) -> Store:
    """One Store (one connection pool) per database for the whole crawler process, however many sources it
    crawls at once: a pool per source would open hundreds of connections."""
    from feedsvc.store import Store

    store = _STORES.get(url)
    if store is None:
        store = _STORES[url] = Store.open(url, migrate=False)  # crawler.run migrated it before the crawl
    return store


def close_shared_stores() -> None:
    for store in _STORES.values():
        store.close()
    _STORES.clear()


def _write_lock() -> asyncio.Lock:
    """One writer at a time per process (per event loop): SQLite takes one writer anyway, and batches of
    concurrent sources queue here instead of failing on a locked database."""
    loop_id = id(asyncio.get_running_loop())
    lock = _LOCKS.get(loop_id)
    if lock is None:
        lock = _LOCKS[loop_id] = asyncio.Lock()
    return lock


class StoreArticle:
    """Batch ItemRecords into `feedsvc.store.items.store_items`, one transaction per batch.

    A related sighting is held back until the article it came from has been queued, so the article's row
    exists when the link is written. Totals go to crawler stats (feedsvc/items_seen, items_new, new_item_ids).
    """

    def __init__(self, session_factory: sessionmaker[Session], run_id: int | None,
                 at: datetime, batch_size: int, stats: StatsCollector | None = None) -> None:
        self.session_factory = session_factory
        self.run_id = run_id
        self.at = at
        self.batch_size = batch_size
        self.stats = stats
        self.buffer: list[ItemRecord] = []
        self.articles_queued: set[str] = set()
        self.waiting: dict[str, list[ItemRecord]] = defaultdict(list)
        self.urls_seen: set[str] = set()
        self.new_ids: list[int] = []
        self.batches = 0
        self.failed = False
        self.storage_error = ""
        self.lost_urls: set[str] = set()  # items of the failed batch and of every batch after it
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StoreArticle:

        s = crawler.settings
        url = s.get("FEEDSVC_DATABASE_URL")
        if not url:
            raise NotConfigured("FEEDSVC_DATABASE_URL is not set")
        run_id = s.getint("FEEDSVC_RUN_ID") or None
        pipeline = cls(shared_store(url).session_factory, run_id, crawl_clock(s.get("FEEDSVC_NOW")),
                       s.getint("FEEDSVC_BATCH_SIZE", 200), crawler.stats)
        pipeline.crawler = crawler
        return pipeline

    async def process_item(self, item: Any) -> Any:
        records = item.records if isinstance(item, RecordGroup) else [item] if isinstance(item, ItemRecord) else []
        for record in records:
            self._queue(record)
        if len(self.buffer) >= self.batch_size:
            await self._flush()
        return item

    def _queue(self, item: ItemRecord) -> None:
        if item.is_article:
            self.articles_queued.add(item.url)
            self.buffer.append(item)
            self.buffer.extend(self.waiting.pop(item.url, []))
        elif item.related_from and item.related_from not in self.articles_queued:
            self.waiting[item.related_from].append(item)
        else:
            self.buffer.append(item)

    async def close_spider(self) -> None:
        for records in self.waiting.values():  # their article never came (dropped or failed): store the items
            self.buffer.extend(records)
        self.waiting.clear()
        await self._flush()

    async def _flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if not batch:
            return
        if self.failed:  # nothing more is written after a failed write: what came after is lost too, and said
            self._lose(batch)
            return
        # One writer at a time, in order; the write runs off the reactor thread so downloads continue.
        async with _write_lock():
            try:
                result = await asyncio.to_thread(self._write, batch)
            except FeedsvcError as exc:
                self._fail(exc, batch)
                return
        self.batches += 1
        self.urls_seen.update(r.url for r in batch)
        self.new_ids.extend(result.new_item_ids)
        if self.stats is not None:
            self.stats.set_value("feedsvc/items_seen", len(self.urls_seen))
            self.stats.set_value("feedsvc/items_new", len(self.new_ids))
            self.stats.set_value("feedsvc/new_item_ids", list(self.new_ids))
            self.stats.set_value("feedsvc/batches", self.batches)

    def _lose(self, batch: list[ItemRecord]) -> None:
        """Count a batch that was not stored into the run's storage error (items stored earlier are not lost)."""
        self.lost_urls.update(r.url for r in batch if r.url not in self.urls_seen)
        if self.stats is not None:
            self.stats.set_value("feedsvc/storage_error",
                                 f"{self.storage_error}; {len(self.lost_urls)} item(s) seen but not stored")

    def _write(self, batch: list[ItemRecord]) -> StoreResult:
        from feedsvc.store.db import write_transaction
        from feedsvc.store.items import store_items

        with write_transaction(self.session_factory) as session:  # a full disk fails at commit: counted too
            return store_items(session, batch, self.run_id, self.at)

    def _fail(self, exc: Exception, batch: list[ItemRecord]) -> None:
        """A write failed: the batch is rolled back; stop the crawl rather than fetch pages we cannot keep."""
        self.failed = True
        self.storage_error = str(exc)
        log.error("storing items failed: %s", exc)
        self._lose(batch)
        if self.crawler is not None and self.crawler.engine is not None:
            # Not awaited: closing waits for this pipeline's own close_spider.
            asyncio.ensure_future(self.crawler.engine.close_spider_async(reason="storage_error"))
