"""store/sources.py on SQLite and PostgreSQL: the sources table follows the config; removed sources stay inactive."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from feedsvc.models import Source
from feedsvc.store.sources import list_sources, set_next_run, sync_sources
from tests.support.feeds import T0, make_config


def test_sync_sources_inserts_refreshes_and_deactivates(session: Session, db_url: str) -> None:
    cfg = make_config(db_url)
    sync_sources(session, cfg.sources, T0)
    assert [s.id for s in list_sources(session, active_only=True)] == ["en", "gw"]
    renamed = cfg.sources[1].model_copy(update={"title": "Renamed"})
    sync_sources(session, [renamed], T0)
    session.commit()
    assert [s.id for s in list_sources(session, active_only=True)] == ["en"]
    assert [s.id for s in list_sources(session)] == ["en", "gw"]
    en = session.get(Source, "en")
    assert en is not None and en.title == "Renamed" and en.timezone == "America/New_York"


def test_set_next_run(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    at = datetime(2026, 10, 12, 6, 0, tzinfo=UTC)
    set_next_run(session, "gw", at)
    session.commit()
    row = session.get(Source, "gw")
    assert row is not None and row.next_run_at is not None
    assert row.next_run_at.replace(tzinfo=row.next_run_at.tzinfo or UTC) == at
