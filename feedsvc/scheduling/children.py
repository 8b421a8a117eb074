"""ChildTracker: the scheduler's view of the crawl child processes it started. Tracks them, stops them on
shutdown, and tidies the database after one died (its runs marked aborted, its leases freed).

One tracker belongs to one SchedulerService, which hands it to its jobs; nothing here is module state.
Crawls run through feedsvc.scheduling.child.run_child, each child in its own process group, so a terminal's
Ctrl-C never reaches them directly; on shutdown we send SIGTERM ourselves and Scrapy closes gracefully,
flushing its last batch in a transaction. Never imports scrapy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from feedsvc.config import AppConfig
from feedsvc.models import RunStatus
from feedsvc.scheduling.child import ChildOutcome, CrawlOutcome, run_child
from feedsvc.store.runs import RunCounts

log = logging.getLogger("feedsvc.scheduler")

# Outcomes where the child died without closing its own run: the run row and the lease need tidying.
DIED_STATUSES = frozenset({RunStatus.TIMEOUT, RunStatus.CRASHED})


@dataclass
class Tracked:
    """One running crawl child: its sources and, once it said so, its pid."""

    sources: tuple[str, ...]
    pid: int | None = None
    signalled: bool = False


class ChildTracker:
    """The crawl children one scheduler started; `stop_all` reaches every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active: dict[int, Tracked] = {}
        self._next_key = 0
        self._stopping = threading.Event()

    def stopping(self) -> bool:
        """True once shutdown began: no new crawl may start."""
        return self._stopping.is_set()

    def active_sources(self) -> list[str]:
        with self._lock:
            return sorted(s for t in self._active.values() for s in t.sources)

    def track(self, entry: Tracked) -> int:
        """Remember a child (started elsewhere) until `forget(key)`."""
        with self._lock:
            self._next_key += 1
            self._active[self._next_key] = entry
            return self._next_key

    def forget(self, key: int) -> None:
        with self._lock:
            self._active.pop(key, None)

    def run(self, config_path: str, source_ids: Sequence[str], *, trigger: str, timeout: float | None,
            window: int | None = None, source_timeout: float | None = None,
            on_event: Callable[[dict[str, Any]], None] | None = None) -> ChildOutcome:
        """run_child, remembering the child so `stop_all` can reach it; `on_event` sees the child's events too."""
        entry = Tracked(tuple(source_ids))

        def note(event: dict[str, Any]) -> None:
            pid = event.get("pid")
            if event.get("event") == "start" and entry.pid is None and isinstance(pid, int):
                entry.pid = pid
                if self._stopping.is_set():  # shutdown began while the child was starting up
                    self._signal(entry)
            if on_event is not None:
                on_event(event)

        key = self.track(entry)
        try:
            return run_child(config_path, source_ids, trigger=trigger, timeout=timeout, on_event=note,
                             window=window, source_timeout=source_timeout)
        finally:
            self.forget(key)

    def stop_all(self, grace: float) -> bool:
        """Refuse new crawls, SIGTERM every running crawl's process group, wait up to `grace` s for them to end,
        then SIGKILL what is left (the database stays consistent: writes are batched transactions).

        True when every crawl ended within the grace time.
        """
        self._stopping.set()
        deadline = time.monotonic() + grace
        while True:
            with self._lock:
                entries = list(self._active.values())
            if not entries:
                return True
            for entry in entries:
                if not entry.signalled:
                    self._signal(entry)
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        log.warning("shutdown: crawls still running after %.0fs, killing them: %s", grace,
                    ", ".join(s for e in entries for s in e.sources))
        for entry in entries:
            self._signal(entry, signal.SIGKILL)
        kill_deadline = time.monotonic() + 10
        while time.monotonic() < kill_deadline:
            with self._lock:
                if not self._active:
                    break
            time.sleep(0.1)
        return False

    def _signal(self, entry: Tracked, sig: signal.Signals = signal.SIGTERM) -> None:
        if entry.pid is None:
            return  # not started yet: its start event will come, and we signal then
        entry.signalled = True
        log.info("shutdown: stopping crawl sources=%s pid=%d (%s)", ",".join(entry.sources), entry.pid, sig.name)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(entry.pid, sig)  # the child leads its own process group


def settle_runs(cfg: AppConfig, outcomes: Sequence[CrawlOutcome], at: datetime | None = None) -> None:
    """After a child died (killed, crashed, timed out): mark its open runs aborted and free its leases.

    The crawl commits in batches, so what it stored stays and the next run completes it; only the
    bookkeeping the child could not do itself is left for us.
    """
    died = [o for o in outcomes if o.status in DIED_STATUSES]
    if not died:
        return
    from feedsvc.store import Store
    from feedsvc.store.leases import lease_holder, lease_name, parse_owner, release_lease
    from feedsvc.store.runs import finish_run, get_run

    at = at or datetime.now(UTC)
    with Store.for_config(cfg, migrate=False) as store, store.transaction() as session:
        for outcome in died:
            run = get_run(session, outcome.run_id) if outcome.run_id is not None else None
            if run is not None and run.status == RunStatus.RUNNING:
                finish_run(session, run.id, RunStatus.ABORTED, outcome.counts or RunCounts(), at,
                           outcome.message)
                log.warning("crawl aborted source=%s run=%d: %s", outcome.source_id, run.id, outcome.message)
            name = lease_name(outcome.source_id)
            holder = lease_holder(session, name, at)
            # Only a lease of this host's dead child may be freed early; any other expires on its own.
            if holder is not None and run is not None and run.pid is not None:
                owner = parse_owner(holder)
                if owner.local and owner.pid == run.pid:
                    release_lease(session, name, holder)

