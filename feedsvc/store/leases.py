"""The `leases` table: time-limited locks shared by every process and machine using the database.

A lease is taken with one conditional statement (insert, or take over an expired/own row), so two
processes racing for it cannot both win, on SQLite or PostgreSQL. A killed holder's lease simply expires.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from feedsvc.models import Lease
from feedsvc.store._base import insert_for, wrap_exceptions


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


@wrap_exceptions
def release_lease(session: Session, name: str, owner: str) -> None:
    session.execute(delete(Lease).where(Lease.name == name, Lease.owner == owner))


@wrap_exceptions
def lease_holder(session: Session, name: str, at: datetime) -> str | None:
    """Who holds `name` now (None when free or expired)."""
    return session.scalar(select(Lease.owner).where(Lease.name == name, Lease.expires_at > at))
