"""store/leases.py on SQLite and PostgreSQL: one holder at a time, renewal, expiry and release."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from feedsvc.store.leases import acquire_lease, lease_holder, release_lease, renew_lease

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


def test_release_frees_only_our_own_lease(session: Session) -> None:
    assert acquire_lease(session, "x", "a", T0, TTL)
    release_lease(session, "x", "b")
    assert lease_holder(session, "x", T0) == "a"
    release_lease(session, "x", "a")
    assert lease_holder(session, "x", T0) is None
    assert acquire_lease(session, "x", "b", T0, TTL)
