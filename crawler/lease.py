"""LeaseKeeper: holds the crawl leases (`crawl:<source>`) of one crawler process in the database.

One keeper per process, however many sources it crawls: a single side thread renews every held lease in one
transaction (and saves the runs' progress), so a crawl that hangs or is killed stops renewing and its leases
expire; a killed crawl on this same machine is detected at once (its pid is gone).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsvc.errors import FeedsvcError

log = logging.getLogger(__name__)


def lease_name(source_id: str) -> str:
    return f"crawl:{source_id}"


class LeaseKeeper:
    """Holds `crawl:<source>` leases; renews them (and saves run progress) from one side thread."""

    def __init__(self, session_factory: Any, ttl: timedelta) -> None:
        self.session_factory = session_factory
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._held: set[str] = set()
        self._lost: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, name: str) -> str | None:
        """None when acquired, else the current holder."""
        return self.acquire_many([name])[name]

    def acquire_many(self, names: list[str]) -> dict[str, str | None]:
        """Each name → None when acquired, else its current holder; one transaction for all of them."""
        from feedsvc.store.leases import acquire_lease, lease_holder, release_lease

        out: dict[str, str | None] = {}
        with self.session_factory() as session, session.begin():
            for name in names:
                if acquire_lease(session, name, self.owner, datetime.now(UTC), self.ttl):
                    out[name] = None
                    continue
                holder = lease_holder(session, name, datetime.now(UTC))
                if holder and _dead_local_holder(holder):
                    # A crawl on this machine was killed without releasing: its lease is stale, take it over.
                    log.warning("taking over stale lease %s from dead process %s", name, holder)
                    release_lease(session, name, holder)
                    if acquire_lease(session, name, self.owner, datetime.now(UTC), self.ttl):
                        out[name] = None
                        continue
                out[name] = holder or "unknown"
        for name, holder in out.items():
            if holder is None:
                self._hold(name)
        return out

    def _hold(self, name: str) -> None:
        with self._lock:
            self._held.add(name)
            self._lost.discard(name)

    def lost(self, name: str) -> bool:
        """True once a renewal found `name` taken by another process."""
        with self._lock:
            return name in self._lost

    def start(self, progress: Callable[[Any], None]) -> None:
        interval = max(1.0, min(self.ttl.total_seconds() / 3, 30.0))

        def loop() -> None:
            while not self._stop.wait(interval):
                self.renew(progress)

        self._thread = threading.Thread(target=loop, name="lease", daemon=True)
        self._thread.start()

    def renew(self, progress: Callable[[Any], None] | None = None) -> None:
        from feedsvc.store.leases import renew_lease

        with self._lock:
            names = sorted(self._held - self._lost)
        try:
            with self.session_factory() as session, session.begin():
                gone = [n for n in names if not renew_lease(session, n, self.owner, datetime.now(UTC), self.ttl)]
                if progress is not None:
                    progress(session)
        except FeedsvcError as exc:
            log.warning("could not renew %d lease(s): %s", len(names), exc)
            return
        if gone:
            with self._lock:
                self._lost.update(gone)

    def release(self, name: str) -> None:
        from feedsvc.store.leases import release_lease

        with self._lock:
            if name not in self._held:
                return
            self._held.discard(name)
        try:
            with self.session_factory() as session, session.begin():
                release_lease(session, name, self.owner)
        except FeedsvcError as exc:  # it expires on its own after ttl
            log.warning("could not release lease %s: %s", name, exc)

    def stop(self) -> None:
        """Stop renewing and release every lease still held."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            names = sorted(self._held)
        for name in names:
            self.release(name)


def _dead_local_holder(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
