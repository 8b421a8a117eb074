"""The running scheduler: owns the APScheduler instance, the config it follows and the reload/stop logic.

`SchedulerService(config_path).start()` syncs sources and jobs, then runs jobs in background threads;
`reload()` (SIGHUP, or the file changed) applies added/removed/rescheduled sources without a restart;
`stop()` refuses new crawls, stops running ones safely and shuts down. Used by `python scheduler.py`,
`feedsvc run` and `feedsvc demo`.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)

from feedsvc.after_crawl import AfterCrawl
from feedsvc.config import AppConfig, load_config
from feedsvc.errors import FeedsvcError
from feedsvc.scheduling.children import ChildTracker
from feedsvc.scheduling.config_watch import ConfigWatcher
from feedsvc.scheduling.gather import GATHER_SECONDS, CrawlGather
from feedsvc.scheduling.jobs import (
    CRAWL_JOB,
    build_scheduler,
    next_runs,
    schedule_retry,
    store_next_runs,
    sync_jobs,
)
from feedsvc.store import Store

log = logging.getLogger("feedsvc.scheduler")

# How long a running crawl gets to close after SIGTERM when the service stops (Scrapy flushes its last batch).
STOP_GRACE_SECONDS = 30.0


class SchedulerService:
    """One scheduler process's state. `job_func` is a 'module:function' reference (tests swap in a stub)."""

    def __init__(self, config_path: str, *, poll_interval: float = 2.0, job_func: str = CRAWL_JOB,
                 on_reload: Callable[[AppConfig], None] | None = None, gather: float = GATHER_SECONDS,
                 cfg: AppConfig | None = None) -> None:
        self.config_path = str(Path(config_path).resolve())
        self.on_reload = on_reload  # e.g. `feedsvc run` hands the new config to the feed server
        # `cfg`: what the entry point loaded from this file already (`feedsvc run` reads it once).
        self.cfg: AppConfig = cfg if cfg is not None else load_config(self.config_path)
        self.job_func = job_func
        self.store = Store.for_config(self.cfg)
        self.engine, self.session_factory = self.store.engine, self.store.session_factory
        self.tracker = ChildTracker()  # this service's crawl children; stop() reaches them
        self.after = AfterCrawl(self.cfg)  # one debounced after-crawl step for every gathering
        self.crawls = CrawlGather(self.tracker, gather, self.after)
        self.scheduler = build_scheduler(self.engine, self.cfg, self.crawls)
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED
                                    | EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES)
        self.watcher = ConfigWatcher(self.config_path, self.reload, poll_interval, self.cfg.scheduler.watch_config)
        self._reload_lock = threading.Lock()
        self._known_sources: set[str] = set()
        self._stored_next: dict[str, datetime | None] = {}  # what sources.next_run_at holds, as we last wrote it
        self._next_lock = threading.Lock()
        self._in_flight = 0  # jobs submitted and not yet reported back (their retry may still be scheduled)
        self._idle = threading.Condition()
        self.reloads = 0  # applied reloads, for logs and tests

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start paused, bring the job store in line with the config, then let due (and missed) jobs run."""
        self.scheduler.start(paused=True)
        self._apply(self.cfg, initial=True)
        self.scheduler.resume()
        self.watcher.start()
        log.info("scheduler started config=%s sources=%d timezone=%s", self.config_path,
                 len([s for s in self.cfg.sources if s.enabled]), self.cfg.scheduler.timezone)

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """No new crawls; running crawls get SIGTERM and `grace` seconds; then the scheduler shuts down."""
        log.info("scheduler stopping")
        self.watcher.stop()
        if self.scheduler.running:
            self.scheduler.pause()
        self.tracker.stop_all(grace)
        self.after.close()  # what finished before the stop still gets related and published
        # A crawl stopped here reports back as aborted/cancelled and gets a persisted retry job, so it runs
        # again after a restart; wait for those reports before detaching the job store.
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight <= 0, timeout=grace + 5)
        if self.scheduler.running:
            # APScheduler 3 processes jobs once more after shutdown() and would advance (lose) a run that is
            # due right then; detaching the store first keeps every stored next run as it is.
            self.scheduler.remove_jobstore("default", shutdown=False)
            self.scheduler.shutdown(wait=True)
        self.store.close()
        log.info("scheduler stopped")

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job runs and none is due now (what a test waits for instead of sleeping): from then on
        nothing happens until a job's next run time. False after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            # Not under self._idle: APScheduler reports submissions while holding its job store lock.
            now = datetime.now(UTC)
            due = any(j.next_run_time is not None and j.next_run_time <= now for j in self.scheduler.get_jobs())
            with self._idle:
                if self._in_flight <= 0 and not due:
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(min(remaining, 0.05))

    def install_sighup(self) -> None:
        """SIGHUP → reload (main thread only; the reload itself runs on the watcher thread)."""
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, lambda _sig, _frame: self.watcher.request())

    # -- config ----------------------------------------------------------------------------------------------
    def reload(self) -> bool:
        """Re-read the config and apply it. An invalid file is logged and the running config kept."""
        try:
            cfg = load_config(self.config_path)
        except FeedsvcError as exc:
            log.error("config reload rejected, keeping the running config: %s", str(exc).replace("\n", "; "))
            return False
        if cfg.database.url != self.cfg.database.url:
            log.warning("config reload: [database] url changed; restart the scheduler to use the new database")
        self._apply(cfg, initial=False)
        self.reloads += 1
        if self.on_reload is not None:
            self.on_reload(cfg)
        return True

    def _apply(self, cfg: AppConfig, initial: bool) -> None:
        from feedsvc.store.sources import sync_sources

        with self._reload_lock:
            with self.session_factory() as session, session.begin():
                sync_sources(session, cfg.sources, datetime.now(UTC))
            report = sync_jobs(self.scheduler, cfg, self.config_path, self.job_func)
            self.cfg = cfg
            self.crawls.use_config(self.config_path, cfg)
            self.watcher.watch_file = cfg.scheduler.watch_config
            self._known_sources |= {s.id for s in cfg.sources}
            with self._next_lock:  # rows may have been (re)created: write every source's next run once
                self._stored_next.clear()
            self._store_next_runs()
        log.info("scheduler %s: %s", "jobs" if initial else "config applied", report)

    # -- bookkeeping -----------------------------------------------------------------------------------------
    def _store_next_runs(self) -> None:
        if self.tracker.stopping():
            return  # the job store may already be detached: it would read as "nothing scheduled"
        try:
            with self._next_lock:  # job events arrive on several threads; the cache of written values is shared
                store_next_runs(self.session_factory, next_runs(self.scheduler), self._known_sources,
                                self._stored_next)
        except FeedsvcError:
            log.exception("cannot record next run times")

    def _on_job_event(self, event: JobEvent) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("crawl missed job=%s scheduled=%s (beyond misfire_grace_time=%ss); waiting for the next run",
                        event.job_id, getattr(event, "scheduled_run_time", "?"), self.cfg.scheduler.misfire_grace_time)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("crawl skipped job=%s: the previous run is still going", event.job_id)
        elif event.code == EVENT_JOB_ERROR:
            log.error("crawl job=%s raised %r", event.job_id, getattr(event, "exception", None))
        elif event.code == EVENT_JOB_EXECUTED:
            retval: Any = getattr(event, "retval", None)
            for result in retval if isinstance(retval, list) else [retval]:  # one per source of the job
                if not (isinstance(result, dict) and "source_id" in result):
                    continue
                try:
                    schedule_retry(self.scheduler, self.cfg, result, self.job_func)
                except Exception:
                    log.exception("cannot schedule a retry for source=%s job=%s", result["source_id"], event.job_id)
        if event.code == EVENT_JOB_SUBMITTED:
            with self._idle:
                self._in_flight += 1
        try:
            self._store_next_runs()
        finally:
            # A job counts until its event is handled: `stop()` shuts APScheduler down once nothing is in
            # flight, and its shutdown holds the job store lock while it joins the worker threads, so a worker
            # still reading the jobs here (next runs, a retry) would wait for that lock for ever.
            if event.code in (EVENT_JOB_EXECUTED, EVENT_JOB_ERROR, EVENT_JOB_MISSED):
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()
