"""crawler/lease.py on SQLite and PostgreSQL: one crawl per source holds the lease, renews it with progress,
takes over from a killed crawl on this machine, and frees it on release."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crawler.lease import LeaseKeeper
from feedsvc.store.leases import acquire_lease, lease_holder, release_lease


def _holder(factory: sessionmaker[Session]) -> str | None:
    with factory() as session:
        return lease_holder(session, "crawl:gw", datetime.now(UTC))


def test_second_keeper_is_told_who_holds_it_until_release(session_factory: sessionmaker[Session]) -> None:
    first = LeaseKeeper(session_factory, timedelta(minutes=5))
    second = LeaseKeeper(session_factory, timedelta(minutes=5))
    assert first.acquire("crawl:gw") is None
    assert second.acquire("crawl:gw") == first.owner  # this process is alive, so no takeover
    first.release("crawl:gw")
    assert _holder(session_factory) is None
    assert second.acquire("crawl:gw") is None
    second.stop()
    assert _holder(session_factory) is None  # stop() releases what the keeper still holds


def test_one_keeper_takes_many_leases_in_one_go(session_factory: sessionmaker[Session]) -> None:
    other = LeaseKeeper(session_factory, timedelta(minutes=5))
    assert other.acquire("crawl:b") is None
    keeper = LeaseKeeper(session_factory, timedelta(minutes=5))
    assert keeper.acquire_many(["crawl:a", "crawl:b", "crawl:c"]) == {"crawl:a": None, "crawl:b": other.owner,
                                                                       "crawl:c": None}
    keeper.stop()
    other.stop()


def test_a_dead_local_holder_is_taken_over(session_factory: sessionmaker[Session]) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = f"{socket.gethostname()}:{child.stdout.strip()}:deadbeef"
    with session_factory() as session, session.begin():
        assert acquire_lease(session, "crawl:gw", dead, datetime.now(UTC), timedelta(minutes=5))
    keeper = LeaseKeeper(session_factory, timedelta(minutes=5))
    assert keeper.acquire("crawl:gw") is None and _holder(session_factory) == keeper.owner
    keeper.stop()


def test_renewal_saves_progress_and_notices_a_lost_lease(session_factory: sessionmaker[Session]) -> None:
    keeper = LeaseKeeper(session_factory, timedelta(seconds=3))  # renews every second
    assert keeper.acquire("crawl:gw") is None
    renewed = threading.Event()

    def progress(session: Any) -> None:
        renewed.set()

    keeper.start(progress)
    assert renewed.wait(timeout=10) and not keeper.lost("crawl:gw")
    with session_factory() as session, session.begin():  # the row goes (as if another crawl took it over)
        release_lease(session, "crawl:gw", keeper.owner)
    deadline = time.monotonic() + 10
    while not keeper.lost("crawl:gw") and time.monotonic() < deadline:
        renewed.clear()
        renewed.wait(timeout=2)  # each renewal calls progress: wait for the next one, not for a fixed time
    assert keeper.lost("crawl:gw")
    keeper.stop()
