"""CrawlBatcher: sources whose jobs come due together are crawled together, in one crawler child process.

Each source keeps its own APScheduler job (`crawl:<source>`, its own next run and retries); when a job fires
it joins the batch that is gathering (or opens one), and the batch starts `gather` seconds after it opened.
Every job thread then waits for its own source's outcome. Owned by one SchedulerService, with its tracker.
"""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import dataclass, field

from feedsvc.config import AppConfig
from feedsvc.models import LaunchStatus
from feedsvc.scheduling.launcher import CrawlOutcome
from feedsvc.scheduling.tracker import CrawlTracker, settle_runs

log = logging.getLogger("feedsvc.scheduler")

# Jobs due "together" still fire a few milliseconds apart (and each is submitted on its own): wait this long
# for the others before starting the crawl.
GATHER_SECONDS = 2.0


@dataclass
class _Batch:
    config_path: str
    trigger: str
    sources: list[str] = field(default_factory=list)
    outcomes: dict[str, CrawlOutcome] = field(default_factory=dict)
    done: threading.Event = field(default_factory=threading.Event)


class CrawlBatcher:
    """Groups due crawls into batches and runs each batch through the tracker."""

    def __init__(self, tracker: CrawlTracker | None = None, gather: float = GATHER_SECONDS) -> None:
        self.tracker = tracker or CrawlTracker()
        self.gather = gather
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], _Batch] = {}

    def crawl(self, cfg: AppConfig, config_path: str, source_id: str, trigger: str) -> CrawlOutcome:
        """Crawl `source_id` in the next batch; blocks until that batch ended."""
        key = (config_path, trigger)
        with self._lock:
            batch = self._open.get(key)
            leader = batch is None
            if batch is None:
                batch = self._open[key] = _Batch(config_path, trigger)
            if source_id not in batch.sources:
                batch.sources.append(source_id)
        if leader:
            self._lead(cfg, key, batch)
        else:
            batch.done.wait()
        return batch.outcomes.get(source_id) or CrawlOutcome(
            source_id, -1, LaunchStatus.CRASHED, None, None, "the batch ended without a word about this source")

    def _lead(self, cfg: AppConfig, key: tuple[str, str], batch: _Batch) -> None:
        try:
            if self.gather > 0:
                threading.Event().wait(self.gather)
            with self._lock:
                self._open.pop(key, None)  # later jobs open the next batch
            if self.tracker.stopping():
                for source_id in batch.sources:
                    batch.outcomes[source_id] = CrawlOutcome(source_id, -1, LaunchStatus.CANCELLED, None, None,
                                                             "scheduler is shutting down")
                return
            n = len(batch.sources)
            window = cfg.crawl.concurrent_sources
            per_source = float(cfg.scheduler.crawl_timeout)
            # One source: the time limit is the source's. Many: each source still gets its limit inside the
            # child, and the child as a whole gets one per wave of `window` sources.
            timeout = per_source * math.ceil(n / window) + (30.0 if n > 1 else 0.0)
            log.info("crawl batch sources=%d trigger=%s", n, batch.trigger)
            result = self.tracker.run(batch.config_path, batch.sources, trigger=batch.trigger, timeout=timeout,
                                      window=window if n > 1 else None, source_timeout=per_source if n > 1 else None)
            batch.outcomes.update({o.source_id: o for o in result.outcomes})
            settle_runs(cfg, result.outcomes)
        finally:
            batch.done.set()
