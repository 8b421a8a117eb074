"""The `leases` table and its one keeper: time-limited locks shared by every process and machine using the
database, the crawl lease's name (`crawl:<source>`) and its owner string (`host:pid:nonce`).

A lease is taken with one conditional statement (insert, or take over an expired/own row), so two
processes racing for it cannot both win, on SQLite or PostgreSQL. A killed holder's lease simply expires;
one on this machine whose pid is gone is taken over at once. No Scrapy here: the crawl process uses the keeper.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from feedsvc.errors import FeedsvcError
from feedsvc.models import Lease
from feedsvc.store._base import insert_for, wrap_exceptions
from feedsvc.store.db import write_transaction

log = logging.getLogger(__name__)


def lease_name(source_id: str) -> str:
    """The lease a crawl of `source_id` holds while it runs."""
    return f"crawl:{source_id}"


@dataclass(frozen=True)
class Owner:
    """Who holds a lease: the host and pid of the process (the nonce tells two keepers of one pid apart)."""

    host: str
    pid: int | None

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()


def format_owner(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{uuid.uuid4().hex[:8]}"


def parse_owner(owner: str) -> Owner:
    """'host:pid[:nonce]' → Owner (pid None when the string carries none)."""
    host, _, rest = owner.partition(":")
    pid_text = rest.split(":", 1)[0]
    return Owner(host, int(pid_text) if pid_text.isascii() and pid_text.isdigit() else None)


def holder_is_dead(owner: str, pid: int | None = None) -> bool:
    """True when `owner` is a process on this machine that no longer exists (when `pid` is given: only if it is
    that process). Another machine's holder is never known dead: its lease expires on its own."""
    who = parse_owner(owner)
    if not who.local or who.pid is None or (pid is not None and who.pid != pid):
        return False
    try:
        os.kill(who.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@wrap_exceptions
def acquire_lease(session: Session, name: str, owner: str, at: datetime, ttl: timedelta) -> bool:
    """Take `name` for `owner` until at+ttl. True when taken (or already ours); commit right after."""
    expires = at + ttl
    stmt = insert_for(session, Lease).values(name=name, owner=owner, acquired_at=at, expires_at=expires)
    stmt = stmt.on_conflict_do_update(
        index_elements=[Lease.name],
        set_={"owner": owner, "acquired_at": at, "expires_at": expires},
        where=or_(Lease.expires_at <= at, Lease.owner == owner),
    )
    session.execute(stmt)
    holder = session.scalar(select(Lease.owner).where(Lease.name == name))
    return holder == owner


@wrap_exceptions
def renew_lease(session: Session, name: str, owner: str, at: datetime, ttl: timedelta) -> bool:
    """Extend our lease; False means we lost it (it expired and someone else took it)."""
    result = session.execute(
        update(Lease).where(Lease.name == name, Lease.owner == owner).values(expires_at=at + ttl)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# Names per statement when many leases are renewed at once (well under every database's bound-parameter limit).
_RENEW_CHUNK = 500


@wrap_exceptions
def renew_leases(session: Session, names: list[str], owner: str, at: datetime, ttl: timedelta) -> set[str]:
    """Extend every lease of `names` we still hold, with one UPDATE and one SELECT per few hundred names (a crawl
    process holds one per source it crawls: hundreds at once); the names we lost are returned."""
    held: set[str] = set()
    for start in range(0, len(names), _RENEW_CHUNK):
        chunk = names[start:start + _RENEW_CHUNK]
        session.execute(update(Lease).where(Lease.name.in_(chunk), Lease.owner == owner).values(expires_at=at + ttl))
        held.update(session.scalars(select(Lease.name).where(Lease.name.in_(chunk), Lease.owner == owner)))
    return set(names) - held


@wrap_exceptions
def release_lease(session: Session, name: str, owner: str) -> None:
    session.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner))


@wrap_exceptions
def lease_holder(session: Session, name: str, at: datetime) -> str | None:
    """Who holds `name` now (None when free or expired)."""
    return session.scalar(select(Lease.owner).where(Lease.name == name, Lease.expires_at > at))


class LeaseKeeper:
    """Holds `crawl:<source>` leases; renews them (and saves run progress) from one side thread."""

    def __init__(self, session_factory: Any, ttl: timedelta) -> None:
        self.session_factory = session_factory
        self.ttl = ttl
        self.owner = format_owner(os.getpid())
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
        out: dict[str, str | None] = {}
        with write_transaction(self.session_factory) as session:
            for name in names:
                if acquire_lease(session, name, self.owner, datetime.now(UTC), self.ttl):
                    out[name] = None
                    continue
                holder = lease_holder(session, name, datetime.now(UTC))
                if holder and holder_is_dead(holder):
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
        with self._lock:
            names = sorted(self._held - self._lost)
        try:
            with write_transaction(self.session_factory) as session:
                gone = renew_leases(session, names, self.owner, datetime.now(UTC), self.ttl)
                if progress is not None:
                    progress(session)
        except FeedsvcError as exc:
            log.warning("could not renew %d lease(s): %s", len(names), exc)
            return
        if gone:
            with self._lock:
                self._lost.update(gone)

    def release(self, name: str) -> None:
        with self._lock:
            if name not in self._held:
                return
            self._held.discard(name)
        try:
            with write_transaction(self.session_factory) as session:
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
