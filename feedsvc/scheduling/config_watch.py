"""Notice config changes: a thread polls the file's mtime and content hash, and SIGHUP can ask for a reload.

Polling (every few seconds) needs no extra dependency and works on every file system, including bind
mounts and editors that replace the file instead of writing it in place.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("feedsvc.scheduler")


def file_fingerprint(path: Path) -> tuple[float, str] | None:
    """(mtime, sha256) of the file, None when it cannot be read (mid-save, deleted)."""
    try:
        stat = path.stat()
        return stat.st_mtime, hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class ConfigWatcher:
    """Calls `on_change()` from its own thread when the file's content changes or `request()` is called."""

    def __init__(self, path: str | Path, on_change: Callable[[], object], interval: float = 2.0,
                 watch_file: bool = True) -> None:
        self.path = Path(path)
        self.on_change = on_change
        self.interval = interval
        self.watch_file = watch_file
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last = file_fingerprint(self.path)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="config-watch", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Ask for a reload now (safe to call from a signal handler: it only sets an event)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            asked = self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            current = file_fingerprint(self.path)
            # Only the hash decides: an mtime-only touch (e.g. `touch`, a checkout) is not a change.
            changed = (self.watch_file and current is not None and
                       (self._last is None or current[1] != self._last[1]))
            if not (asked or changed):
                continue
            if current is not None:
                self._last = current
            log.info("config reload (%s) path=%s", "SIGHUP" if asked else "file changed", self.path)
            try:
                self.on_change()
            except Exception:  # a failed reload keeps the old config; the watcher must live on
                log.exception("config reload failed path=%s", self.path)
