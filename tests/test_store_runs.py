"""store/runs.py on SQLite and PostgreSQL: a run's life, its outcome copied to the source, and health."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from feedsvc.models import RunStatus
from feedsvc.store.meta import data_version
from feedsvc.store.runs import (
    RunCounts,
    broken_listings,
    finish_run,
    get_run,
    recent_runs,
    record_crawl_error,
    run_errors,
    source_health,
    start_run,
)
from feedsvc.store.sources import get_source, sync_sources
from tests.feedhelpers import T0, make_config


def test_a_new_run_aborts_the_one_that_never_finished(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    dead = start_run(session, "gw", T0)
    live = start_run(session, "gw", T0 + timedelta(minutes=1))
    session.commit()
    dead_run = get_run(session, dead)
    assert dead_run is not None and dead_run.status == RunStatus.ABORTED
    assert [r.id for r in recent_runs(session, "gw")] == [live, dead]


def test_failure_counts_on_the_source_and_success_resets_it(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    for minute in (0, 1):
        run = start_run(session, "gw", T0 + timedelta(minutes=minute))
        record_crawl_error(session, "gw", run, "http://gw.test/", "http", "503 Service Unavailable", T0)
        finish_run(session, run, RunStatus.FAILED, RunCounts(errors=1), T0, "site down")
    session.commit()
    source = get_source(session, "gw")
    assert source is not None and (source.error_count, source.last_error) == (2, "site down")
    assert [e.message for e in run_errors(session, run)] == ["503 Service Unavailable"]
    assert data_version(session) == 0  # nothing seen: feeds did not change
    ok = start_run(session, "gw", T0 + timedelta(minutes=2))
    finish_run(session, ok, RunStatus.OK, RunCounts(pages=1, items_seen=3), T0 + timedelta(minutes=3))
    session.commit()
    session.expire_all()
    source = get_source(session, "gw")
    assert source is not None and (source.error_count, source.last_error, source.last_status) == (0, None, "ok")
    assert data_version(session) == 1


def test_broken_listings_are_those_empty_now_that_had_items_before() -> None:
    assert broken_listings([]) == []
    assert broken_listings([{"a": 0, "b": 0, "c": 4}, {"a": 3, "b": 0}, {"c": 1}]) == ["a"]


def test_source_health_names_the_listing_that_stopped_yielding(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    for minute, counts in ((0, {"latest": 5, "ranking": 2}), (10, {"latest": 5, "ranking": 0})):
        run = start_run(session, "gw", T0 + timedelta(minutes=minute))
        finish_run(session, run, RunStatus.OK, RunCounts(listing_counts=counts), T0 + timedelta(minutes=minute + 1))
    session.commit()
    health = {h.source.id: h for h in source_health(session)}
    assert health["gw"].broken_listings == ["ranking"]
    assert health["en"].last_run is None and health["en"].item_count == 0
