"""`python -m crawler.worker --redis URL`: a crawl node. Takes sources from a shared Redis list and crawls them
in this one process, as a BatchCrawl that stays open, until stopped.

The list is fed by `feedsvc crawl --redis` or the scheduler (feedsvc.scheduling.dispatch); the node reads it
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
from datetime import UTC, datetime
from typing import Any

from crawler.run import Emitter
from feedsvc.config import AppConfig, load_config, parse_now
from feedsvc.errors import CrawlExit, FeedsvcError

log = logging.getLogger("crawler.worker")

QUEUE_KEY = "feedsvc:sources"


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
                job = json.loads(data)
                source = cfg.source(str(job["source"]))
                now = parse_now(job.get("now")) or datetime.now(UTC).replace(microsecond=0)
                batch.add(source, str(job.get("trigger") or "manual"), now)
            except (ValueError, KeyError, FeedsvcError) as exc:
                batch.emit("log", message=f"error: cannot crawl queue entry {data!r}: {exc}")
            return []  # nothing to download for the feed itself

    def start(process: Any) -> Any:
        crawler = Crawler(SourceFeed, {"REDIS_URL": redis_url, "LOG_LEVEL": "WARNING", "TELNETCONSOLE_ENABLED": False,
                                       "MEMUSAGE_ENABLED": False}, init_reactor=not process.reactor_ready)
        process.reactor_ready = True
        return process.crawl(crawler)

    return start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler.worker", description="Crawl sources from Redis.")
    parser.add_argument("--config", default=None, help="config file (default: $FEEDSVC_CONFIG, else ./config.toml)")
    parser.add_argument("--redis", required=True, metavar="URL", help="e.g. redis://127.0.0.1:6379/0")
    parser.add_argument("--key", default=QUEUE_KEY, help=f"Redis list of sources to crawl (default {QUEUE_KEY})")
    parser.add_argument("--window", type=int, default=None, help="sources crawled at once")
    parser.add_argument("--idle-exit", type=int, default=0, metavar="SECONDS",
                        help="stop after this long with nothing to do (default 0: never)")
    parser.add_argument("--progress-json", action="store_true")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    args = parser.parse_args(argv)
    try:
        from crawler.batch import BatchCrawl

        cfg = load_config(args.config)
        batch = BatchCrawl(cfg, [], datetime.now(UTC), Emitter(args.progress_json), window=args.window,
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
