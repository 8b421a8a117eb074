"""Downloader middlewares and hooks: polite retries (backoff, Retry-After), always-revalidating HTTP cache policy,
a cache storage that survives damaged files, and the `crawl_error` signal through which the spider reports problems to crawler/run.py.
"""

from __future__ import annotations

import logging
from time import monotonic
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader import Downloader, Slot
from scrapy.downloadermiddlewares.httpcache import HttpCacheMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.extensions.httpcache import FilesystemCacheStorage, RFC2616Policy
from scrapy.http import Request, Response
from scrapy.utils.asyncio import call_later
from scrapy.utils.defer import _schedule_coro, deferred_to_future
from scrapy.utils.response import response_status_message
from twisted.internet import defer

from feedsvc.errors import retry_after_seconds  # the one reader of Retry-After

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

log = logging.getLogger(__name__)

# Signal sent with kind=, url=, message= whenever the crawl meets a problem worth recording on the run.
crawl_error = object()
# Signal sent with url=, status=, cached= for every page the spider parsed (drives progress output).
page_crawled = object()


class RevalidatePolicy(RFC2616Policy):
    """RFC 2616 caching, but a cached page is never trusted as fresh: every request revalidates.

    Listing pages change without telling caches (a Last-Modified from months ago would make RFC 2616's
    heuristic treat the copy as fresh for days and we would miss new items). Revalidating with
    If-None-Match / If-Modified-Since means an unchanged page costs a 304, a changed one a normal 200.
    """

    def is_cached_response_fresh(self, cachedresponse: Response, request: Request) -> bool:
        self._set_conditional_validators(request, cachedresponse)
        return False

    def is_cached_response_valid(self, cachedresponse: Response, response: Response, request: Request) -> bool:
        # A 5xx must surface as an error (and be retried), not be hidden behind an old copy.
        return response.status == 304


class RevalidatingCacheMiddleware(HttpCacheMiddleware):
    """The HTTP cache without its "serve the cached copy when the download fails" recovery: a dead site must
    show up as errors on the run, not as pages that merely were not modified."""

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> None:
        request.meta.pop("cached_response", None)
        return None


class TolerantCacheStorage(FilesystemCacheStorage):
    """The filesystem HTTP cache, where a damaged entry (truncated by a full disk or a kill mid-write) is a cache
    miss: the page is fetched again and the entry rewritten. One warning per crawl, not a traceback per page."""

    _warned = False

    def retrieve_response(self, spider: Any, request: Request) -> Response | None:
        try:
            return super().retrieve_response(spider, request)
        except Exception as exc:  # gzip, pickle and OS errors all mean the same here: the copy is unusable
            if not self._warned:
                self._warned = True
                log.warning("damaged HTTP cache entry for url=%s (%s: %s) in %s; treating damaged entries as "
                            "misses (they are rewritten)", request.url, exc.__class__.__name__, exc, self.cachedir)
            return None


async def _sleep(seconds: float) -> None:
    from twisted.internet import reactor

    d: defer.Deferred[None] = defer.Deferred()
    clock: Any = reactor
    clock.callLater(seconds, d.callback, None)
    await deferred_to_future(d)


class BackoffRetryMiddleware(RetryMiddleware):
    """RetryMiddleware that waits before each retry: the server's Retry-After when given (capped by
    RETRY_AFTER_MAX; beyond it we give up rather than hold the crawl), else exponential backoff
    RETRY_BACKOFF_BASE * 2**(n-1) capped by RETRY_BACKOFF_MAX."""

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.backoff_max = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 300.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        mw = cls(crawler.settings)
        mw.crawler = crawler
        return mw

    def _backoff(self, request: Request) -> float:
        attempt = int(request.meta.get("retry_times", 0)) + 1
        return float(min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1)))

    async def process_response(  # type: ignore[override]
        self, request: Request, response: Response, spider: Any = None
    ) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait is not None and wait > self.retry_after_max:
            log.warning("giving up url=%s: Retry-After %.0fs exceeds RETRY_AFTER_MAX", request.url, wait)
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        delay = wait if wait is not None else self._backoff(request)
        log.info("retrying url=%s in %.1fs (status %s)", request.url, delay, response.status)
        await _sleep(delay)
        return retry

    async def process_exception(  # type: ignore[override]
        self, request: Request, exception: Exception, spider: Any = None
    ) -> Request | Response | None:
        if request.meta.get("dont_retry", False) or not isinstance(exception, self.exceptions_to_retry):
            return None
        retry = self._retry(request, exception)
        if retry is None:
            return None
        delay = self._backoff(request)
        log.info("retrying url=%s in %.1fs (%s)", request.url, delay, exception.__class__.__name__)
        await _sleep(delay)
        return retry



class PoliteDownloader(Downloader):
    """Scrapy's downloader, holding each slot to its concurrency when it has no delay too.

    Scrapy 2.19 marks a request as transferring only once its download coroutine runs, after `_process_queue`
    has handed out every queued request of the slot: with a delay of 0, a site with concurrency 1 got 9 requests
    at once (tests/test_crawler_shared.py). The request is marked here, as it leaves the queue (`_download`
    adds it again, to a set, and removes it when done)."""

    def _process_queue(self, slot: Slot) -> None:
        if slot.latercall:
            return
        now = monotonic()
        delay = slot.download_delay()
        if delay:
            penalty = delay - now + slot.lastseen
            if penalty > 0:
                slot.latercall = call_later(penalty, self._latercall, slot)
                return
        while slot.queue and slot.free_transfer_slots() > 0:
            slot.lastseen = now
            request, queue_dfd = slot.queue.popleft()
            slot.transferring.add(request)
            _schedule_coro(self._wait_for_download(slot, request, queue_dfd))
            if delay:  # one at a time when requests are spaced
                self._process_queue(slot)
                break
