"""Start one crawl as a child process (`python -m crawler.run`) and report how it went. Must not import scrapy.

Each crawl runs in its own process group so a hung or leaking crawl can be stopped as a whole (SIGTERM,
then SIGKILL) without touching the caller: the CLI, the scheduler or the feed server.
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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

from feedsvc.records import RunCounts

log = logging.getLogger(__name__)

# Exit codes of `python -m crawler.run` (kept in step with crawler/run.py).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_LEASE_HELD = 3
# How long a crawl gets to finish its current batch after SIGTERM before it is killed outright.
TERM_GRACE_SECONDS = 15.0

Event = dict[str, Any]


@dataclass(frozen=True)
class CrawlOutcome:
    """status: ok | partial | failed | aborted (the crawl's own verdict), or, when it gave none:
    config (bad config), busy (another process holds the source's lease), timeout, crashed."""

    source_id: str
    returncode: int
    status: str
    run_id: int | None
    counts: RunCounts | None
    message: str
    timed_out: bool = False

    @property
    def succeeded(self) -> bool:
        return self.status in ("ok", "partial")


def crawl_command(config_path: str, source_id: str, *, now: datetime | None = None, trigger: str = "manual") -> list[str]:
    cmd = [sys.executable, "-m", "crawler.run", source_id, "--config", config_path,
           "--trigger", trigger, "--progress-json"]
    if now is not None:
        cmd += ["--now", now.isoformat()]
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


def _pump(stream: TextIO, sink: queue.Queue[str | None]) -> None:
    for line in stream:
        sink.put(line)
    sink.put(None)


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


def run_crawl(
    config_path: str,
    source_id: str,
    *,
    now: datetime | None = None,
    trigger: str = "manual",
    timeout: float | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> CrawlOutcome:
    """Run one source's crawl in a child process; stream its progress events; stop it after `timeout` s."""
    cmd = crawl_command(config_path, source_id, now=now, trigger=trigger)
    log.info("starting crawl source=%s: %s", source_id, " ".join(cmd))
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        encoding="utf-8", errors="replace", start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    stderr_tail: deque[str] = deque(maxlen=40)
    threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
    err_thread = threading.Thread(target=lambda: stderr_tail.extend(proc.stderr or ()), daemon=True)
    err_thread.start()

    deadline = None if timeout is None else time.monotonic() + timeout
    run_id: int | None = None
    done: Event | None = None
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
            event = _parse_event(line)
            if event is None:
                continue
            if event.get("event") == "start":
                run_id = event.get("run_id")
            elif event.get("event") == "done":
                done = event
            if on_event is not None:
                try:
                    on_event(event)
                except Exception:  # a display bug must not lose the crawl's outcome
                    log.exception("progress callback failed source=%s", source_id)
    except BaseException:
        _stop_group(proc, TERM_GRACE_SECONDS)
        raise
    if timed_out:
        log.warning("crawl timed out source=%s after %.0fs; stopping it", source_id, timeout or 0)
        _stop_group(proc, TERM_GRACE_SECONDS)
    returncode = proc.wait()
    err_thread.join(timeout=5)
    return _outcome(source_id, returncode, run_id, done, timed_out, timeout, list(stderr_tail))


def _parse_event(line: str) -> Event | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def _outcome(
    source_id: str, returncode: int, run_id: int | None, done: Event | None, timed_out: bool,
    timeout: float | None, stderr_tail: list[str],
) -> CrawlOutcome:
    last_err = next((ln.strip() for ln in reversed(stderr_tail) if ln.strip()), "")
    if done is not None:  # the crawl finished and recorded its run; a timeout could only hit the steps after it
        message = str(done.get("message") or "")
        if timed_out:
            message += "; stopped after the crawl (time limit) while refreshing related items"
        return CrawlOutcome(source_id, returncode, str(done.get("status", "failed")), done.get("run_id", run_id),
                            counts_from_event(done.get("counts")), message, timed_out)
    if timed_out:
        status, message = "timeout", f"crawl of {source_id!r} exceeded its time limit of {timeout:.0f}s and was stopped"
    elif returncode == EXIT_CONFIG:
        status, message = "config", last_err or "invalid config"
    elif returncode == EXIT_LEASE_HELD:
        status, message = "busy", last_err or f"another process is crawling {source_id!r}"
    elif returncode < 0:
        status, message = "crashed", f"crawl process killed by signal {-returncode}"
    else:
        status, message = "crashed", last_err or f"crawl process exited with code {returncode}"
    counts = counts_from_event(done.get("counts")) if done else None
    return CrawlOutcome(source_id, returncode, status, run_id, counts, message, timed_out)
