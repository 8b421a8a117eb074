"""store/meta.py on SQLite and PostgreSQL: key/value upserts and the data version feed caches compare against."""

from __future__ import annotations

from sqlalchemy.orm import Session

from feedsvc.store.meta import bump_data_version, data_version, get_meta, set_meta


def test_set_meta_overwrites_and_get_meta_reads_back(session: Session) -> None:
    assert get_meta(session, "k") is None
    set_meta(session, "k", "one")
    set_meta(session, "k", "two")
    session.commit()
    assert get_meta(session, "k") == "two"


def test_data_version_starts_at_zero_and_each_bump_adds_one(session: Session) -> None:
    assert data_version(session) == 0
    assert bump_data_version(session) == 1
    assert bump_data_version(session) == 2
    session.commit()
    assert data_version(session) == 2
