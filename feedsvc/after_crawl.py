"""The one after-crawl step: what happens once crawls have finished (related items, static publishing, WebSub).

`AfterCrawl` is the single object every entry point hands finished runs to (`feedsvc crawl`, the scheduler,
a crawl node): it gathers them and runs `after_crawl` once per gathered batch — when `max_runs` wait, or after
`quiet` seconds in which no run came (a debounce), or on `flush()` — one step at a time, never one per source.
Runs of a dead child are settled (feedsvc.scheduling.children) before they are handed here. The crawler itself
never relates or publishes. The steps never fail the crawl: a failure is logged and reported.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.config import AppConfig
from feedsvc.status import RunStatus

log = logging.getLogger(__name__)

# A crawl node's defaults (and the scheduler's): a step when this many runs wait, or this long after the last.
MAX_RUNS, QUIET_SECONDS = 200, 10.0


@dataclass(frozen=True)
class FinishedRun:
    """One source's finished crawl run, as the crawler reported it."""

    source_id: str
    run_id: int | None
    status: RunStatus
    new_item_ids: tuple[int, ...] = ()
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))  # events carry it as text


@dataclass(frozen=True)
class AfterCrawlReport:
    related_items: int = 0  # new items related (0: none were new, or related=False)
    related_ok: bool | None = None  # None when the refresh did not run
    related_seconds: float = 0.0
    published: bool | None = None  # None when nothing was to be published
    publish_dir: Path | None = None


def after_crawl(cfg: AppConfig, finished_runs: Sequence[FinishedRun], *, related: bool = True) -> AfterCrawlReport:
    """Relate the runs' new items to what is stored (unless `related` is False: `--no-related`), then write
    fresh static feeds when `[server] publish_dir` is set and a run succeeded."""
    new_ids = sorted({i for run in finished_runs for i in run.new_item_ids})
    at = max((r.finished_at for r in finished_runs if r.finished_at is not None), default=None) or datetime.now(UTC)
    related_ok: bool | None = None
    started = time.monotonic()
    if new_ids and related:
        related_ok = _refresh_related(cfg, new_ids, at)
    related_seconds = round(time.monotonic() - started, 2)
    published: bool | None = None
    publish_result = None
    publish_dir = cfg.resolve_path(cfg.server.publish_dir) if cfg.server.publish_dir else None
    if publish_dir is not None and any(r.status.succeeded for r in finished_runs):
        from feedsvc.feeds.publish import publish_if_configured

        try:
            publish_result = publish_if_configured(cfg)
            published = publish_result is not None
        except Exception:
            log.exception("static publishing to %s failed; the crawl itself succeeded", publish_dir)
            published = False
    if cfg.websub.hubs and (new_ids or any(r.status.succeeded for r in finished_runs)):
        from feedsvc.websub.announce import announce_in_background

        # WebSub: hubs hear about the feeds whose bytes changed (published URLs when static publishing ran).
        # In its own thread: a slow or dead hub never delays or fails the crawl.
        announce_in_background(cfg, publish_result.digests if publish_result is not None else None)
    return AfterCrawlReport(len(new_ids) if related else 0, related_ok, related_seconds, published, publish_dir)


def _refresh_related(cfg: AppConfig, new_ids: list[int], at: datetime) -> bool:
    from feedsvc.related.refresh import refresh_related
    from feedsvc.store import Store
    from feedsvc.store.meta import bump_data_version

    try:
        store = Store.for_config(cfg, migrate=False)
    except Exception:
        log.exception("related-items refresh: cannot open the database")
        return False
    try:
        with store.transaction() as session:
            refresh_related(session, new_ids, cfg, at)
            # Entries end with "Related" links: cached feeds built before this refresh are stale now.
            bump_data_version(session)
    except Exception:
        log.exception("related-items refresh failed for %d new item(s); the crawl itself succeeded", len(new_ids))
        return False
    finally:
        store.close()
    return True


class AfterCrawl:
    """Gathers finished runs and runs the after-crawl step once per gathered batch, in its own thread.

    `add()` never blocks on the step; `flush()` runs what waits now and returns the last report; `close()`
    flushes and stops the thread. `steps` counts the steps run (what tests and logs check)."""

    def __init__(self, cfg: AppConfig, *, related: bool = True, max_runs: int = MAX_RUNS,
                 quiet: float = QUIET_SECONDS, on_report: Callable[[AfterCrawlReport], None] | None = None) -> None:
        self.cfg, self.related, self.max_runs, self.quiet, self.on_report = cfg, related, max_runs, quiet, on_report
        self.steps = 0
        self.last: AfterCrawlReport | None = None
        self._pending: list[FinishedRun] = []
        self._last_add = 0.0
        self._busy = False
        self._flush = 0  # flush() calls waiting for a step
        self._closed = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def set_config(self, cfg: AppConfig) -> None:
        """A reloaded config (scheduler SIGHUP): the next step uses it."""
        with self._cond:
            self.cfg = cfg

    def add(self, runs: Sequence[FinishedRun]) -> None:
        if not runs:
            return
        with self._cond:
            if self._closed:  # a late report after close(): reopen (a new thread if the old one is gone)
                self._closed = False
                if self._thread is not None and not self._thread.is_alive():
                    self._thread = None
            self._pending.extend(runs)
            self._last_add = time.monotonic()
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="after-crawl", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def flush(self) -> AfterCrawlReport | None:
        """Run the step now for what waits (the calling thread waits for it); the last report."""
        with self._cond:
            if not self._pending and not self._busy:
                return self.last
        if self._thread is None:  # nothing was ever added through the thread: run here
            return self.last
        with self._cond:
            self._flush += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: not self._pending and not self._busy)
            self._flush -= 1
            return self.last

    def close(self) -> None:
        self.flush()
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def _due(self) -> float | None:
        """0 when a step is due now, else seconds until it is (None: nothing waits)."""
        if not self._pending:
            return None
        if self._flush or self._closed or len(self._pending) >= self.max_runs:
            return 0.0
        return max(0.0, self._last_add + self.quiet - time.monotonic())

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (wait := self._due()) != 0.0:
                    self._cond.wait(wait)
                if self._closed and not self._pending:
                    return
                runs, self._pending, self._busy, cfg = self._pending, [], True, self.cfg
            report = None
            try:
                report = after_crawl(cfg, runs, related=self.related)
                log.info("after crawl: %d run(s), %d new item(s) related (ok=%s), published=%s", len(runs),
                         report.related_items, report.related_ok, report.published)
                if self.on_report is not None:
                    self.on_report(report)
            except Exception:  # the crawls go on; the next batch tries again
                log.exception("after-crawl step failed for %d run(s)", len(runs))
            with self._cond:
                self.steps += 1
                self.last = report or self.last
                self._busy = False
                self._cond.notify_all()
