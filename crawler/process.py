"""CrawlProcess: one Scrapy process crawling many sources at once, each with its own run, lease and verdict.

Sources share one Scrapy Crawler (crawler/shared.py: one engine, a download slot per host, each source's own
spider, fence, cache and pipelines), which costs far less per source than a Crawler each (bench/README.md); a
source whose delay differs from the crawl's gets a `Crawler` of its own (its settings give its slots its delay),
as does every source with `shared=False` (`python -m crawler.run --crawler-per-source`). All share one reactor. At most `window` sources crawl at a time; as one finishes the next starts, so a
thousand sources never all start together and one slow or hanging source holds only its own place. Leases and
runs are taken for every source up front (a killed batch leaves them all to be marked aborted and completed
next run); each run closes the moment its source finishes. Problems become one readable line per source.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.browser import BLOCKED_EXAMPLE_STAT, BLOCKED_STAT
from crawler.offsite import MALFORMED_EXAMPLE_STAT, MALFORMED_STAT, OFFSITE_EXAMPLE_STAT, OFFSITE_STAT
from feedsvc.config import AppConfig, SourceConfig
from feedsvc.config.hosts import HostBudget, source_hosts
from feedsvc.errors import FeedsvcError
from feedsvc.models import ErrorKind, RunStatus
from feedsvc.store.leases import LeaseKeeper, lease_name
from feedsvc.store.runs import RunCounts

log = logging.getLogger("crawler.run")

Emit = Callable[..., None]
# Libraries whose debug records are many (one or more per page) and shown only with -vv.
QUIET_LOGGERS = ("scrapy", "trafilatura", "htmldate", "courlan")


@dataclass
class SourceCrawl:
    """One source in a batch: what its crawl learned so far (fed by Scrapy signals on the reactor thread)."""

    source: SourceConfig
    run_id: int = 0
    holder: str | None = None  # set when another process held the lease: the source was not crawled
    started: float | None = None  # monotonic time its crawler started
    report: Any = None
    crawler: Any = None
    stats: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[ErrorKind, str | None, str]] = field(default_factory=list)
    reason: str | None = None  # why the spider closed; None while it runs
    crash: str | None = None
    closing: bool = False
    status: RunStatus | None = None
    now: datetime | None = None  # this source's crawl clock when it differs from the batch's (worker jobs)
    trigger: str | None = None
    receivers: list[tuple[Callable[..., None], object]] = field(default_factory=list)
    _last_items: float = 0.0

    @property
    def hosts(self) -> frozenset[str]:
        return source_hosts(self.source)

    @property
    def new_ids(self) -> list[int]:
        return [int(i) for i in self.stats.get("feedsvc/new_item_ids", [])]

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

    def verdict(self, lease_lost: bool) -> tuple[RunStatus, str]:
        counts = self.counts()
        reason = self.reason or "crashed"
        summary = (f"{counts.pages} page(s) ({counts.not_modified} not modified), {counts.items_seen} item(s) "
                   f"({counts.items_new} new), {counts.errors} error(s)")
        if self.report is not None and self.report.budget_exhausted:
            summary += "; max_pages reached, some pages were left for the next run"
        summary += _skipped_note(self.stats)
        first_error = f"; first error: {self.errors[0][2]}" if self.errors else ""
        storage = self.stats.get("feedsvc/storage_error")
        if self.crash:
            return RunStatus.FAILED, f"crawler crashed: {self.crash}; {summary}"
        if storage:
            return RunStatus.FAILED, f"database write failed: {storage}"
        if lease_lost:
            return RunStatus.ABORTED, f"lost the crawl lease (another process took over); {summary}"
        if reason == "not_started":
            return RunStatus.ABORTED, "stopped before this source's turn came; the next run crawls it"
        if reason in ("shutdown", "crashed"):
            return RunStatus.ABORTED, f"stopped before finishing ({reason}); {summary}"
        if counts.pages == 0 and self.report is not None and self.report.robots_blocked and not self.errors:
            blocked = self.report.robots_blocked
            return RunStatus.FAILED, (f"nothing could be fetched: robots.txt forbids it ({len(blocked)} page(s) "
                                      f"blocked, e.g. {blocked[0]}; see {_robots_url(blocked[0])})")
        if counts.pages == 0:
            return RunStatus.FAILED, f"nothing could be fetched{first_error}{_skipped_note(self.stats)}"
        if counts.errors:
            return RunStatus.PARTIAL, summary + first_error
        if reason not in ("finished", "closespider_pagecount"):
            return RunStatus.PARTIAL, f"{summary}; spider closed: {reason}"
        return RunStatus.OK, summary


def _skipped_note(stats: dict[str, Any]) -> str:
    """"; 12 offsite link(s) skipped (e.g. …)" for what crawler/offsite.py kept the crawl from, or ""."""
    note = ""
    if stats.get(OFFSITE_STAT):
        note += f"; {stats[OFFSITE_STAT]} offsite link(s) skipped (e.g. {stats.get(OFFSITE_EXAMPLE_STAT)})"
    if stats.get(MALFORMED_STAT):
        note += f"; {stats[MALFORMED_STAT]} malformed link(s) skipped (e.g. {stats.get(MALFORMED_EXAMPLE_STAT)})"
    if stats.get(BLOCKED_STAT):
        note += f"; {stats[BLOCKED_STAT]} rendered-page request(s) blocked (e.g. {stats.get(BLOCKED_EXAMPLE_STAT)})"
    return note


def _robots_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/robots.txt"


class CrawlProcess:
    """Crawl `sources` in this process; `run()` returns each source's state with its final status."""

    def __init__(self, cfg: AppConfig, sources: list[SourceConfig], now: datetime, emit: Emit, *,
                 trigger: str = "manual", window: int | None = None, verbose: int = 0,
                 batch_size: int | None = None, source_timeout: float | None = None, shared: bool = True) -> None:
        self.cfg, self.now, self.emit, self.trigger = cfg, now, emit, trigger
        self.states = [SourceCrawl(s) for s in sources]
        self.window = max(1, window or cfg.crawl.concurrent_sources)
        self.verbose, self.batch_size, self.source_timeout = verbose, batch_size, source_timeout
        self.started_at = time.monotonic()
        # Set by a SIGTERM/SIGINT that came before Scrapy's own handlers were installed (crawler.run sets it).
        self.stop_requested = threading.Event()
        self._queue: deque[SourceCrawl] = deque()
        self._active = 0
        # Sources sharing a host with one crawling now wait in _held; a finished source's hosts stay taken for
        # its delay (_cooling counts those), so the next source's first request keeps the gap.
        self._hosts = HostBudget()
        self._held: list[SourceCrawl] = []
        self._cooling = 0
        self._reactor_stopping = False
        self.keep_running = False  # a worker's batch stays open for sources that arrive later (crawler.node)
        self.process: Any = None
        # Sources crawl inside one shared Crawler (crawler/shared.py) unless they need one of their own.
        self.shared = shared
        self._hub: Any = None
        self._running: dict[str, SourceCrawl] = {}  # shared sources crawling now, by id

    # -- the batch ---------------------------------------------------------------------------------------------
    def run(self, feeder: Callable[[Any], Any] | None = None) -> list[SourceCrawl]:
        """Crawl the batch; with `feeder` (a worker), also start it on the process (`feeder(process)`), keep
        the batch open for sources it adds, and end when it ends."""
        from feedsvc.store import Store
        from feedsvc.store.runs import start_run
        from feedsvc.store.sources import sync_sources

        store = Store.for_config(self.cfg)
        self.session_factory = store.session_factory
        with store.transaction() as session:
            # Only this crawl's sources: the list of active sources belongs to the entry point that owns the
            # config (the scheduler service), and this child's config may be another file on the same database.
            sync_sources(session, [s.source for s in self.states], self.now, deactivate_others=False)
        self.keeper = LeaseKeeper(self.session_factory, timedelta(seconds=self.cfg.scheduler.lease_ttl))
        try:
            # Leases and runs for the whole batch up front, in one transaction each: a killed batch leaves every
            # source with a run to close, and 1,000 sources do not cost 2,000 commits.
            holders = self.keeper.acquire_many([lease_name(s.source.id) for s in self.states])
            with store.transaction() as session:
                for state in self.states:
                    state.holder = holders[lease_name(state.source.id)]
                    if state.holder is None:
                        state.run_id = start_run(session, state.source.id, self.now, pid=os.getpid(),
                                                 trigger=self.trigger)
            for state in self.states:
                if state.holder is not None:
                    self.emit("busy", source=state.source.id, holder=state.holder)
                    continue
                self.emit("start", source=state.source.id, run_id=state.run_id, pid=os.getpid(),
                          now=self.now.isoformat())
                self._queue.append(state)
            if (self._queue or feeder is not None) and not self.stop_requested.is_set():
                self.keeper.start(self._save_progress)
                self._run_reactor(feeder)
            for state in self.states:  # never started (a stop came first) or never reported back
                if state.holder is None and state.status is None:
                    state.reason = state.reason or ("not_started" if state.started is None else "shutdown")
                    self._finish(state)
        finally:
            self.keeper.stop()
            store.close()
        return self.states

    def _run_reactor(self, feeder: Callable[[Any], Any] | None = None) -> None:
        import signal

        from crawler.pipelines import close_shared_stores

        level = ("WARNING", "INFO", "DEBUG")[min(self.verbose, 2)]
        self.process = _Process({"LOG_LEVEL": level, "LOG_FORMAT": "%(asctime)s %(levelname)s %(name)s: %(message)s",
                                 "TELNETCONSOLE_ENABLED": False})
        # Scrapy filters by level only in its root handler (every Crawler resets the root logger to NOTSET), so
        # each "Crawled (200)" and "Scraped from" debug record was built and then dropped: filter at the source.
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(level)
        self.keep_running = feeder is not None
        self._start_next()  # the first crawler installs the reactor; the others start once it runs (_fill)
        if feeder is not None:
            feeder(self.process).addBoth(lambda _: self._feeder_done())
        elif self._active == 0:  # every source failed to start: there is nothing to run the reactor for
            return
        from twisted.internet import reactor as installed

        def early_stop() -> None:  # a stop signal came while we were starting up
            if self.stop_requested.is_set() and not self.process.stopping:
                self.process._signal_shutdown(signal.SIGTERM, None)

        reactor: Any = installed
        reactor.callWhenRunning(early_stop)
        reactor.callWhenRunning(self._fill)
        try:
            self.process.start(stop_after_crawl=False)
        finally:
            close_shared_stores()
        # Scrapy's SIGTERM/SIGINT handlers need the (now stopped) reactor: restore the defaults so the steps
        # after the crawl can still be interrupted.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def _fill(self) -> None:
        """Start sources up to the window, one per reactor turn: a window of hundreds starting in one go would
        hold the reactor (and the first sources' downloads) for seconds."""
        if self._active < self.window and self._start_next():
            from twisted.internet import reactor

            clock: Any = reactor
            clock.callLater(0, self._fill)

    def _start_next(self) -> bool:
        """Start the next source whose hosts are free; False when none could start."""
        while self._queue and not self.process.stopping:
            state = self._queue.popleft()
            if not self._hosts.free(state.hosts):
                self._held.append(state)
                continue
            self._hosts.take(state.hosts)
            try:
                deferred = self._start(state)
            except Exception as exc:  # a bad source must not stop the others
                self._hosts.give_back(state.hosts)
                self._crashed(state, exc)
                continue
            self._active += 1
            deferred.addBoth(lambda _result, s=state: self._crawler_done(s, _result))
            return True
        if self._active == 0 and self._cooling == 0 and not self.keep_running:
            self._stop_reactor()
        return False

    def _release_hosts(self, state: SourceCrawl) -> None:
        self._cooling -= 1
        self._hosts.give_back(state.hosts)
        self._queue.extendleft(reversed(self._held))  # held sources go first, in their order
        self._held.clear()
        self._fill()  # stops the reactor when nothing is left

    def _feeder_done(self) -> None:
        self.keep_running = False
        if self._active == 0:
            self._stop_reactor()

    def free_slots(self) -> int:
        """How many more sources could start right now."""
        return max(0, self.window - self._active - len(self._queue) - len(self._held))

    def add(self, source: SourceConfig, trigger: str, now: datetime) -> None:
        """Take one more source into a running batch (a worker's job): its lease, its run, its turn."""
        from feedsvc.store.runs import start_run
        from feedsvc.store.sources import sync_sources

        state = SourceCrawl(source, now=now, trigger=trigger)
        self.states.append(state)
        with self.session_factory() as session, session.begin():
            sync_sources(session, [source], now, deactivate_others=False)
        state.holder = self.keeper.acquire(lease_name(source.id))
        if state.holder is not None:
            self.emit("busy", source=source.id, holder=state.holder)
            return
        with self.session_factory() as session, session.begin():
            state.run_id = start_run(session, source.id, now, pid=os.getpid(), trigger=trigger)
        self.emit("start", source=source.id, run_id=state.run_id, pid=os.getpid(), now=now.isoformat())
        self._queue.append(state)
        self._fill()

    def _stop_reactor(self) -> None:
        if "twisted.internet.reactor" not in sys.modules:  # importing it would install the wrong reactor
            return
        from twisted.internet import reactor as installed

        reactor: Any = installed
        if reactor.running and not self.process.stopping and not self._reactor_stopping:
            self._reactor_stopping = True  # once: a second reactor.stop raises ReactorNotRunning
            reactor.callLater(0, reactor.stop)  # after a stop signal, Scrapy stops it itself

    def _crawler_done(self, state: SourceCrawl, result: Any) -> None:
        self._active -= 1
        self._running.pop(state.source.id, None)
        if hasattr(result, "value") and state.crash is None and state.reason is None:
            self._crashed(state, result.value)
        if state.crawler is not None and state.crawler.stats is not None:  # CoreStats adds elapsed_time last
            state.stats = dict(state.crawler.stats.get_stats()) or state.stats
        state.crawler, state.receivers = None, []  # let the crawler's memory go while the batch continues
        try:
            self._finish(state)
        except Exception:
            log.exception("could not close the run of source=%s", state.source.id)
        from twisted.internet import reactor

        from crawler.settings import source_delay

        self._cooling += 1
        clock: Any = reactor
        clock.callLater(source_delay(self.cfg, state.source), self._release_hosts, state)
        self._fill()

    def _crashed(self, state: SourceCrawl, exc: BaseException) -> None:
        log.debug("crawl of %s crashed", state.source.id, exc_info=exc)
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        state.crash = f"{exc.__class__.__name__}{': ' + detail if detail else ''}"
        state.reason = state.reason or "crashed"
        self.emit("log", source=state.source.id,
                  message=f"error: crawl of {state.source.id!r} crashed: {state.crash} (run with -vv for details)")

    def _finish(self, state: SourceCrawl) -> None:
        from crawler.settings import http_cache_dir
        from crawler.unrecorded import forget_ends, keep_end, pending_ends
        from feedsvc.store.db import write_transaction
        from feedsvc.store.listing_pages import record_listing_pages
        from feedsvc.store.runs import RunEnd, finish_run, record_crawl_error, record_late_end

        name = lease_name(state.source.id)
        status, message = state.verdict(self.keeper.lost(name))
        counts = state.counts()
        at = (state.now or self.now) + timedelta(seconds=time.monotonic() - (state.started or self.started_at))
        # Ends of earlier runs of this source that a full disk kept out of the database: written now, and said.
        folder = Path(http_cache_dir(self.cfg, state.source))
        earlier = pending_ends(folder, state.source.id)
        message += "".join(f"; run {e.run_id} could not record its end then, recorded now: {e.status}: "
                           f"{e.message[:300]}" for e in earlier)
        try:
            with write_transaction(self.session_factory) as session:
                for end in earlier:
                    record_late_end(session, end)
                finish_run(session, state.run_id, status, counts, at, message)
                blocked = state.report.robots_blocked if state.report is not None else []
                if blocked:  # not an error of the crawl (status stays), but admins should see what robots.txt keeps out
                    record_crawl_error(session, state.source.id, state.run_id, blocked[0], ErrorKind.ROBOTS,
                                       f"robots.txt forbids {len(blocked)} page(s), e.g. {blocked[0]}", at)
                if state.report is not None and status.succeeded:
                    record_listing_pages(session, state.source.id, state.report.found_pages, at)
            forget_ends(folder, earlier)
        except FeedsvcError as exc:  # a full disk: the smallest write that keeps the verdict, else a file
            log.error("could not record the end of run %s source=%s: %s", state.run_id, state.source.id, exc)
            try:
                with write_transaction(self.session_factory) as session:
                    finish_run(session, state.run_id, status, counts, at, message)
            except FeedsvcError as again:
                kept = keep_end(folder, RunEnd(state.run_id, state.source.id, status, message, at, counts))
                message += (f"; this end could not be written to the database ({again})"
                            + ("; the next run of the source records it" if kept else ""))
        state.status = status
        self.keeper.release(name)
        self.emit("done", source=state.source.id, run_id=state.run_id, status=status, counts=asdict(counts),
                  message=message, elapsed_seconds=state.stats.get("elapsed_time_seconds"),
                  new_item_ids=state.new_ids, finished_at=at.isoformat())

    def _save_progress(self, session: Any) -> None:
        from feedsvc.store.runs import update_run_progress

        update_run_progress(session, {state.run_id: state.counts() for state in self.states
                                      if state.report is not None and state.status is None})

    # -- one source ----------------------------------------------------------------------------------------------
    def _start(self, state: SourceCrawl) -> Any:
        from crawler.settings import shares_crawler

        if self.shared and shares_crawler(self.cfg, state.source):
            return self._start_shared(state)
        return self._start_own(state)

    def _start_shared(self, state: SourceCrawl) -> Any:
        """Start the source inside the process's shared Crawler (crawler/shared.py), creating it first."""
        from crawler.settings import source_follows_articles, source_max_pages, source_values
        from crawler.shared import SourceScope

        hub = self._shared_crawl(state.source)
        source = state.source
        values = source_values(self.cfg, source)
        values.update(FEEDSVC_RUN_ID=state.run_id, FEEDSVC_NOW=(state.now or self.now).isoformat())
        if self.batch_size:
            values["FEEDSVC_BATCH_SIZE"] = self.batch_size
        known, held = self._memory(source.id)
        scope = SourceScope(source.id, values, {
            "source": source, "follow_articles": source_follows_articles(self.cfg, source),
            "max_pages": source_max_pages(self.cfg, source), "known_pages": known, "held": held})
        state.crawler = scope
        self._connect(state, scope)
        self._running[source.id] = state
        state.started = time.monotonic()
        self.emit("crawling", source=source.id)
        done = hub.admit(scope)
        if self.source_timeout:
            from twisted.internet import reactor

            clock: Any = reactor
            timer = clock.callLater(self.source_timeout, hub.close_source, source.id, "closespider_timeout")
            done.addBoth(lambda result: (timer.cancel() if timer.active() else None, result)[1])
        return done

    def _shared_crawl(self, source: SourceConfig) -> Any:
        """The process's one shared Crawler (built at its first source); its spider errors reach their source."""
        if self._hub is not None:
            return self._hub
        from scrapy import signals
        from scrapy.crawler import Crawler

        from crawler.settings import crawler_settings, shared_settings
        from crawler.shared import SOURCE_META, SharedCrawl, SharedSpider

        settings = shared_settings(self.cfg, source, self.window)
        settings["LOG_LEVEL"] = ("WARNING", "INFO", "DEBUG")[min(self.verbose, 2)]
        crawler = Crawler(SharedSpider, crawler_settings(settings), init_reactor=not self.process.reactor_ready)
        self.process.reactor_ready = True
        self._hub = hub = SharedCrawl()
        log.info("sources share one Scrapy Crawler (a download slot per host); those needing their own get one")

        def on_spider_error(failure: Any, response: Any, spider: Any) -> None:
            state = self._running.get(response.meta.get(SOURCE_META))
            if state is not None:
                self._spider_error(state, failure, response)

        def on_item_error(item: Any, response: Any, spider: Any, failure: Any) -> None:
            state = self._running.get(str(getattr(item, "source_id", "")))
            if state is not None:
                self._item_error(state, item, response, failure)

        self._shared_receivers = [(on_spider_error, signals.spider_error), (on_item_error, signals.item_error)]
        for receiver, signal in self._shared_receivers:
            crawler.signals.connect(receiver, signal=signal)
        self.process.crawl(crawler, hub=hub).addErrback(
            lambda failure: log.error("the shared crawler failed: %s", failure.getErrorMessage()))
        return hub

    def _start_own(self, state: SourceCrawl) -> Any:
        from scrapy import signals
        from scrapy.crawler import Crawler

        from crawler.settings import (
            crawler_settings,
            scrapy_settings,
            source_follows_articles,
            source_max_pages,
        )
        from crawler.spiders.listing import ArticleListSpider

        source = state.source
        settings = scrapy_settings(self.cfg, source)
        settings.update(FEEDSVC_RUN_ID=state.run_id, FEEDSVC_NOW=(state.now or self.now).isoformat(),
                        MEMUSAGE_ENABLED=False,
                        LOG_LEVEL=("WARNING", "INFO", "DEBUG")[min(self.verbose, 2)])
        if self.batch_size:
            settings["FEEDSVC_BATCH_SIZE"] = self.batch_size
        if self.source_timeout:
            settings["CLOSESPIDER_TIMEOUT"] = self.source_timeout
        # The first crawler installs the reactor, as CrawlerProcess.create_crawler would.
        crawler = Crawler(ArticleListSpider, crawler_settings(settings), init_reactor=not self.process.reactor_ready)
        self.process.reactor_ready = True
        state.crawler = crawler

        def on_spider_error(failure: Any, response: Any, spider: Any) -> None:
            self._spider_error(state, failure, response)

        def on_item_error(item: Any, response: Any, spider: Any, failure: Any) -> None:
            self._item_error(state, item, response, failure)

        self._connect(state, crawler, [(on_spider_error, signals.spider_error), (on_item_error, signals.item_error)])
        known, held = self._memory(source.id)
        state.started = time.monotonic()
        self.emit("crawling", source=source.id)
        return self.process.crawl(crawler, source=source, follow_articles=source_follows_articles(self.cfg, source),
                                  max_pages=source_max_pages(self.cfg, source), known_pages=known, held=held)

    def _connect(self, state: SourceCrawl, crawler: Any, extra: list[tuple[Callable[..., None], object]] = ()) -> None:  # type: ignore[assignment]
        """Follow the source's crawl through its crawler's signals (a Crawler of its own, or its SourceScope)."""
        from scrapy import signals

        from crawler.middlewares import crawl_error, page_crawled

        source = state.source
        lease = lease_name(source.id)

        def on_opened(spider: Any) -> None:
            state.report = spider.report

        def on_closed(spider: Any, reason: str) -> None:
            state.reason = reason
            state.stats = dict(crawler.stats.get_stats() if crawler.stats else {})

        def on_page(url: str, status: int, cached: bool) -> None:
            self.emit("page", source=source.id, url=url, status=status, cached=cached)
            if time.monotonic() - state._last_items > 0.5 and crawler.stats is not None:
                state._last_items = time.monotonic()
                self.emit("items", source=source.id, seen=crawler.stats.get_value("feedsvc/items_seen", 0),
                          new=crawler.stats.get_value("feedsvc/items_new", 0))
            if self.keeper.lost(lease) and crawler.engine is not None and not state.closing:
                state.closing = True
                asyncio.ensure_future(crawler.engine.close_spider_async(reason="lease_lost"))

        def on_error(kind: ErrorKind, url: str | None, message: str) -> None:
            self._record_error(state, kind, url, message)

        # Scrapy holds receivers weakly: the state keeps these closures alive for as long as its crawl runs.
        state.receivers = [(on_opened, signals.spider_opened), (on_closed, signals.spider_closed),
                           (on_error, crawl_error), (on_page, page_crawled), *extra]
        for receiver, signal in state.receivers:
            crawler.signals.connect(receiver, signal=signal)

    def _spider_error(self, state: SourceCrawl, failure: Any, response: Any) -> None:
        exc = failure.value
        self._record_error(state, ErrorKind.PARSE, response.url,
                           f"could not extract from {response.url}: {exc.__class__.__name__}: {exc}")

    def _item_error(self, state: SourceCrawl, item: Any, response: Any, failure: Any) -> None:
        url = getattr(item, "url", None) or (response.url if response is not None else None)
        self._record_error(state, ErrorKind.PIPELINE, url, f"could not process item {url}: "
                           f"{failure.value.__class__.__name__}: {failure.value}")

    def _memory(self, source_id: str) -> tuple[Any, dict[str, list[tuple[str, str]]]]:
        """The listing pages known from earlier runs, and what each listing showed before (for healing a
        renamed block); a read failure only disables healing."""
        from feedsvc.store.listing_pages import known_listing_pages, listing_memory

        with self.session_factory() as session:  # one session for both: each checkout pings the database
            known = known_listing_pages(session, source_id)
            try:
                return known, listing_memory(session, source_id)
            except FeedsvcError as exc:
                log.warning("listing memory unavailable, healing disabled source=%s: %s", source_id, exc)
                return known, {}

    def _record_error(self, state: SourceCrawl, kind: ErrorKind, url: str | None, message: str) -> None:
        from feedsvc.store.runs import record_crawl_error

        state.errors.append((kind, url, message))
        self.emit("error", source=state.source.id, kind=kind, url=url, message=message)
        try:  # recorded at once, so a run killed later still shows what went wrong
            with self.session_factory() as session, session.begin():
                record_crawl_error(session, state.source.id, state.run_id, url, kind, message, datetime.now(UTC))
        except FeedsvcError as exc:
            log.warning("could not record crawl error source=%s: %s", state.source.id, exc)


def _process_class() -> type:
    from scrapy.crawler import CrawlerProcess

    class Process(CrawlerProcess):
        """CrawlerProcess that remembers a stop signal came, so no further source of the batch starts, and then
        stops at once: requests still waiting for their politeness delay are dropped (crawler.stop)."""

        stopping = False
        reactor_ready = False

        def _signal_shutdown(self, signum: int, frame: Any) -> None:
            from twisted.internet import reactor

            self.stopping = True
            super()._signal_shutdown(signum, frame)
            # After Scrapy's graceful stop (queued on the reactor just before), which closes every spider but
            # would still fetch each request waiting for its politeness delay.
            reactor.callFromThread(self._drop_queued)

        def _drop_queued(self) -> None:
            from crawler.stop import drop_queued_requests

            for crawler in list(self.crawlers):
                dropped = drop_queued_requests(crawler)
                if dropped:
                    log.info("stopping: dropped %d queued request(s) of %s", dropped, crawler.spider)

    return Process


def _Process(settings: dict[str, Any]) -> Any:  # noqa: N802 - reads as the class it builds
    return _process_class()(settings)
