"""Run one crawl child (`python -m crawler.run`), stream its progress and return each source's outcome (and the
finished runs the caller hands to its feedsvc.after_crawl.AfterCrawl). Runs children only; must not import scrapy.

One child crawls one source or many at once. It runs in its own process group so a hung or leaking crawl can be
stopped as a whole (SIGTERM, then SIGKILL) without touching the caller: the CLI, the scheduler or the feed
server. It also dies with its parent: the kernel sends it SIGKILL when the process that started it dies (Linux
PR_SET_PDEATHSIG), so a SIGKILLed `feedsvc crawl` leaves no crawl (and no browser) behind.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from feedsvc.after_crawl import FinishedRun
from feedsvc.config import AppConfig, parse_now
from feedsvc.config.hosts import split_sources
from feedsvc.errors import CrawlExit
from feedsvc.status import RunCounts, RunStatus

log = logging.getLogger(__name__)

# How long a crawl gets to finish its current batch after SIGTERM before it is killed outright.
TERM_GRACE_SECONDS = 15.0

Event = dict[str, Any]


@dataclass(frozen=True)
class CrawlOutcome:
    """One source's crawl. status: ok | partial | failed | aborted (the crawl's own verdict), or, when it gave
    none: config (bad config), busy (another process holds the source's lease), timeout, crashed."""

    source_id: str
    returncode: int
    status: RunStatus
    run_id: int | None
    counts: RunCounts | None
    message: str
    timed_out: bool = False
    new_item_ids: tuple[int, ...] = ()
    finished_at: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", RunStatus(self.status))  # events carry it as text

    @property
    def succeeded(self) -> bool:
        return self.status.succeeded


@dataclass(frozen=True)
class ChildOutcome:
    """A crawl child's sources, in the order asked, and the runs it finished (for the after-crawl step)."""

    outcomes: list[CrawlOutcome]
    finished: list[FinishedRun]
    returncode: int = 0


def crawl_children(cfg: AppConfig, source_ids: Sequence[str]) -> int:
    """How many crawl children share a crawl: one per core (at most two), once there are more sources than one
    child crawls at once; a child is one core's worth of Scrapy, and below that one child is not the limit."""
    if len(source_ids) <= cfg.crawl.concurrent_sources:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def run_shared(cfg: AppConfig, source_ids: Sequence[str], run_share: Callable[[list[str]], ChildOutcome],
               children: int | None = None) -> ChildOutcome:
    """`source_ids` split by host between `children` crawl children (default: crawl_children), each share run by
    `run_share` at the same time, as one outcome in the order asked. `feedsvc crawl` and the scheduler both crawl
    through here, so a night uses the cores a manual crawl does and sources sharing a host stay in one child."""
    ids = list(dict.fromkeys(source_ids))
    by_id = {s.id: s for s in cfg.sources}
    shares = [[s.id for s in share] for share in
              split_sources([by_id[i] for i in ids if i in by_id], children or crawl_children(cfg, ids))]
    # A source the config no longer has goes to a child all the same, which reports it (a config error).
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        shares = [shares[0] + unknown, *shares[1:]] if shares else [unknown]
    if len(shares) == 1:
        return run_share(shares[0])
    with ThreadPoolExecutor(len(shares)) as pool:
        parts = list(pool.map(run_share, shares))
    outcome = {o.source_id: o for part in parts for o in part.outcomes}
    return ChildOutcome([outcome[i] for i in ids], [run for part in parts for run in part.finished],
                        max((part.returncode for part in parts), key=abs))


def crawl_command(config_path: str, source_ids: Sequence[str], *, now: datetime | None = None,
                  trigger: str = "manual", window: int | None = None,
                  source_timeout: float | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "crawler.run", *source_ids, "--config", config_path,
           "--trigger", trigger, "--progress-json"]
    if now is not None:
        cmd += ["--now", now.isoformat()]
    if window is not None:
        cmd += ["--window", str(window)]
    if source_timeout is not None:
        cmd += ["--source-timeout", f"{source_timeout:g}"]
    return cmd


def counts_from_event(data: dict[str, Any] | None) -> RunCounts | None:
    if not data:
        return None
    return RunCounts(
        pages=int(data.get("pages", 0)),
        not_modified=int(data.get("not_modified", 0)),
        items_seen=int(data.get("items_seen", 0)),
        items_new=int(data.get("items_new", 0)),
        errors=int(data.get("errors", 0)),
        listing_counts={str(k): int(v) for k, v in (data.get("listing_counts") or {}).items()},
    )


def pump_lines(stream: TextIO, sink: queue.Queue[str | None]) -> None:
    for line in stream:
        sink.put(line)
    sink.put(None)


_PR_SET_PDEATHSIG = 1
_LIBC: Any = None
if sys.platform.startswith("linux"):
    import ctypes

    _LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: the child between fork and exec must not dlopen


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that makes the kernel SIGKILL the child when the thread that started it dies (process
    SIGKILLed included): no exit path of the parent leaves a crawl running. None where Linux's prctl is missing
    (there the process-group kill on every path that can run is all there is)."""
    if _LIBC is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _stop_group(proc: subprocess.Popen[str], grace: float) -> None:
    """SIGTERM the child's process group (Scrapy then closes cleanly), SIGKILL it if it lingers."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_child(
    config_path: str,
    source_ids: Sequence[str],
    *,
    now: datetime | None = None,
    trigger: str = "manual",
    timeout: float | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    window: int | None = None,
    source_timeout: float | None = None,
) -> ChildOutcome:
    """Crawl `source_ids` in one child process; stream its progress events (each names its `source`); stop it
    after `timeout` s; return every source's outcome and the runs the child closed itself."""
    ids = list(dict.fromkeys(source_ids))
    cmd = crawl_command(config_path, ids, now=now, trigger=trigger, window=window, source_timeout=source_timeout)
    log.info("starting crawl sources=%s: %s", ",".join(ids) if len(ids) <= 10 else f"{len(ids)} sources",
             " ".join(cmd[:4] + ["..."] if len(ids) > 10 else cmd))
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        encoding="utf-8", errors="replace", start_new_session=True, preexec_fn=die_with_parent(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    stderr_tail: deque[str] = deque(maxlen=40)
    threading.Thread(target=pump_lines, args=(proc.stdout, lines), daemon=True).start()
    err_thread = threading.Thread(target=lambda: stderr_tail.extend(proc.stderr or ()), daemon=True)
    err_thread.start()

    deadline = None if timeout is None else time.monotonic() + timeout
    seen = _Seen()
    timed_out = False
    try:
        while True:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                timed_out = True
                break
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                timed_out = True
                break
            if line is None:
                break
            event = parse_event(line)
            if event is None:
                continue
            seen.note(event)
            _notify(on_event, event)
    except BaseException:
        _stop_group(proc, TERM_GRACE_SECONDS)
        raise
    if timed_out:
        log.warning("crawl timed out sources=%d after %.0fs; stopping it", len(ids), timeout or 0)
        _stop_group(proc, TERM_GRACE_SECONDS)
        seen.late = True
        while (line := _drain(lines)) is not None:  # the child's last words: runs it closed on SIGTERM
            if (event := parse_event(line)) is not None:
                seen.note(event)
                _notify(on_event, event)
    returncode = proc.wait()
    err_thread.join(timeout=5)
    outcomes = [_outcome(i, returncode, seen, timed_out, timeout, list(stderr_tail)) for i in ids]
    finished = [FinishedRun(o.source_id, o.run_id, o.status, o.new_item_ids, o.finished_at)
                for o in outcomes if o.source_id in seen.done]
    return ChildOutcome(outcomes, finished, returncode)


def run_crawl(config_path: str, source_id: str, *, now: datetime | None = None, trigger: str = "manual",
              timeout: float | None = None, on_event: Callable[[dict[str, Any]], None] | None = None) -> CrawlOutcome:
    """run_child for one source."""
    return run_child(config_path, [source_id], now=now, trigger=trigger, timeout=timeout,
                     on_event=on_event).outcomes[0]


class _Seen:
    """What the child said so far, per source."""

    def __init__(self) -> None:
        self.started: dict[str, Event] = {}
        self.done: dict[str, Event] = {}
        self.busy: dict[str, Event] = {}
        self.late = False  # past the time limit: what still comes was cut short by it
        self.stopped: set[str] = set()  # sources whose crawl ended because of the time limit

    def note(self, event: Event) -> None:
        kind, source = event.get("event"), str(event.get("source", ""))
        if kind == "start":
            self.started[source] = event
        elif kind == "done":
            self.done[source] = event
            if self.late:
                self.stopped.add(source)
        elif kind == "busy":
            self.busy[source] = event


def _notify(on_event: Callable[[dict[str, Any]], None] | None, event: Event) -> None:
    if on_event is None:
        return
    try:
        on_event(event)
    except Exception:  # a display bug must not lose the crawl's outcome
        log.exception("progress callback failed event=%s", event.get("event"))


def _drain(lines: queue.Queue[str | None]) -> str | None:
    try:
        return lines.get(timeout=1.0)
    except queue.Empty:
        return None


def parse_event(line: str) -> Event | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def _outcome(source_id: str, returncode: int, seen: _Seen, timed_out: bool, timeout: float | None,
             stderr_tail: list[str]) -> CrawlOutcome:
    last_err = next((ln.strip() for ln in reversed(stderr_tail) if ln.strip()), "")
    done = seen.done.get(source_id)
    limit = f"crawl of {source_id!r} exceeded its time limit of {timeout or 0:.0f}s and was stopped"
    if done is not None and source_id in seen.stopped:  # closed its own run (aborted) on our SIGTERM
        return CrawlOutcome(source_id, returncode, RunStatus.TIMEOUT, done.get("run_id"),
                            counts_from_event(done.get("counts")), f"{limit}; {done.get('message') or ''}", True)
    if done is not None:  # the crawl finished and recorded its run
        finished = parse_now(str(done.get("finished_at") or "")) if done.get("finished_at") else None
        return CrawlOutcome(source_id, returncode, RunStatus(str(done.get("status", RunStatus.FAILED))),
                            done.get("run_id"), counts_from_event(done.get("counts")),
                            str(done.get("message") or ""), False,
                            tuple(int(i) for i in done.get("new_item_ids") or ()), finished)
    start = seen.started.get(source_id)
    run_id = start.get("run_id") if start is not None else None
    if source_id in seen.busy:
        holder = seen.busy[source_id].get("holder")
        status, message = RunStatus.BUSY, f"another process is crawling {source_id!r} ({holder})"
    elif timed_out:
        status, message = RunStatus.TIMEOUT, limit
    elif returncode == CrawlExit.CONFIG:
        status, message = RunStatus.CONFIG, last_err or "invalid config"
    elif returncode == CrawlExit.LEASE_HELD:
        status, message = RunStatus.BUSY, last_err or f"another process is crawling {source_id!r}"
    elif returncode < 0:
        status, message = RunStatus.CRASHED, f"crawl process killed by signal {-returncode}"
    else:
        status, message = RunStatus.CRASHED, last_err or f"crawl process exited with code {returncode}"
    return CrawlOutcome(source_id, returncode, status, run_id, None, message, timed_out)
