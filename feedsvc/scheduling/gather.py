"""CrawlGather: sources whose jobs come due together are crawled together, in one crawl child process.

A job (a schedule line's, with all its sources, or one source's retry) joins the gathering that is open (or opens
one), which starts `gather` seconds after it opened, so lines and retries firing in the same moment share a child.
Every job thread then waits for its own sources' outcomes. Each source's finish is logged when the child reports
it. The leader settles the runs of a child that died, then hands the finished runs to the service's one AfterCrawl
(debounced: one step for many gatherings, never one per source). Owned by one SchedulerService, with its
ChildTracker; holds the config the service loaded, so a job firing does not read the file again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from feedsvc.after_crawl import AfterCrawl
from feedsvc.config import AppConfig, load_config
from feedsvc.models import RunStatus
from feedsvc.scheduling.child import CrawlOutcome, run_shared
from feedsvc.scheduling.children import ChildTracker, settle_runs

log = logging.getLogger("feedsvc.scheduler")

# Jobs due "together" still fire a few milliseconds apart (and each is submitted on its own): wait this long
# for the others before starting the crawl.
GATHER_SECONDS = 2.0


@dataclass
class _Gathering:
    config_path: str
    trigger: str
    sources: list[str] = field(default_factory=list)
    outcomes: dict[str, CrawlOutcome] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


class CrawlGather:
    """Groups due crawls into gatherings and runs each through the tracker as one crawl child."""

    def __init__(self, tracker: ChildTracker | None = None, gather: float = GATHER_SECONDS,
                 after: AfterCrawl | None = None) -> None:
        self.tracker = tracker or ChildTracker()
        self.gather = gather
        self.after = after  # None: each gathering runs its own step (a job called outside a service)
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], _Gathering] = {}
        self._configs: dict[str, AppConfig] = {}

    def use_config(self, config_path: str, cfg: AppConfig) -> None:
        """The config the service loaded (at start or reload) for jobs of `config_path`."""
        with self._lock:
            self._configs[config_path] = cfg
        if self.after is not None:
            self.after.set_config(cfg)

    def config_for(self, config_path: str) -> AppConfig:
        """The service's config for `config_path`; read from the file only when no service handed one in."""
        with self._lock:
            cfg = self._configs.get(config_path)
        return cfg if cfg is not None else load_config(config_path)

    def crawl(self, cfg: AppConfig, config_path: str, source_ids: Sequence[str], trigger: str) -> list[CrawlOutcome]:
        """Crawl `source_ids` in the next gathering; blocks until its child ended. One outcome per source."""
        key = (config_path, trigger)
        with self._lock:
            batch = self._open.get(key)
            leader = batch is None
            if batch is None:
                batch = self._open[key] = _Gathering(config_path, trigger)
            batch.sources.extend(s for s in source_ids if s not in batch.sources)
        if leader:
            self._lead(cfg, key, batch)
        else:
            batch.done.wait()
        return [batch.outcomes.get(source_id) or CrawlOutcome(
            source_id, -1, RunStatus.CRASHED, None, None, "the batch ended without a word about this source")
            for source_id in source_ids]

    def _lead(self, cfg: AppConfig, key: tuple[str, str], batch: _Gathering) -> None:
        try:
            if self.gather > 0:
                threading.Event().wait(self.gather)
            with self._lock:
                self._open.pop(key, None)  # later jobs open the next batch
            if self.tracker.stopping():
                for source_id in batch.sources:
                    batch.outcomes[source_id] = CrawlOutcome(source_id, -1, RunStatus.CANCELLED, None, None,
                                                             "scheduler is shutting down")
                return
            n = len(batch.sources)
            window = cfg.crawl.concurrent_sources
            per_source = float(cfg.scheduler.crawl_timeout)
            # One source: the time limit is the source's. Many: each source still gets its limit inside the
            # child, and the child as a whole gets one per wave of `window` sources.
            timeout = per_source * math.ceil(n / window) + (30.0 if n > 1 else 0.0)
            if cfg.crawl.redis:  # crawl nodes crawl it, settle their own runs and run the after-crawl step
                log.info("crawl gathering sources=%d trigger=%s on crawl nodes", n, batch.trigger)
                from feedsvc.scheduling import queue

                finishes = _FinishLog(batch.trigger)
                outcomes = queue.crawl_on_nodes(cfg, cfg.crawl.redis, batch.sources, trigger=batch.trigger,
                                                key=queue.QUEUE_KEY, timeout=timeout + 60.0 * math.ceil(n / window),
                                                on_event=finishes.on_event)
                finishes.rest(outcomes)
                batch.outcomes.update({o.source_id: o for o in outcomes})
                return
            log.info("crawl gathering sources=%d trigger=%s", n, batch.trigger)
            finishes = _FinishLog(batch.trigger)
            result = run_shared(cfg, batch.sources, lambda share: self.tracker.run(
                batch.config_path, share, trigger=batch.trigger, timeout=timeout, window=window if n > 1 else None,
                source_timeout=per_source if n > 1 else None, on_event=finishes.on_event))
            finishes.rest(result.outcomes)
            batch.outcomes.update({o.source_id: o for o in result.outcomes})
            settle_runs(cfg, result.outcomes)  # before any downstream work: a dead child's runs are closed
            if self.after is not None:
                self.after.add(result.finished)
            else:
                step = AfterCrawl(cfg)
                step.add(result.finished)
                step.close()
        finally:
            batch.done.set()


class _FinishLog:
    """Logs each source's finish as its child reports it (with the crawl's own time), and at the end the sources the
    child said nothing final about (killed, timed out, busy)."""

    def __init__(self, trigger: str) -> None:
        self.trigger = trigger
        self.started: dict[str, float] = {}
        self.logged: set[str] = set()

    def on_event(self, event: dict[str, Any]) -> None:
        source, kind = str(event.get("source", "")), event.get("event")
        if kind in ("start", "crawling"):  # "crawling": a crawl node took it
            self.started[source] = time.monotonic()
        elif kind == "done":
            elapsed = event.get("elapsed_seconds")
            if not isinstance(elapsed, (int, float)):
                elapsed = time.monotonic() - self.started.get(source, time.monotonic())
            counts = event.get("counts") or {}
            log.info("crawl finish source=%s status=%s trigger=%s in %.1fs: %d page(s) (%d not modified), %d item(s) "
                     "(%d new), %d error(s)%s", source, event.get("status"), self.trigger, elapsed,
                     counts.get("pages", 0), counts.get("not_modified", 0), counts.get("items_seen", 0),
                     counts.get("items_new", 0), counts.get("errors", 0),
                     f": {event['message']}" if event.get("message") else "")
            self.logged.add(source)

    def rest(self, outcomes: Sequence[CrawlOutcome]) -> None:
        for outcome in outcomes:
            if outcome.source_id not in self.logged or outcome.status in (RunStatus.TIMEOUT, RunStatus.CRASHED):
                log.info("crawl finish source=%s status=%s trigger=%s: %s", outcome.source_id, outcome.status,
                         self.trigger, outcome.message)
