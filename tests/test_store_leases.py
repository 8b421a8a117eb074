"""store/leases.py on SQLite and PostgreSQL: one holder at a time, renewal, expiry and release; the owner string;
the keeper a crawl process holds its leases with (renews with progress, takes over from a killed local crawl)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from feedsvc.store.leases import (
    LeaseKeeper,
    Owner,
    acquire_lease,
    format_owner,
    holder_is_dead,
    lease_holder,
    lease_name,
    parse_owner,
    release_lease,
    renew_lease,
    renew_leases,
)

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def test_a_held_lease_is_not_taken_by_another_owner_until_it_expires(session: Session) -> None:
    assert acquire_lease(session, "crawl:gw", "a", T0, TTL)
    assert acquire_lease(session, "crawl:gw", "a", T0 + timedelta(minutes=1), TTL)  # already ours
    assert not acquire_lease(session, "crawl:gw", "b", T0 + timedelta(minutes=2), TTL)
    assert lease_holder(session, "crawl:gw", T0 + timedelta(minutes=2)) == "a"
    later = T0 + timedelta(minutes=7)  # a's second take ran until T0+6min
    assert lease_holder(session, "crawl:gw", later) is None
    assert acquire_lease(session, "crawl:gw", "b", later, TTL)
    assert lease_holder(session, "crawl:gw", later) == "b"


def test_renew_fails_once_someone_else_took_the_lease(session: Session) -> None:
    assert acquire_lease(session, "x", "a", T0, TTL)
    assert renew_lease(session, "x", "a", T0 + timedelta(minutes=4), TTL)
    assert lease_holder(session, "x", T0 + timedelta(minutes=8)) == "a"  # renewed until T0+9min
    assert acquire_lease(session, "x", "b", T0 + timedelta(minutes=10), TTL)
    assert not renew_lease(session, "x", "a", T0 + timedelta(minutes=10), TTL)


def test_renewing_many_leases_at_once_extends_ours_and_names_the_lost(session: Session) -> None:
    names = [f"crawl:s{i}" for i in range(1200)]  # more than one statement's worth
    for name in names:
        assert acquire_lease(session, name, "a", T0, TTL)
    assert acquire_lease(session, "crawl:other", "c", T0, TTL)
    taken = T0 + timedelta(minutes=6)  # ours expired at T0+5min: b takes two of them
    assert acquire_lease(session, names[3], "b", taken, TTL) and acquire_lease(session, names[1100], "b", taken, TTL)
    lost = renew_leases(session, [*names, "crawl:other"], "a", taken, TTL)
    assert lost == {names[3], names[1100], "crawl:other"}
    later = taken + timedelta(minutes=4)  # renewed until taken + 5 min
    assert all(lease_holder(session, n, later) == "a" for n in names if n not in lost)
    assert lease_holder(session, names[3], later) == "b" and lease_holder(session, "crawl:other", later) is None


def test_release_frees_only_our_own_lease(session: Session) -> None:
    assert acquire_lease(session, "x", "a", T0, TTL)
    release_lease(session, "x", "b")
    assert lease_holder(session, "x", T0) == "a"
    release_lease(session, "x", "a")
    assert lease_holder(session, "x", T0) is None
    assert acquire_lease(session, "x", "b", T0, TTL)


def test_one_owner_format_parsed_back_and_one_lease_name() -> None:
    owner = format_owner(4242)
    assert parse_owner(owner) == Owner(socket.gethostname(), 4242) and parse_owner(owner).local
    assert parse_owner("otherhost:12:x") == Owner("otherhost", 12)
    assert parse_owner("weird") == Owner("weird", None) and parse_owner("h:²:x").pid is None
    assert lease_name("gw") == "crawl:gw"
    assert not holder_is_dead(format_owner(os.getpid()))  # this process lives
    assert not holder_is_dead("otherhost:1:x")  # another machine's holder is never known dead


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
