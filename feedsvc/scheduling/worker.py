"""`feedsvc worker`: one crawl node. Runs the crawler's node process (`python -m crawler.worker`, which takes
sources from the shared Redis list), restarts it if it dies, and runs the after-crawl hook (feedsvc.after_crawl)
for the runs it reports. Never imports scrapy.
"""

from __future__ import annotations

import logging
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import Any

from feedsvc.after_crawl import FinishedRun, after_crawl
from feedsvc.config import load_config, parse_now
from feedsvc.scheduling.dispatch import QUEUE_KEY
from feedsvc.scheduling.launcher import parse_event, pump_lines

log = logging.getLogger("feedsvc.worker")

# Finished runs are handed to the after-crawl hook in groups: when this many wait, or this long after the first.
AFTER_CRAWL_BATCH, AFTER_CRAWL_SECONDS = 200, 10.0
RESTART_DELAY = 5.0


def run_worker(config_path: str, redis_url: str, *, key: str = QUEUE_KEY, window: int | None = None,
               idle_exit: int = 0, stop: threading.Event | None = None, related: bool = True) -> int:
    """Serve as a crawl node until `stop` is set (or SIGTERM), or the node was idle `idle_exit` s (0: never)."""
    stop = stop or threading.Event()
    while not stop.is_set():
        code = _run_node(config_path, redis_url, key, window, idle_exit, stop, related)
        if stop.is_set() or idle_exit or code == 2:
            return code
        log.warning("crawl node exited with code %d; restarting in %.0fs", code, RESTART_DELAY)
        stop.wait(RESTART_DELAY)
    return 0


def _run_node(config_path: str, redis_url: str, key: str, window: int | None, idle_exit: int,
              stop: threading.Event, related: bool) -> int:
    cmd = [sys.executable, "-m", "crawler.worker", "--config", config_path, "--redis", redis_url, "--key", key,
           "--progress-json", "--idle-exit", str(idle_exit)]
    if window:
        cmd += ["--window", str(window)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, encoding="utf-8",
                            errors="replace", start_new_session=True)
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=pump_lines, args=(proc.stdout, lines), daemon=True).start()
    pending: list[FinishedRun] = []
    first_pending = 0.0
    signalled = False
    while True:
        if stop.is_set() and not signalled:
            proc.send_signal(signal.SIGTERM)  # the node closes its runs as aborted and exits
            signalled = True
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            line = ""
        if line is None:
            break
        event = parse_event(line) if line else None
        if event is not None and event.get("event") == "done":
            pending.append(_finished(event))
            first_pending = first_pending or time.monotonic()
        elif event is not None and event.get("event") in ("start", "busy", "error", "log"):
            log.info("node %s source=%s %s", event.get("event"), event.get("source"), event.get("message") or "")
        if pending and (len(pending) >= AFTER_CRAWL_BATCH or time.monotonic() - first_pending > AFTER_CRAWL_SECONDS):
            _after(config_path, pending, related)
            pending, first_pending = [], 0.0
    if pending:
        _after(config_path, pending, related)
    return proc.wait()


def _finished(event: dict[str, Any]) -> FinishedRun:
    at: datetime | None = parse_now(str(event.get("finished_at") or "")) if event.get("finished_at") else None
    return FinishedRun(str(event.get("source")), event.get("run_id"), str(event.get("status")),
                       tuple(int(i) for i in event.get("new_item_ids") or ()), at)


def _after(config_path: str, runs: list[FinishedRun], related: bool) -> None:
    try:
        report = after_crawl(load_config(config_path), runs, related=related)
        log.info("after crawl: %d run(s), %d new item(s) related (ok=%s), published=%s", len(runs),
                 report.related_items, report.related_ok, report.published)
    except Exception:  # the node keeps crawling; the next group tries again
        log.exception("after-crawl hook failed for %d run(s)", len(runs))
