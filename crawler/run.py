"""`python -m crawler.run SOURCE [SOURCE ...] --config PATH`: the only place a crawler process starts.

One process crawls one or many sources concurrently (crawler.process): each source takes its lease, opens a crawl
run, runs ArticleListSpider with the pipelines, records every problem on its run and closes it as
ok | partial | failed | aborted. What happens after a crawl (related items, publishing) is the launching side's
job (feedsvc.after_crawl), fed by the new item ids each `done` event carries. Failures become one readable line
and an exit code (feedsvc.errors.CrawlExit): 0 every source ok/partial, 1 a source failed or was aborted,
2 config or database error, 3 another process holds a source's lease.
With --progress-json, stdout carries one JSON event per line (start, crawling, page, items, error, done, busy).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime
from typing import Any

from feedsvc.config import AppConfig, load_config, parse_now
from feedsvc.errors import CrawlExit, FeedsvcError

log = logging.getLogger("crawler.run")


class Emitter:
    """Progress: JSON lines on stdout for a parent process, or short human lines on stderr."""

    def __init__(self, json_lines: bool) -> None:
        self.json_lines = json_lines
        self._lock = threading.Lock()

    def __call__(self, event: str, **data: Any) -> None:
        with self._lock:
            if self.json_lines:
                print(json.dumps({"event": event, **data}, ensure_ascii=False, default=str), flush=True)
            elif event == "log":
                print(data.get("message"), file=sys.stderr, flush=True)
            elif event in ("start", "error", "done", "busy"):
                detail = " ".join(f"{k}={v}" for k, v in data.items() if k not in ("counts", "new_item_ids"))
                print(f"{event}: {detail}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crawler.run", description="Crawl configured sources.")
    parser.add_argument("sources", nargs="*", metavar="SOURCE", help="source ids from the config")
    parser.add_argument("--config", default=None, help="config file (default: $FEEDSVC_CONFIG, else ./config.toml)")
    parser.add_argument("--now", default=None, help="crawl clock, ISO 8601 (default: now); makes runs reproducible")
    parser.add_argument("--trigger", choices=("manual", "schedule", "retry"), default="manual")
    parser.add_argument("--progress-json", action="store_true", help="print one JSON event per line on stdout")
    parser.add_argument("--preview", action="store_true", help="fetch live, print what is extracted, store nothing")
    parser.add_argument("--url", default=None, help="with --preview: inspect this page instead of the start URL")
    parser.add_argument("--suggest", metavar="URL", default=None, help="print a suggested [[sources]] block for URL")
    parser.add_argument("--heal", action="store_true",
                        help="fetch the start pages, print JSON lines for listings whose renamed block was found again")
    parser.add_argument("--id", default=None, help="with --suggest: the source id")
    parser.add_argument("--title", default=None, help="with --suggest: the source title")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="Scrapy log detail (-vv debug)")
    parser.add_argument("--window", type=int, default=None,
                        help="sources crawled at once (default: [crawl] concurrent_sources)")
    parser.add_argument("--source-timeout", type=float, default=None,
                        help="close a source's crawl after this many seconds (its run ends partial)")
    parser.add_argument("--crawler-per-source", action="store_true",
                        help="give every source a Scrapy Crawler of its own (default: sources share one)")
    # Items per store transaction (default: the pipeline's); tests/e2e/test_crawl.py kills a crawl between batches.
    parser.add_argument("--batch-size", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_intermixed_args(argv)  # sources may come after options too


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        now = parse_now(args.now) or datetime.now(UTC).replace(microsecond=0)
        if args.suggest:
            from crawler.discover.fetch import run_suggest

            cfg = load_config(args.config) if args.config else AppConfig()
            return run_suggest(cfg, args.suggest, args.id, args.title, now, args.verbose)
        if not args.sources:
            raise FeedsvcError("name the sources to crawl: python -m crawler.run SOURCE [SOURCE ...]")
        cfg = load_config(args.config)
        sources = [cfg.source(source_id) for source_id in dict.fromkeys(args.sources)]
        if args.heal:
            from crawler.discover.fetch import run_heal

            return run_heal(cfg, sources[0], now, args.verbose)
        if args.preview:
            from crawler.preview import run_preview

            return run_preview(cfg, sources[0], args.url, now, args.verbose)
        from crawler.process import CrawlProcess

        batch = CrawlProcess(cfg, sources, now, Emitter(args.progress_json), trigger=args.trigger,
                             window=args.window, verbose=args.verbose, batch_size=args.batch_size,
                             source_timeout=args.source_timeout, shared=not args.crawler_per_source)
        # Until Scrapy installs its own handlers, a stop signal is noted and honoured once the reactor runs
        # (every run still gets closed as aborted) instead of killing the process with runs left open.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _sig, _frame: batch.stop_requested.set())
        states = batch.run()
    except FeedsvcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return CrawlExit.CONFIG
    for state in states:
        if state.holder is not None:
            print(f"error: source {state.source.id!r} is being crawled by another process ({state.holder}); "
                  "wait for it to finish or for its lease to expire", file=sys.stderr)
    if any(s.status is not None and not s.status.succeeded for s in states):
        return CrawlExit.FAILED
    if any(s.holder is not None for s in states):
        return CrawlExit.LEASE_HELD
    return CrawlExit.OK if all(s.status is not None and s.status.succeeded for s in states) else CrawlExit.FAILED


def exit_now(code: int) -> None:
    """End the process without the interpreter's teardown: after a crawl it spent ~0.7 CPU-s (a fifth of a
    300-page crawl) freeing the heap object by object, and joining idle threads, for a process about to vanish.
    Every run is closed and the store shut by now; only the standard streams and log handlers need flushing."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nobody is reading
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
