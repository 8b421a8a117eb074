"""`feedsvc worker`: one crawl node. Runs the crawler's node process (`python -m crawler.node`, which takes
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
from datetime import datetime
from typing import Any

from feedsvc.after_crawl import AfterCrawl, FinishedRun
from feedsvc.config import AppConfig, parse_now
from feedsvc.models import RunStatus
from feedsvc.scheduling.child import die_with_parent, parse_event, pump_lines
from feedsvc.scheduling.queue import QUEUE_KEY

log = logging.getLogger("feedsvc.worker")

RESTART_DELAY = 5.0


def run_node(cfg: AppConfig, redis_url: str, *, key: str = QUEUE_KEY, window: int | None = None,
             idle_exit: int = 0, stop: threading.Event | None = None, related: bool = True) -> int:
    """Serve as a crawl node until `stop` is set (or SIGTERM), or the node was idle `idle_exit` s (0: never)."""
    stop = stop or threading.Event()
    after = AfterCrawl(cfg, related=related)  # one debounced step for every run this node reports
    try:
        while not stop.is_set():
            code = _run_node(cfg.path, redis_url, key, window, idle_exit, stop, after)
            if stop.is_set() or idle_exit or code == 2:
                return code
            log.warning("crawl node exited with code %d; restarting in %.0fs", code, RESTART_DELAY)
            stop.wait(RESTART_DELAY)
        return 0
    finally:
        after.close()


def _run_node(config_path: str, redis_url: str, key: str, window: int | None, idle_exit: int,
              stop: threading.Event, after: AfterCrawl) -> int:
    cmd = [sys.executable, "-m", "crawler.node", "--config", config_path, "--redis", redis_url, "--key", key,
           "--progress-json", "--idle-exit", str(idle_exit)]
    if window:
        cmd += ["--window", str(window)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, encoding="utf-8",
                            errors="replace", start_new_session=True, preexec_fn=die_with_parent())
    assert proc.stdout is not None
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=pump_lines, args=(proc.stdout, lines), daemon=True).start()
    signalled = False
    while True:
        if stop.is_set() and not signalled:
            proc.send_signal(signal.SIGTERM)  # the node closes its runs as aborted and exits
            signalled = True
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line is None:
            break
        event = parse_event(line)
        if event is not None and event.get("event") == "done":
            after.add([_finished(event)])
        elif event is not None and event.get("event") == "rejected":  # issue 21: what the queue asked and we refused
            log.warning("node rejected source=%s: %s", event.get("source"), event.get("message"))
        elif event is not None and event.get("event") in ("start", "busy", "error", "log"):
            log.info("node %s source=%s %s", event.get("event"), event.get("source"), event.get("message") or "")
    return proc.wait()


def _finished(event: dict[str, Any]) -> FinishedRun:
    at: datetime | None = parse_now(str(event.get("finished_at") or "")) if event.get("finished_at") else None
    return FinishedRun(str(event.get("source")), event.get("run_id"), RunStatus(str(event.get("status"))),
                       tuple(int(i) for i in event.get("new_item_ids") or ()), at)
