"""store/runs.py on SQLite and PostgreSQL: a run's life and its outcome copied to the source."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedsvc.models import CrawlErrorRecord, RunStatus, Source
from feedsvc.store.meta import data_version
from feedsvc.store.overview import recent_run_points
from feedsvc.store.runs import (
    RunCounts,
    finish_run,
    get_run,
    record_crawl_error,
    start_run,
    update_run_progress,
)
from feedsvc.store.sources import sync_sources
from tests.support.feeds import T0, make_config


def test_a_new_run_aborts_the_one_that_never_finished(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    dead = start_run(session, "gw", T0)
    live = start_run(session, "gw", T0 + timedelta(minutes=1))
    session.commit()
    dead_run = get_run(session, dead)
    assert dead_run is not None and dead_run.status == RunStatus.ABORTED
    assert [r.id for r in recent_run_points(session, ["gw"])["gw"]] == [live, dead]


def test_failure_counts_on_the_source_and_success_resets_it(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    for minute in (0, 1):
        run = start_run(session, "gw", T0 + timedelta(minutes=minute))
        record_crawl_error(session, "gw", run, "http://gw.test/", "http", "503 Service Unavailable", T0)
        finish_run(session, run, RunStatus.FAILED, RunCounts(errors=1), T0, "site down")
    session.commit()
    source = session.get(Source, "gw")
    assert source is not None and (source.error_count, source.last_error) == (2, "site down")
    errors = session.scalars(select(CrawlErrorRecord.message).where(CrawlErrorRecord.run_id == run)).all()
    assert errors == ["503 Service Unavailable"]
    assert data_version(session) == 0  # nothing seen: feeds did not change
    ok = start_run(session, "gw", T0 + timedelta(minutes=2))
    finish_run(session, ok, RunStatus.OK, RunCounts(pages=1, items_seen=3), T0 + timedelta(minutes=3))
    session.commit()
    session.expire_all()
    source = session.get(Source, "gw")
    assert source is not None and (source.error_count, source.last_error, source.last_status) == (0, None, "ok")
    assert data_version(session) == 1


def test_a_late_end_closes_the_run_start_run_aborted_and_nothing_else(session: Session, db_url: str) -> None:
    from feedsvc.store.runs import RunEnd, record_late_end

    sync_sources(session, make_config(db_url).sources, T0)
    full = start_run(session, "gw", T0)  # its process could not write its end: a full disk
    later = start_run(session, "gw", T0 + timedelta(minutes=1))  # aborts it, "did not finish"
    end = RunEnd(full, "gw", RunStatus.FAILED, "database write failed: database or disk is full", T0,
                 RunCounts(pages=3))
    assert record_late_end(session, end)
    finish_run(session, later, RunStatus.OK, RunCounts(), T0 + timedelta(minutes=2), "fine")
    assert not record_late_end(session, RunEnd(later, "gw", RunStatus.FAILED, "stale", T0))  # closed: kept
    assert not record_late_end(session, RunEnd(full, "other", RunStatus.OK, "wrong source", T0))
    session.commit()
    run = get_run(session, full)
    assert run is not None and (run.status, run.message, run.pages) == (
        RunStatus.FAILED, "database write failed: database or disk is full", 3)
    closed = get_run(session, later)
    assert closed is not None and closed.message == "fine"


def test_progress_of_many_running_crawls_is_saved_in_one_go(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    first, second = start_run(session, "gw", T0), start_run(session, "gw", T0 + timedelta(minutes=1))
    update_run_progress(session, {first: RunCounts(pages=3, items_seen=7, listing_counts={"latest": 7}),
                                  second: RunCounts(pages=1, errors=2)})
    update_run_progress(session, {})
    session.commit()
    one, two = get_run(session, first), get_run(session, second)
    assert one is not None and (one.pages, one.items_seen, one.errors, one.listing_counts) == (3, 7, 0, {"latest": 7})
    assert two is not None and (two.pages, two.items_seen, two.errors, two.listing_counts) == (1, 0, 2, {})
