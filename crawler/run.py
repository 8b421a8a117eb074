"""`python -m crawler.run SOURCE --config PATH`: the only place a crawler process starts.

One process crawls one source: it takes the source's lease, opens a crawl run, runs ArticleListSpider with
the pipelines, records every problem on the run, closes it as ok | partial | failed | aborted and refreshes
related items for what was new. Failures become one readable line and an exit code:
0 ok/partial, 1 failed, 2 config or database error, 3 another process holds the source's lease.
With --progress-json, stdout carries one JSON event per line (start, page, items, error, done).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from crawler.lease import LeaseKeeper
from feedsvc.config import AppConfig, SourceConfig, load_config
from feedsvc.errors import FeedsvcError
from feedsvc.records import RunCounts

log = logging.getLogger("crawler.run")
EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_LEASE_HELD = 0, 1, 2, 3


class Emitter:
    """Progress: JSON lines on stdout for a parent process, or short human lines on stderr."""

    def __init__(self, json_lines: bool) -> None:
        self.json_lines = json_lines
        self._lock = threading.Lock()

    def __call__(self, event: str, **data: Any) -> None:
        with self._lock:
            if self.json_lines:
                print(json.dumps({"event": event, **data}, ensure_ascii=False, default=str), flush=True)
            elif event in ("start", "error", "done"):
                detail = " ".join(f"{k}={v}" for k, v in data.items() if k not in ("counts",))
                print(f"{event}: {detail}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crawler.run", description="Crawl one configured source.")
    parser.add_argument("source", nargs="?", help="source id from the config")
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
    parser.add_argument("--no-related", action="store_true",
                        help="skip the related-items refresh after the crawl (rebuild later: feedsvc related --rebuild)")
    parser.add_argument("--batch-size", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def parse_now(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FeedsvcError(f"--now {value!r} is not an ISO 8601 time, e.g. 2026-01-05T08:00:00+08:00") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.heal:
            from crawler.discover.fetch import run_heal

            cfg = load_config(args.config)
            return run_heal(cfg, cfg.source(args.source or ""), parse_now(args.now), args.verbose)
        if args.suggest:
            from crawler.discover.fetch import run_suggest

            cfg = load_config(args.config) if args.config else AppConfig()
            return run_suggest(cfg, args.suggest, args.id, args.title, parse_now(args.now), args.verbose)
        if not args.source:
            raise FeedsvcError("name the source to crawl: python -m crawler.run SOURCE")
        cfg = load_config(args.config)
        source = cfg.source(args.source)
        now = parse_now(args.now)
        if args.preview:
            from crawler.preview import run_preview

            return run_preview(cfg, source, args.url, now, args.verbose)
        return crawl(cfg, source, now, args)
    except FeedsvcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG


def crawl(cfg: AppConfig, source: SourceConfig, now: datetime, args: argparse.Namespace) -> int:
    from feedsvc import store as repository

    emit = Emitter(args.progress_json)
    store = repository.Store.for_config(cfg)
    session_factory = store.session_factory
    with store.transaction() as session:
        repository.sync_sources(session, cfg.sources, now)
    keeper = LeaseKeeper(session_factory, f"crawl:{source.id}", timedelta(seconds=cfg.scheduler.lease_ttl))
    holder = keeper.acquire()
    if holder is not None:
        print(f"error: source {source.id!r} is being crawled by another process ({holder}); "
              "wait for it to finish or for its lease to expire", file=sys.stderr)
        return EXIT_LEASE_HELD
    try:
        with session_factory() as session, session.begin():
            run_id = repository.start_run(session, source.id, now, pid=os.getpid(), trigger=args.trigger)
        emit("start", source=source.id, run_id=run_id, pid=os.getpid(), now=now.isoformat())
        return _crawl_run(cfg, source, now, args, emit, session_factory, keeper, run_id)
    finally:
        keeper.release()
        store.close()


def _crawl_run(cfg: AppConfig, source: SourceConfig, now: datetime, args: argparse.Namespace, emit: Emitter,
               session_factory: Any, keeper: LeaseKeeper, run_id: int) -> int:
    from feedsvc import store as repository

    started = time.monotonic()
    state = _CrawlState(source.id, run_id, now, session_factory, emit)
    keeper.start(state.save_progress)
    try:
        result = _run_spider(cfg, source, now, args, run_id, state, keeper)
    except Exception as exc:  # a bug or an environment problem: close the run with one readable line
        log.debug("crawl crashed", exc_info=True)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        result = {"reason": "crashed", "error": f"{exc.__class__.__name__}{': ' + detail if detail else ''}"}
        print(f"error: crawl of {source.id!r} crashed: {result['error']} (run with -vv for details)", file=sys.stderr)
    counts = state.counts()
    status, message = _verdict(result, counts, state, keeper.lost.is_set())
    at = now + timedelta(seconds=time.monotonic() - started)
    with session_factory() as session, session.begin():
        repository.finish_run(session, run_id, status, counts, at, message)
        if state.report is not None and status in ("ok", "partial"):
            repository.record_listing_pages(session, source.id, state.report.found_pages, at)
    emit("done", source=source.id, run_id=run_id, status=status, counts=asdict(counts), message=message,
         elapsed_seconds=state.stats.get("elapsed_time_seconds"))
    if state.new_ids and not args.no_related:
        started_related = time.monotonic()
        ok = _refresh_related(cfg, session_factory, state.new_ids, at)
        emit("related", items=len(state.new_ids), ok=ok, seconds=round(time.monotonic() - started_related, 2))
    if status in ("ok", "partial") and cfg.server.publish_dir:
        from feedsvc.feeds.publish import publish_if_configured

        published = publish_if_configured(cfg)
        emit("published", ok=published is not None, dir=str(cfg.resolve_path(cfg.server.publish_dir)))
    return EXIT_OK if status in ("ok", "partial") else EXIT_FAILED


class _CrawlState:
    """What the crawl learned so far; fed by Scrapy signals on the reactor thread."""

    def __init__(self, source_id: str, run_id: int, now: datetime, session_factory: Any, emit: Emitter) -> None:
        self.source_id, self.run_id, self.now = source_id, run_id, now
        self.session_factory = session_factory
        self.emit = emit
        self.report: Any = None
        self.stats: dict[str, Any] = {}
        self.new_ids: list[int] = []
        self.errors: list[tuple[str, str | None, str]] = []
        self._last_items = 0.0

    def on_error(self, kind: str, url: str | None, message: str) -> None:
        from feedsvc.store import record_crawl_error

        self.errors.append((kind, url, message))
        self.emit("error", kind=kind, url=url, message=message)
        try:  # recorded at once, so a run killed later still shows what went wrong
            with self.session_factory() as session, session.begin():
                record_crawl_error(session, self.source_id, self.run_id, url, kind, message, datetime.now(UTC))
        except FeedsvcError as exc:
            log.warning("could not record crawl error: %s", exc)

    def on_page(self, url: str, status: int, cached: bool, crawler: Any) -> None:
        self.emit("page", url=url, status=status, cached=cached)
        if time.monotonic() - self._last_items > 0.5:
            self._last_items = time.monotonic()
            stats = crawler.stats
            self.emit("items", seen=stats.get_value("feedsvc/items_seen", 0),
                      new=stats.get_value("feedsvc/items_new", 0))

    def counts(self) -> RunCounts:
        report = self.report
        return RunCounts(
            pages=report.pages if report else 0,
            not_modified=report.not_modified if report else 0,
            items_seen=int(self.stats.get("feedsvc/items_seen", 0)),
            items_new=int(self.stats.get("feedsvc/items_new", 0)),
            errors=len(self.errors),
            listing_counts=dict(report.listing_counts) if report else {},
        )

    def save_progress(self, session: Any) -> None:
        from feedsvc.store import update_run_progress

        if self.report is not None:
            update_run_progress(session, self.run_id, self.counts())


def _run_spider(cfg: AppConfig, source: SourceConfig, now: datetime, args: argparse.Namespace, run_id: int,
                state: _CrawlState, keeper: LeaseKeeper) -> dict[str, Any]:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.middlewares import crawl_error, page_crawled
    from crawler.settings import scrapy_settings, source_follows_articles, source_max_pages
    from crawler.spiders.listing import ArticleListSpider

    settings = scrapy_settings(cfg, source)
    settings.update(FEEDSVC_RUN_ID=run_id, FEEDSVC_NOW=now.isoformat(),
                    LOG_LEVEL=("WARNING", "INFO", "DEBUG")[min(args.verbose, 2)])
    if args.batch_size:
        settings["FEEDSVC_BATCH_SIZE"] = args.batch_size
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ArticleListSpider)
    result: dict[str, Any] = {}

    def on_opened(spider: Any) -> None:
        state.report = spider.report

    def on_closed(spider: Any, reason: str) -> None:
        result["reason"] = reason
        state.stats = dict(crawler.stats.get_stats() if crawler.stats else {})
        state.new_ids = list(state.stats.get("feedsvc/new_item_ids", []))

    def on_page(url: str, status: int, cached: bool) -> None:
        state.on_page(url, status, cached, crawler)
        if keeper.lost.is_set() and crawler.engine is not None and not result.get("closing"):
            result["closing"] = True
            asyncio.ensure_future(crawler.engine.close_spider_async(reason="lease_lost"))

    crawler.signals.connect(on_opened, signal=signals.spider_opened)
    crawler.signals.connect(on_closed, signal=signals.spider_closed)
    crawler.signals.connect(state.on_error, signal=crawl_error)
    crawler.signals.connect(on_page, signal=page_crawled)

    def on_spider_error(failure: Any, response: Any, spider: Any) -> None:
        exc = failure.value
        state.on_error("parse", response.url, f"could not extract from {response.url}: {exc.__class__.__name__}: {exc}")

    def on_item_error(item: Any, response: Any, spider: Any, failure: Any) -> None:
        url = getattr(item, "url", None) or (response.url if response is not None else None)
        state.on_error("pipeline", url, f"could not process item {url}: {failure.value.__class__.__name__}: {failure.value}")

    crawler.signals.connect(on_spider_error, signal=signals.spider_error)
    crawler.signals.connect(on_item_error, signal=signals.item_error)
    from feedsvc.store import known_listing_pages

    with state.session_factory() as session:
        known = known_listing_pages(session, source.id)
    process.crawl(crawler, source=source, follow_articles=source_follows_articles(cfg, source),
                  max_pages=source_max_pages(cfg, source), known_pages=known,
                  held=_listing_memory(state.session_factory, source.id))
    process.start()
    # Scrapy's SIGTERM/SIGINT handlers need the (now stopped) reactor: restore the defaults so the steps
    # after the crawl can still be interrupted.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if crawler.stats is not None:  # again: CoreStats adds elapsed_time_seconds after our spider_closed handler
        state.stats = dict(crawler.stats.get_stats()) or state.stats
    return result


def _listing_memory(session_factory: Any, source_id: str) -> dict[str, list[tuple[str, str]]]:
    """What each listing showed before (for healing a renamed block); a read failure only disables healing."""
    from feedsvc.store import listing_memory

    try:
        with session_factory() as session:
            return listing_memory(session, source_id)
    except FeedsvcError as exc:
        log.warning("listing memory unavailable, healing disabled source=%s: %s", source_id, exc)
        return {}


def _verdict(result: dict[str, Any], counts: RunCounts, state: _CrawlState, lease_lost: bool) -> tuple[str, str]:
    reason = result.get("reason", "crashed")
    summary = (f"{counts.pages} page(s) ({counts.not_modified} not modified), {counts.items_seen} item(s) "
               f"({counts.items_new} new), {counts.errors} error(s)")
    if state.report is not None and state.report.budget_exhausted:
        summary += "; max_pages reached, some pages were left for the next run"
    summary += _skipped_note(state.stats)
    first_error = f"; first error: {state.errors[0][2]}" if state.errors else ""
    storage = state.stats.get("feedsvc/storage_error")
    if result.get("error"):
        return "failed", f"crawler crashed: {result['error']}; {summary}"
    if storage:
        return "failed", f"database write failed: {storage}"
    if lease_lost:
        return "aborted", f"lost the crawl lease (another process took over); {summary}"
    if reason in ("shutdown", "crashed"):
        return "aborted", f"stopped before finishing ({reason}); {summary}"
    if counts.pages == 0 and state.report is not None and state.report.robots_blocked and not state.errors:
        blocked = state.report.robots_blocked
        return "failed", (f"nothing could be fetched: robots.txt forbids it ({len(blocked)} page(s) blocked, "
                          f"e.g. {blocked[0]}; see {_robots_url(blocked[0])})")
    if counts.pages == 0:
        return "failed", f"nothing could be fetched{first_error or ''}{_skipped_note(state.stats)}"
    if counts.errors:
        return "partial", summary + first_error
    if reason not in ("finished", "closespider_pagecount"):
        return "partial", f"{summary}; spider closed: {reason}"
    return "ok", summary


def _skipped_note(stats: dict[str, Any]) -> str:
    """"; 12 offsite link(s) skipped (e.g. …)" for what crawler/offsite.py kept the crawl from, or ""."""
    from crawler.offsite import MALFORMED_EXAMPLE_STAT, MALFORMED_STAT, OFFSITE_EXAMPLE_STAT, OFFSITE_STAT

    note = ""
    if stats.get(OFFSITE_STAT):
        note += f"; {stats[OFFSITE_STAT]} offsite link(s) skipped (e.g. {stats.get(OFFSITE_EXAMPLE_STAT)})"
    if stats.get(MALFORMED_STAT):
        note += f"; {stats[MALFORMED_STAT]} malformed link(s) skipped (e.g. {stats.get(MALFORMED_EXAMPLE_STAT)})"
    return note


def _robots_url(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


def _refresh_related(cfg: AppConfig, session_factory: Any, new_ids: list[int], at: datetime) -> bool:
    """Relate the new items (feedsvc.related.refresh, when installed); its failure never fails the crawl."""
    from feedsvc.store import bump_data_version

    try:
        from feedsvc.related.refresh import refresh_related  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        log.debug("feedsvc.related.refresh not available; related items not refreshed")
        return False
    try:
        with session_factory() as session, session.begin():
            refresh_related(session, new_ids, cfg, at)
            # Entries end with "Related" links: cached feeds built before this refresh are stale now.
            bump_data_version(session)
    except Exception:
        log.exception("related-items refresh failed for %d new item(s); the crawl itself succeeded", len(new_ids))
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
