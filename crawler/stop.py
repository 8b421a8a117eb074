"""Stopping a crawl promptly: the requests waiting in a download slot for their politeness delay are dropped.

Scrapy's graceful stop closes each spider with reason "shutdown" but waits for every request already handed to
the downloader, and those queued in a slot are then fetched one by one at the delay: a large polite crawl outlives
its grace period. Dropping them (downloads under way still finish) ends the crawl within one download; the run is
aborted with what was stored kept, and the next run fetches the rest.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import IgnoreRequest


class CrawlStopped(IgnoreRequest):
    """A request dropped because the crawl is stopping: not the site's error, and nothing to resume from."""


def drop_queued_requests(crawler: Any) -> int:
    """Fail every request of `crawler` still waiting in a download slot's queue; return how many there were.

    Reads Scrapy's private `Downloader.slots[key].queue` of `(request, deferred)` pairs
    (tests/test_dependency_contracts.py pins its shape)."""
    engine = getattr(crawler, "engine", None)
    downloader = getattr(engine, "downloader", None)
    if downloader is None:
        return 0
    dropped = 0
    for slot in list(downloader.slots.values()):
        while slot.queue:
            request, deferred = slot.queue.popleft()
            dropped += 1
            if not deferred.called:
                deferred.errback(CrawlStopped(f"the crawl is stopping: {request.url} was not fetched"))
    return dropped
