"""Front-page reads (feedsvc/store/overview.py) on SQLite and PostgreSQL, written through the real store writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from feedsvc.store.health import listing_breaks
from feedsvc.store.items import ItemRecord, store_items
from feedsvc.store.overview import listings_now, recent_run_points, run_warnings
from feedsvc.store.related import mark_duplicates
from feedsvc.store.runs import RunCounts, finish_run, record_crawl_error, start_run
from feedsvc.store.sources import sync_sources
from tests.support.feeds import make_config

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _setup(session: Session) -> None:
    sync_sources(session, make_config("sqlite://").sources, T0)


def _crawl(session: Session, at: datetime, ranking: list[str], latest: list[str] = (), status: str = "ok") -> int:  # type: ignore[assignment]
    run = start_run(session, "gw", at)
    records = [ItemRecord(source_id="gw", url=f"http://gw.test/{u}", title=f"标题 {u}", listing_id="ranking",
                          listing_kind="ranking", rank=n) for n, u in enumerate(ranking, 1)]
    records += [ItemRecord(source_id="gw", url=f"http://gw.test/{u}", title=f"title {u}", listing_id="latest",
                           listing_kind="latest", date_text="3月1日", published=at) for u in latest]
    result = store_items(session, records, run, at)
    counts = {"ranking": len(ranking), "latest": len(latest)}
    finish_run(session, run, status, RunCounts(items_seen=result.seen, items_new=result.new, listing_counts=counts),
               at + timedelta(seconds=5))
    return run


def test_recent_run_points_are_the_newest_per_source_newest_first(session: Session) -> None:
    _setup(session)
    for n in range(33):
        run = start_run(session, "gw", T0 + timedelta(hours=n))
        finish_run(session, run, "failed" if n % 10 == 0 else "ok", RunCounts(items_new=n), T0 + timedelta(hours=n))
    start_run(session, "en", T0)
    session.commit()
    points = recent_run_points(session, ["gw", "en", "nothing"], per_source=30)
    assert [p.items_new for p in points["gw"]] == list(range(32, 2, -1))
    assert points["gw"][2].status == "failed" and points["gw"][0].finished
    assert [p.status for p in points["en"]] == ["running"] and not points["en"][0].finished
    assert points["nothing"] == []


def test_listing_now_ranks_movement_and_new_items(session: Session) -> None:
    _setup(session)
    _crawl(session, T0, ["a", "b", "c"], latest=["x", "y"])
    failed = start_run(session, "gw", T0 + timedelta(hours=1))  # a failed run in between changes nothing shown
    finish_run(session, failed, "failed", RunCounts(), T0 + timedelta(hours=1), message="connection refused")
    _crawl(session, T0 + timedelta(hours=2), ["c", "a", "d"])
    start_run(session, "gw", T0 + timedelta(hours=3))  # still running: not what the page shows
    session.commit()
    runs = recent_run_points(session, ["gw"])["gw"]
    now = listings_now(session, "gw", ["ranking", "latest", "recommended"], runs, limit=10)
    ranking = now["ranking"]
    assert [(i.title, i.rank, i.previous_rank, i.is_new) for i in ranking.items] == [
        ("标题 c", 1, 3, False), ("标题 a", 2, 1, False), ("标题 d", 3, None, True)]
    assert ranking.total == 3 and ranking.run is not None and ranking.run.started_at == T0 + timedelta(hours=2)
    # 'latest' was last seen by the first crawl: its items stay current, and a first crawl marks nothing new.
    latest = now["latest"]
    assert [i.url for i in latest.items] == ["http://gw.test/x", "http://gw.test/y"]
    assert not any(i.is_new for i in latest.items)
    assert latest.items[0].date_text == "3月1日" and latest.items[0].published == T0
    assert now["recommended"].items == [] and now["recommended"].run is None
    assert listings_now(session, "gw", ["ranking"], runs, limit=2)["ranking"].total == 3


def test_listing_now_hides_near_duplicates(session: Session) -> None:
    _setup(session)
    _crawl(session, T0, ["a", "b"])
    session.commit()
    runs = recent_run_points(session, ["gw"])["gw"]
    ids = {i.url: i.id for i in listings_now(session, "gw", ["ranking"], runs)["ranking"].items}
    mark_duplicates(session, {ids["http://gw.test/b"]: ids["http://gw.test/a"]})
    session.commit()
    assert [i.url for i in listings_now(session, "gw", ["ranking"], runs)["ranking"].items] == ["http://gw.test/a"]


def test_warnings_and_broken_listings(session: Session) -> None:
    _setup(session)
    _crawl(session, T0, ["a"], latest=["x"])
    run = _crawl(session, T0 + timedelta(hours=1), ["a"])
    record_crawl_error(session, "gw", run, "http://gw.test/", "healed", "listing 'latest' healed: block is now 'ul'", T0)
    record_crawl_error(session, "gw", run, "http://gw.test/private/", "robots", "Forbidden by robots.txt", T0)
    record_crawl_error(session, "gw", run, "http://gw.test/404", "http", "HTTP 404", T0)
    session.commit()
    runs = recent_run_points(session, ["gw"])["gw"]
    assert listing_breaks(runs) == ["latest"]
    found = run_warnings(session, [run])[run]
    assert [(w.kind, w.url) for w in found] == [("healed", "http://gw.test/"), ("robots", "http://gw.test/private/")]
    assert run_warnings(session, []) == {}
