"""Many sources in one Scrapy Crawler: one engine, one downloader (a download slot per host gives politeness),
and per source everything that was per Crawler before: its spider, fence, HTTP cache, pipelines and stats.

A Crawler costs ~50 ms CPU and ~0.5 MB (bench/README.md, "Towards 10,000 sources"); a source here costs its own
objects only. Each source lives in a `SourceScope`, which looks like a Crawler to the components written for one
(settings, stats, signals, spider, engine.close_spider_async), so ArticleListSpider, the fence, the cache
middleware and the pipelines are the very same classes, built per source. Every request a source's spider makes
carries the source id in its meta (`SOURCE_META`); thin routers registered on the shared Crawler hand each request,
response and item to its source's components.

A source is done when none of its requests is waiting in the scheduler (counted by `CountingScheduler`) or in
progress in the engine (from the scheduler to the end of its callback's output, items stored included): then its
pipelines flush and its spider closes, as Scrapy would close a Crawler of its own.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any, Self

from scrapy import Spider, signals
from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from scrapy.signalmanager import SignalManager
from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.defer import Deferred

from crawler.middlewares import RevalidatingCacheMiddleware
from crawler.offsite import ROBOTS_MAX_BYTES, FenceMiddleware, FenceSpiderMiddleware
from crawler.pipelines import NormalizeArticle, StoreArticle, ValidateArticle
from crawler.stop import CrawlStopped

log = logging.getLogger(__name__)

SOURCE_META = "feedsvc_source"
SETTLE_SECONDS = 0.2  # how often finished sources are looked for


class ScopedSettings(BaseSettings):
    """A source's own values (FEEDSVC_*, its cache directory) over the shared Crawler's settings."""

    def __init__(self, values: dict[str, Any], parent: BaseSettings) -> None:
        self.parent = parent
        super().__init__(values, priority="project")

    def __getitem__(self, name: Any) -> Any:
        attr = self.attributes.get(name)
        return attr.value if attr is not None else self.parent[name]


class _SourceEngine:
    """What components call on `crawler.engine` to stop a crawl: here it stops only their source."""

    def __init__(self, spider: SharedSpider, source_id: str) -> None:
        self.spider, self.source_id = spider, source_id

    async def close_spider_async(self, *, reason: str = "cancelled") -> None:
        self.spider.close_source(self.source_id, reason)


class SourceScope:
    """One source inside the shared Crawler, shaped like the Crawler its components expect."""

    def __init__(self, source_id: str, values: dict[str, Any], spider_kwargs: dict[str, Any]) -> None:
        self.source_id = source_id
        self.values, self.spider_kwargs = values, spider_kwargs
        self.signals = SignalManager(self)
        self.done: Deferred[None] = Deferred()
        self.reason: str | None = None  # why it was closed early (lease_lost, storage_error, a timeout)
        self.finishing = False
        self.started = 0.0
        self.settings: Any = None
        self.stats: Any = None
        self.engine: Any = None
        self.spider: Any = None
        self.request_fingerprinter: Any = None

    def open(self, shared: SharedSpider) -> list[Request]:
        """Build the source's components against the shared Crawler; return its first requests."""
        from crawler.spiders.listing import ArticleListSpider

        crawler = shared.crawler
        self.settings = ScopedSettings(self.values, crawler.settings)
        self.stats = MemoryStatsCollector(self)  # type: ignore[arg-type]
        self.engine = _SourceEngine(shared, self.source_id)
        self.request_fingerprinter = crawler.request_fingerprinter
        self.spider = ArticleListSpider.from_crawler(self, **self.spider_kwargs)
        self.spider.request_tag = {SOURCE_META: self.source_id}
        self.fence = FenceMiddleware(self)  # type: ignore[arg-type]
        self.link_fence = FenceSpiderMiddleware(self)  # type: ignore[arg-type]
        self.cache = RevalidatingCacheMiddleware.from_crawler(self)  # type: ignore[arg-type]
        self.validate = ValidateArticle()
        self.normalize = NormalizeArticle.from_crawler(self)  # type: ignore[arg-type]
        self.store = StoreArticle.from_crawler(self)  # type: ignore[arg-type]
        self.started = time.monotonic()
        self.signals.send_catch_log(signal=signals.spider_opened, spider=self.spider)
        requests: list[Request] = self.spider.first_requests()
        return requests

    async def close(self, reason: str) -> None:
        """Flush its items, then close its spider (its end-of-crawl checks) as Scrapy closes a Crawler's."""
        await self.store.close_spider()
        self.stats.set_value("elapsed_time_seconds", round(time.monotonic() - self.started, 3))
        self.signals.send_catch_log(signal=signals.spider_closed, spider=self.spider, reason=reason)


class SharedSpider(Spider):
    """The shared Crawler's spider: starts nothing itself; sources are admitted (`SharedCrawl.admit`) and
    leave when done. It stays open until the process stops it."""

    name = "feedsvc_shared"

    def __init__(self, hub: SharedCrawl, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hub = hub
        self.scopes: dict[str, SourceScope] = {}
        self.pending: Counter[str] = Counter()  # source → its requests in the scheduler (CountingScheduler)
        self._settle_loop: Any = None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._opened, signal=signals.spider_opened)
        crawler.signals.connect(spider._idle, signal=signals.spider_idle)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        return
        yield  # an async generator that yields nothing

    def _opened(self, spider: Any) -> None:
        from twisted.internet.task import LoopingCall

        self._settle_loop = LoopingCall(self._settle)
        self._settle_loop.start(SETTLE_SECONDS, now=False)
        self.hub.opened(self)

    def _idle(self, spider: Any) -> None:
        raise DontCloseSpider  # more sources may come; the process ends the crawl

    async def _closed(self, spider: Any, reason: str) -> None:
        if self._settle_loop is not None and self._settle_loop.running:
            self._settle_loop.stop()
        for scope in list(self.scopes.values()):
            if not scope.finishing:
                scope.reason = scope.reason or reason
                await self._finish(scope)

    def admit(self, scope: SourceScope) -> None:
        self.scopes[scope.source_id] = scope
        try:
            requests = scope.open(self)
        except Exception as exc:
            del self.scopes[scope.source_id]
            scope.done.errback(exc)
            return
        engine = self.crawler.engine
        assert engine is not None
        for request in requests:
            engine.crawl(request)

    def stats_for(self, request: Request) -> Any:
        """The stats of the request's source (crawler/browser.py counts a rendered page's blocked requests)."""
        scope = self.scopes.get(request.meta.get(SOURCE_META, ""))
        return scope.stats if scope is not None else None

    def close_source(self, source_id: str, reason: str) -> None:
        """Stop one source: its queued requests are dropped (the fence router drops the rest as they come)."""
        scope = self.scopes.get(source_id)
        if scope is None or scope.reason is not None:
            return
        scope.reason = reason
        downloader = getattr(self.crawler.engine, "downloader", None)
        for slot in list(getattr(downloader, "slots", {}).values()):
            kept = [(r, d) for r, d in slot.queue if r.meta.get(SOURCE_META) != source_id]
            dropped = [(r, d) for r, d in slot.queue if r.meta.get(SOURCE_META) == source_id]
            if dropped:
                slot.queue.clear()
                slot.queue.extend(kept)
                for request, deferred in dropped:
                    if not deferred.called:
                        deferred.errback(CrawlStopped(f"source {source_id} closed ({reason}): {request.url} "
                                                      "was not fetched"))

    def _settle(self) -> None:
        """Close every source with nothing left in the scheduler or in progress."""
        if not self.scopes:
            return
        busy = {source for source, count in self.pending.items() if count > 0}
        engine = self.crawler.engine
        # Scrapy's private engine slot (tests/test_dependency_contracts.py pins it): a request is there from the
        # scheduler until its response's callback output (items stored, requests scheduled) is done.
        slot = getattr(engine, "_slot", None)
        for request in getattr(slot, "inprogress", ()):
            source = request.meta.get(SOURCE_META)
            if source is not None:
                busy.add(source)
        for source, scope in list(self.scopes.items()):
            if source not in busy and not scope.finishing:
                deferred_from_coro(self._finish(scope))

    async def _finish(self, scope: SourceScope) -> None:
        scope.finishing = True
        try:
            await scope.close(scope.reason or "finished")
        except Exception as exc:
            self.scopes.pop(scope.source_id, None)
            scope.done.errback(exc)
            return
        self.scopes.pop(scope.source_id, None)
        self.pending.pop(scope.source_id, None)
        scope.done.callback(None)


class SharedCrawl:
    """The process's handle on the shared spider, which exists only once Scrapy opened it: sources admitted
    before wait here."""

    def __init__(self) -> None:
        self.spider: SharedSpider | None = None
        self._waiting: list[SourceScope] = []

    def admit(self, scope: SourceScope) -> Deferred[None]:
        if self.spider is None:
            self._waiting.append(scope)
        else:
            self.spider.admit(scope)
        return scope.done

    def opened(self, spider: SharedSpider) -> None:
        self.spider = spider
        waiting, self._waiting = self._waiting, []
        for scope in waiting:
            spider.admit(scope)

    def close_source(self, source_id: str, reason: str) -> None:
        if self.spider is not None:
            self.spider.close_source(source_id, reason)


# -- the routers on the shared Crawler ------------------------------------------------------------------------------
def _scope(crawler: Any, meta: dict[str, Any] | None) -> SourceScope | None:
    source = (meta or {}).get(SOURCE_META)
    spider = crawler.spider
    return spider.scopes.get(source) if source is not None and spider is not None else None


class CountingScheduler(Scheduler):
    """Scrapy's scheduler, counting each source's requests waiting in it."""

    def open(self, spider: Any) -> Any:
        self.pending: Counter[str] = spider.pending
        return super().open(spider)

    def enqueue_request(self, request: Request) -> bool:
        queued = super().enqueue_request(request)
        source = request.meta.get(SOURCE_META)
        if queued and source is not None:
            self.pending[source] += 1
        return queued

    def next_request(self) -> Request | None:
        request = super().next_request()
        if request is not None:
            source = request.meta.get(SOURCE_META)
            if source is not None:
                self.pending[source] -= 1
        return request


class _Router:
    """A component of the shared Crawler that hands each request, response or item to its source's own."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> Self:
        return cls(crawler)


class SourceFenceRouter(_Router):
    """First downloader middleware: each request through its source's fence; a closed source's requests are
    dropped before they wait for a slot. Requests of no source (robots.txt, asked for by a request that passed
    its fence) are not fenced again."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self.unscoped = FenceMiddleware(crawler)  # robots.txt failures: one warning, as for one source

    async def process_request(self, request: Request, spider: Any = None) -> None:
        scope = _scope(self.crawler, request.meta)
        if scope is None:
            if SOURCE_META in request.meta:
                raise CrawlStopped(f"source {request.meta[SOURCE_META]} is done: {request.url} was not fetched")
            if not request.meta.get("dont_obey_robotstxt"):
                raise CrawlStopped(f"request of no source refused: {request.url}")
            request.meta.setdefault("download_maxsize", ROBOTS_MAX_BYTES)
            return None
        if scope.reason is not None:
            raise CrawlStopped(f"source {scope.source_id} closed ({scope.reason}): {request.url} was not fetched")
        return await scope.fence.process_request(request)

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Response | None:
        scope = _scope(self.crawler, request.meta)
        return (scope.fence if scope is not None else self.unscoped).process_exception(request, exception)


class _RobotsCacheScope:
    """What the HTTP cache middleware needs of a Crawler, for the robots.txt files of every source: Scrapy asks
    for a host's robots.txt once per Crawler, on no source's behalf, so they share one cache directory
    (FEEDSVC_ROBOTS_CACHE_DIR) and are revalidated (a 304) instead of fetched in full every crawl."""

    def __init__(self, crawler: Any) -> None:
        self.settings = ScopedSettings({"HTTPCACHE_ENABLED": True,
                                        "HTTPCACHE_DIR": crawler.settings["FEEDSVC_ROBOTS_CACHE_DIR"]},
                                       crawler.settings)
        self.stats = crawler.stats
        self.signals = SignalManager(self)
        self.spider = crawler.spider
        self.request_fingerprinter = crawler.request_fingerprinter


class SourceCacheRouter(_Router):
    """The HTTP cache downloader middleware of each request's source (its own cache directory), and of the
    robots.txt requests that belong to no source (one cache for them all)."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._robots: RevalidatingCacheMiddleware | None = None

    def _cache(self, request: Request) -> RevalidatingCacheMiddleware | None:
        scope = _scope(self.crawler, request.meta)
        if scope is not None:
            return scope.cache
        if not request.meta.get("dont_obey_robotstxt") or SOURCE_META in request.meta:
            return None
        if not self.crawler.settings.get("FEEDSVC_ROBOTS_CACHE_DIR") or self.crawler.spider is None:
            return None
        if self._robots is None:
            robots = _RobotsCacheScope(self.crawler)
            self._robots = RevalidatingCacheMiddleware.from_crawler(robots)  # type: ignore[arg-type]
            robots.signals.send_catch_log(signal=signals.spider_opened, spider=self.crawler.spider)
        return self._robots

    def process_request(self, request: Request, spider: Any = None) -> Any:
        cache = self._cache(request)
        return cache.process_request(request) if cache is not None else None

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Any:
        cache = self._cache(request)
        return cache.process_response(request, response) if cache is not None else response

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Any:
        cache = self._cache(request)
        return cache.process_exception(request, exception) if cache is not None else None


class SourceLinkRouter(_Router):
    """Spider middleware: what a source's callback yields goes through that source's link fence."""

    def _fence(self, response: Any) -> FenceSpiderMiddleware | None:
        scope = _scope(self.crawler, getattr(response, "meta", None) if response is not None else None)
        return scope.link_fence if scope is not None else None

    def process_spider_output(self, response: Response, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        fence = self._fence(response)
        if fence is None:
            yield from result
            return
        yield from fence.process_spider_output(response, result)

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        fence = self._fence(response)
        async for obj in result:
            if fence is None:
                yield obj
                continue
            kept = fence._filter(obj)
            if kept is not None:
                yield kept


class SourcePipelines(_Router):
    """The item pipelines (validate → normalize → store) of each item's source."""

    async def process_item(self, item: Any) -> Any:
        scope = _scope(self.crawler, {SOURCE_META: getattr(item, "source_id", None)})
        if scope is None:
            return item
        return await scope.store.process_item(scope.normalize.process_item(scope.validate.process_item(item)))
