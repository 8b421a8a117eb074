"""store/meta.py on SQLite and PostgreSQL: key/value reads and the data version feed caches compare against."""

from __future__ import annotations

from sqlalchemy.orm import Session

from feedsvc.store.meta import bump_data_version, data_version, get_meta


def test_get_meta_reads_what_was_written(session: Session) -> None:
    assert get_meta(session, "k") is None and get_meta(session, "data_version") is None
    bump_data_version(session)
    session.commit()
    assert get_meta(session, "data_version") == "1"


def test_data_version_starts_at_zero_and_each_bump_adds_one(session: Session) -> None:
    assert data_version(session) == 0
    assert bump_data_version(session) == 1
    assert bump_data_version(session) == 2
    session.commit()
    assert data_version(session) == 2
