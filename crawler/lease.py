"""LeaseKeeper: holds a source's crawl lease (`crawl:<source>`) in the database for the life of one crawl process.

The lease is renewed from a side thread (which also saves the run's progress), so a crawl that hangs or is
killed stops renewing and its lease expires; a killed crawl on this same machine is detected at once.
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


class LeaseKeeper:
    """Holds `crawl:<source>` in the database; renews it (and saves run progress) from a side thread."""

    def __init__(self, session_factory: Any, name: str, ttl: timedelta) -> None:
        self.session_factory = session_factory
        self.name = name
        self.ttl = ttl
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self) -> str | None:
        """None when acquired, else the current holder."""
        from feedsvc.store.leases import acquire_lease, lease_holder, release_lease

        with self.session_factory() as session, session.begin():
            if acquire_lease(session, self.name, self.owner, datetime.now(UTC), self.ttl):
                return None
            holder = lease_holder(session, self.name, datetime.now(UTC))
            if holder and _dead_local_holder(holder):
                # A crawl on this machine was killed without releasing: its lease is stale, take it over.
                log.warning("taking over stale lease %s from dead process %s", self.name, holder)
                release_lease(session, self.name, holder)
                if acquire_lease(session, self.name, self.owner, datetime.now(UTC), self.ttl):
                    return None
            return holder or "unknown"

    def start(self, progress: Callable[[Any], None]) -> None:
        interval = max(1.0, min(self.ttl.total_seconds() / 3, 30.0))

        def loop() -> None:
            from feedsvc.store.leases import renew_lease

            while not self._stop.wait(interval):
                try:
                    with self.session_factory() as session, session.begin():
                        if not renew_lease(session, self.name, self.owner, datetime.now(UTC), self.ttl):
                            self.lost.set()
                        progress(session)
                except FeedsvcError as exc:
                    log.warning("could not renew lease %s: %s", self.name, exc)

        self._thread = threading.Thread(target=loop, name="lease", daemon=True)
        self._thread.start()

    def release(self) -> None:
        from feedsvc.store.leases import release_lease

        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self.session_factory() as session, session.begin():
            release_lease(session, self.name, self.owner)


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
