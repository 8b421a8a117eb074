"""`python -m crawler.node --redis URL`: a crawl node. Takes sources from a shared Redis list and crawls them
in this one process, as a CrawlProcess that stays open, until stopped.

The list is fed by `feedsvc crawl --redis` or the scheduler (feedsvc.scheduling.queue); the node reads it
with scrapy-redis's RedisSpider (the engine's own "feed a spider from Redis" mechanism: when the spider idles,
it pops a batch of entries). Here the spider fetches nothing itself: each entry is a source to crawl, and the
node pops only as many as its window has room for, so nodes share the work by how fast they finish. The lease
of each source keeps two nodes (or a node and a scheduler) from crawling it at once, and since a source is
crawled by one node, that node's download slot keeps the site's politeness. Emits the same JSON events as
crawler.run; `feedsvc worker` runs this process and the after-crawl hook for what it reports.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from crawler.run import Emitter
from feedsvc.config import AppConfig, SourceConfig, cron_trigger, load_config, parse_now
from feedsvc.errors import CrawlExit, FeedsvcError

log = logging.getLogger("crawler.node")


# A queue entry's crawl clock may lag (it waited in the list) but not lead the node's clock by more than this.
CLOCK_SKEW = timedelta(minutes=5)
TRIGGERS = ("manual", "schedule", "retry")


class Rejected(FeedsvcError):
    """A queue entry this node will not crawl (and says why)."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.source = source


def admit(cfg: AppConfig, data: bytes, real_now: datetime,
          last_start: Callable[[str], datetime | None]) -> tuple[SourceConfig, str, datetime]:
    """What a queue entry may crawl: an enabled source of this node's own config, with a known trigger, a crawl
    clock not ahead of ours, and not sooner after its last run than `min_gap` allows. Raises Rejected (the list
    is writable by anyone with Redis access: its entries are requests, not orders)."""
    try:
        job = json.loads(data)
        source_id = str(job["source"])
    except (ValueError, KeyError, TypeError):
        raise Rejected(f"not a queue entry: {data[:200]!r}") from None
    source = next((s for s in cfg.sources if s.id == source_id), None)
    if source is None or not source.enabled:
        raise Rejected(f"{source_id!r} is not an enabled source of {cfg.path or 'this node config'}", source_id)
    trigger = str(job.get("trigger") or "manual")
    if trigger not in TRIGGERS:
        raise Rejected(f"unknown trigger {trigger!r}", source_id)
    try:
        now = parse_now(job.get("now")) or real_now.replace(microsecond=0)
    except (ValueError, FeedsvcError):
        raise Rejected(f"bad crawl clock {job.get('now')!r}", source_id) from None
    if now > real_now + CLOCK_SKEW:
        raise Rejected(f"crawl clock {now.isoformat()} is ahead of this node's", source_id)
    last = last_start(source_id)
    gap = min_gap(cfg, source)
    if last is not None and real_now - last < gap:
        raise Rejected(f"crawled {int((real_now - last).total_seconds())}s ago; this source waits "
                       f"{int(gap.total_seconds())}s between crawls", source_id)
    return source, trigger, now


def min_gap(cfg: AppConfig, source: SourceConfig) -> timedelta:
    """The least time between two crawls of `source` a node accepts: half the shorter of its schedule's
    shortest gap and the retry backoff (jitter moves firings closer; a retry must still pass)."""
    sched = cfg.scheduler
    trigger = cron_trigger(source.schedule or sched.default_schedule, sched.timezone)
    fire = trigger.get_next_fire_time(None, datetime(2026, 1, 1, tzinfo=UTC))
    shortest = timedelta(days=366)
    for _ in range(64):  # enough firings to see the shortest gap of any crontab line within a few weeks
        following = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        if following is None or fire is None:
            break
        shortest, fire = min(shortest, following - fire), following
    return min(shortest, timedelta(seconds=sched.retry_backoff)) / 2


def _last_start(crawl: Any, source_id: str) -> datetime | None:
    from feedsvc.store.runs import last_started

    with crawl.session_factory() as session:
        return last_started(session, source_id)


def feeder(batch: Any, cfg: AppConfig, redis_url: str, key: str, idle_close: int) -> Any:
    """A function that starts the feed spider on a CrawlerProcess and returns its crawl deferred."""
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy_redis.spiders import RedisMixin

    class SourceFeed(RedisMixin, Spider):  # type: ignore[misc]  # scrapy-redis ships no types
        name = "feedsvc_sources"
        redis_key = key
        max_idle_time = idle_close

        @classmethod
        def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
            spider = super().from_crawler(crawler, *args, **kwargs)
            spider.setup_redis(crawler)
            return spider

        async def start(self) -> Any:  # the first entries at once; later ones when the spider idles
            self.schedule_next_requests()
            return
            yield

        def schedule_next_requests(self) -> None:
            # Pop only what the window can start now: the rest stays in the list for this or another node.
            self.redis_batch_size = batch.free_slots()
            if self.redis_batch_size > 0:
                super().schedule_next_requests()

        def make_request_from_data(self, data: bytes) -> list[Any]:
            try:
                source, trigger, now = admit(cfg, data, datetime.now(UTC), lambda s: _last_start(batch, s))
                batch.add(source, trigger, now)
            except Rejected as exc:
                batch.emit("rejected", source=exc.source, message=f"queue entry rejected: {exc}")
            except FeedsvcError as exc:
                batch.emit("log", message=f"error: cannot crawl queue entry {data[:200]!r}: {exc}")
            return []  # nothing to download for the feed itself

    def start(process: Any) -> Any:
        crawler = Crawler(SourceFeed, {"REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
                                       "MEMUSAGE_ENABLED": False}, init_reactor=not process.reactor_ready)
        process.reactor_ready = True
        return process.crawl(crawler)

    return start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.node", description="Crawl sources from Redis.")
    parser.add_argument("--config", default=None, help="config file (default: $FEEDSVC_CONFIG, else ./config.toml)")
    parser.add_argument("--redis", required=True, metavar="URL", help="e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--key", required=True,
                        help="Redis list of sources to crawl (feedsvc.scheduling.queue.QUEUE_KEY, passed by `feedsvc worker`)")
    parser.add_argument("--window", type=int, default=None, help="sources crawled at once")
    parser.add_argument("--idle-exit", type=int, default=0, metavar="SECONDS",
                        help="stop after this long with nothing to do (default 0: never)")
    parser.add_argument("--progress-json", action="store_true")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    try:
        from crawler.process import CrawlProcess

        cfg = load_config(args.config)
        batch = CrawlProcess(cfg, [], datetime.now(UTC), Emitter(args.progress_json), window=args.window,
                           verbose=args.verbose)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _sig, _frame: batch.stop_requested.set())
        batch.emit("worker", pid=_pid(), key=args.key, window=batch.window)
        states = batch.run(feeder=feeder(batch, cfg, args.redis, args.key, args.idle_exit))
    except FeedsvcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CrawlExit.CONFIG
    return CrawlExit.OK if all(s.status is None or s.status.succeeded for s in states) else CrawlExit.FAILED


def _pid() -> int:
    import os

    return os.getpid()


if __name__ == "__main__":
    sys.exit(main())
