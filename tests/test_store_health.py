"""Source health (feedsvc/store/health.py) on SQLite and PostgreSQL, and the one verdict both `feedsvc status`
and the front page show for the same database."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from feedsvc.config import load_config
from feedsvc.http.app import create_app
from feedsvc.store import Store
from feedsvc.store.health import (
    DIED,
    NEVER_CRAWLED,
    broken_listings,
    health,
    health_run_points,
    listing_breaks,
)
from feedsvc.store.items import ItemRecord, item_ids_by_url, store_items
from feedsvc.store.leases import acquire_lease
from feedsvc.store.related import mark_duplicates
from feedsvc.store.runs import RunCounts, finish_run, start_run
from feedsvc.store.sources import sync_sources
from tests.support.crawls import child_env, simple_source, write_config
from tests.support.feeds import T0, make_config


def _gone_pid() -> int:
    """A pid that existed and is gone: what a crawl killed with SIGKILL leaves behind."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    return dead.pid


def _finished(session: Session, source: str, at: datetime, counts: dict[str, int], status: str = "ok") -> int:
    run = start_run(session, source, at)
    finish_run(session, run, status, RunCounts(listing_counts=counts), at + timedelta(minutes=1))
    return run


def test_broken_listings_are_those_empty_now_that_had_items_before() -> None:
    assert broken_listings([]) == []
    assert broken_listings([{"a": 0, "b": 0, "c": 4}, {"a": 3, "b": 0}, {"c": 1}]) == ["a"]


def test_health_names_the_listing_that_stopped_yielding(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    _finished(session, "gw", T0, {"latest": 5, "ranking": 2})
    _finished(session, "gw", T0 + timedelta(minutes=10), {"latest": 5, "ranking": 0})
    session.commit()
    verdicts = health(session, T0 + timedelta(hours=1))
    assert verdicts["gw"].broken_listings == ["ranking"] and not verdicts["gw"].healthy
    assert verdicts["gw"].summary == "listing(s) ranking yielded nothing; selector may be broken"
    assert (verdicts["en"].state, verdicts["en"].healthy, verdicts["en"].last_run) == (NEVER_CRAWLED, True, None)


def test_health_run_points_read_more_runs_only_to_confirm_a_break(session: Session) -> None:
    sync_sources(session, make_config("sqlite://").sources, T0)
    for hour in range(4):
        _finished(session, "gw", T0 + timedelta(hours=hour), {"ranking": 1, "latest": 1})
    _finished(session, "gw", T0 + timedelta(hours=5), {"ranking": 1, "latest": 0})  # a break to confirm
    for hour in range(4):
        _finished(session, "en", T0 + timedelta(hours=hour), {"latest": 3})
    start_run(session, "en", T0 + timedelta(hours=9))  # running: the finished run before it still counts
    session.commit()
    runs = health_run_points(session, ["gw", "en"], window=5)
    assert len(runs["gw"]) == 5 and listing_breaks(runs["gw"]) == ["latest"]
    assert len(runs["en"]) == 2 and listing_breaks(runs["en"]) == []


def test_a_running_run_is_alive_only_while_its_crawl_holds_the_lease(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    here = socket.gethostname()
    start_run(session, "gw", T0, pid=os.getpid())
    acquire_lease(session, "crawl:gw", f"{here}:{os.getpid()}:live", T0, timedelta(hours=1))
    gone = _gone_pid()
    start_run(session, "en", T0, pid=gone)
    acquire_lease(session, "crawl:en", f"{here}:{gone}:killed", T0, timedelta(hours=1))
    session.commit()
    verdicts = health(session, T0 + timedelta(minutes=5))
    assert (verdicts["gw"].state, verdicts["gw"].healthy) == ("running", True)
    assert (verdicts["en"].state, verdicts["en"].healthy) == (DIED, False)  # its pid is gone
    later = health(session, T0 + timedelta(hours=2))  # the leases ran out: nobody renews them
    assert later["gw"].state == DIED and later["en"].state == DIED


def test_health_counts_the_items_feeds_show(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    records = [ItemRecord(source_id="gw", url=f"http://gw.test/{n}", title=f"t{n}") for n in range(3)]
    store_items(session, records, None, T0)
    session.commit()
    assert health(session, T0)["gw"].item_count == 3
    ids = item_ids_by_url(session, ["http://gw.test/0", "http://gw.test/1"])
    mark_duplicates(session, {ids["http://gw.test/1"]: ids["http://gw.test/0"]})
    session.commit()
    assert health(session, T0)["gw"].item_count == 2  # a near-duplicate is not shown, so not counted


def _status_results(config: Path) -> dict[str, str]:
    """source id → the 'result' cell `feedsvc status` prints for it."""
    env = {**child_env(), "COLUMNS": "200"}
    result = subprocess.run([sys.executable, "-m", "feedsvc", "status", "--config", str(config)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    cells: dict[str, str] = {}
    for line in result.stdout.splitlines():
        parts = re.split(r"\s{2,}", line.strip())  # columns: source, last run, result, ...
        if len(parts) >= 3 and parts[0] in ("ok", "broken", "failing", "died", "never"):
            cells[parts[0]] = parts[2]
    return cells


def test_status_and_front_page_give_the_same_verdict(tmp_path: Path) -> None:
    names = ("ok", "broken", "failing", "died", "never")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                          [simple_source(n, f"http://127.0.0.1:9/{n}") for n in names])
    cfg = load_config(config)
    now = datetime.now(UTC)
    earlier = now - timedelta(hours=1)
    with Store.for_config(cfg) as store, store.transaction() as session:
        sync_sources(session, cfg.sources, earlier)
        store_items(session, [ItemRecord(source_id="ok", url="http://127.0.0.1:9/ok/1", title="One")], None, earlier)
        _finished(session, "ok", earlier, {"latest": 1})
        _finished(session, "broken", earlier - timedelta(minutes=5), {"latest": 4})
        _finished(session, "broken", earlier, {"latest": 0})
        _finished(session, "failing", earlier, {}, status="failed")
        gone = _gone_pid()
        start_run(session, "died", earlier, pid=gone)
        acquire_lease(session, "crawl:died", f"{socket.gethostname()}:{gone}:killed", now, timedelta(hours=2))
    shown = _status_results(config)
    with TestClient(create_app(cfg, check_interval=0)) as client:
        page = lxml.html.fromstring(client.get("/").content)
    badges = {n: page.xpath(f"//article[@id='source-{n}']//span[contains(@class,'badge')]")[0] for n in names}
    assert {n: b.text for n, b in badges.items()} == {
        "ok": "ok", "broken": "ok", "failing": "failed", "died": DIED, "never": NEVER_CRAWLED}
    assert {n: b.text for n, b in badges.items()} == shown
    healthy = {n: "good" in badges[n].get("class") for n in names}
    assert healthy == {"ok": True, "broken": False, "failing": False, "died": False, "never": True}
