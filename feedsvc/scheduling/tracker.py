"""The scheduler's view of the crawl child processes it started: track them, stop them on shutdown, and
tidy the database after one died (its run marked aborted, its lease freed).

Crawls run through feedsvc.scheduling.launcher.run_crawl, each in its own process group, so a terminal's Ctrl-C
never reaches them directly; on shutdown we send SIGTERM ourselves and Scrapy closes gracefully, flushing
its last batch in a transaction. Never imports scrapy.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from feedsvc.config import AppConfig, load_config
from feedsvc.records import RunCounts
from feedsvc.scheduling.launcher import CrawlOutcome, run_crawl

log = logging.getLogger("feedsvc.scheduler")

# Outcomes where the child died without closing its own run: the run row and the lease need tidying.
DIED_STATUSES = frozenset({"timeout", "crashed"})


@dataclass
class _Active:
    config_path: str
    source_id: str
    run_id: int | None = None
    pid: int | None = None
    signalled: bool = False


_lock = threading.Lock()
_active: dict[int, _Active] = {}
_stopping = threading.Event()


def stopping() -> bool:
    """True once shutdown began: no new crawl may start."""
    return _stopping.is_set()


def reset() -> None:
    """Forget a previous shutdown (a new scheduler in the same process, e.g. in tests)."""
    _stopping.clear()


def active_sources() -> list[str]:
    with _lock:
        return sorted(a.source_id for a in _active.values())


def run_tracked(config_path: str, source_id: str, *, trigger: str, timeout: float | None) -> CrawlOutcome:
    """run_crawl, remembering the child so `stop_all` can reach it."""
    entry = _Active(config_path, source_id)
    key = threading.get_ident()

    def on_event(event: dict[str, object]) -> None:
        if event.get("event") == "start":
            run_id, pid = event.get("run_id"), event.get("pid")
            entry.run_id = run_id if isinstance(run_id, int) else None
            entry.pid = pid if isinstance(pid, int) else None
            if _stopping.is_set():  # shutdown began while the child was starting up
                _signal(entry)

    with _lock:
        _active[key] = entry
    try:
        return run_crawl(config_path, source_id, trigger=trigger, timeout=timeout, on_event=on_event)
    finally:
        with _lock:
            _active.pop(key, None)


def stop_all(grace: float) -> bool:
    """Refuse new crawls, SIGTERM every running crawl's process group, wait up to `grace` s for them to end,
    then SIGKILL what is left (the database stays consistent: writes are batched transactions).

    True when every crawl ended within the grace time.
    """
    _stopping.set()
    deadline = time.monotonic() + grace
    while True:
        with _lock:
            entries = list(_active.values())
        if not entries:
            return True
        for entry in entries:
            if not entry.signalled:
                _signal(entry)
        if time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    log.warning("shutdown: crawls still running after %.0fs, killing them: %s", grace,
                ", ".join(e.source_id for e in entries))
    for entry in entries:
        _signal(entry, signal.SIGKILL)
    kill_deadline = time.monotonic() + 10
    while time.monotonic() < kill_deadline:
        with _lock:
            if not _active:
                break
        time.sleep(0.1)
    return False


def _signal(entry: _Active, sig: signal.Signals = signal.SIGTERM) -> None:
    pid = entry.pid or _pid_of_run(entry)
    if pid is None:
        return  # not started yet: run_crawl's start event will come, and we signal then
    entry.signalled = True
    log.info("shutdown: stopping crawl source=%s pid=%d (%s)", entry.source_id, pid, sig.name)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)  # the child leads its own process group


def _pid_of_run(entry: _Active) -> int | None:
    """The child records its pid on its crawl run; read it back when the start event did not carry it."""
    if entry.run_id is None:
        return None
    from feedsvc.store import Store, get_run

    try:
        cfg = load_config(entry.config_path)
        with Store.for_config(cfg, migrate=False) as store, store.session() as session:
            run = get_run(session, entry.run_id)
            return run.pid if run is not None else None
    except Exception:  # best effort during shutdown
        log.debug("cannot look up pid of run %s", entry.run_id, exc_info=True)
        return None


def settle_run(cfg: AppConfig, outcome: CrawlOutcome, at: datetime | None = None) -> None:
    """After a child died (killed, crashed, timed out): mark its run aborted and free its lease.

    The crawl commits in batches, so what it stored stays and the next run completes it; only the
    bookkeeping the child could not do itself is left for us.
    """
    if outcome.status not in DIED_STATUSES:
        return
    from feedsvc.store import Store, finish_run, get_run
    from feedsvc.store.leases import lease_holder, release_lease

    at = at or datetime.now(UTC)
    with Store.for_config(cfg, migrate=False) as store, store.transaction() as session:
        run = get_run(session, outcome.run_id) if outcome.run_id is not None else None
        if run is not None and run.status == "running":
            finish_run(session, run.id, "aborted", outcome.counts or RunCounts(), at, outcome.message)
            log.warning("crawl aborted source=%s run=%d: %s", outcome.source_id, run.id, outcome.message)
        name = f"crawl:{outcome.source_id}"
        holder = lease_holder(session, name, at)
        if holder is not None and run is not None and run.pid is not None and _owned_by(holder, run.pid):
            release_lease(session, name, holder)


def _owned_by(owner: str, pid: int) -> bool:
    """Lease owners look like 'host:pid[:…]'; only a lease of this host's dead child may be freed early."""
    import socket

    parts = owner.split(":")
    return len(parts) >= 2 and parts[0] == socket.gethostname() and parts[1] == str(pid)

