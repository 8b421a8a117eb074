"""The scheduler with real crawls: child processes against the fixture site, the database lease, a crawl
child killed with SIGKILL, retries recorded in crawl_runs, and a clean stop while a crawl runs."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from feedsvc.config import load_config
from feedsvc.models import CrawlRun
from feedsvc.scheduling.child import CrawlOutcome, run_crawl
from feedsvc.scheduling.service import SchedulerService
from feedsvc.store import Store
from feedsvc.store.leases import acquire_lease, lease_holder, release_lease
from tests.support.crawls import gw_source
from tests.support.scheduling import config_toml, line_job_id, run_now, wait_for
from tests.support.site_server import SiteServer

CRAWL_SETTINGS = "[crawl]\ndownload_delay = 0\nautothrottle = false\ntimeout = 3\nretries = 0\n"


@pytest.fixture(autouse=True)
def _own_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEEDSVC_DATABASE_URL", raising=False)


def write(path: Path, db_url: str, sources: list[str], **scheduler: object) -> Path:
    text = config_toml(db_url, sources, **scheduler).replace(
        "[crawl]\ndownload_delay = 0\nautothrottle = false\nobey_robots = true\n", CRAWL_SETTINGS)
    path.write_text(text, encoding="utf-8")
    return path


def runs(path: Path) -> list[CrawlRun]:
    cfg = load_config(path)
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, factory = _store.engine, _store.session_factory
    try:
        with factory() as session:
            return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))
    finally:
        engine.dispose()


def start(services: list[SchedulerService], path: Path) -> SchedulerService:
    service = SchedulerService(str(path), poll_interval=0.2)
    service.start()
    services.append(service)
    return service


def test_two_processes_race_for_one_source(tmp_path: Path, db_url: str,
                                           make_site_server: Callable[..., SiteServer]) -> None:
    site = make_site_server(delay=0.2)
    path = write(tmp_path / "config.toml", db_url, [gw_source(site.base_url, "gw")])
    runs(path)  # schema first, as `feedsvc run` does: the race is for the lease, not for the migration
    outcomes: list[CrawlOutcome] = []
    threads = [threading.Thread(target=lambda: outcomes.append(run_crawl(str(path), "gw", timeout=120)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(o.status for o in outcomes) == ["busy", "ok"], [(o.status, o.message) for o in outcomes]
    assert [r.status for r in runs(path)] == ["ok"]  # the refused process opened no run


def test_a_stale_lease_expires(tmp_path: Path, db_url: str, site_server: SiteServer) -> None:
    path = write(tmp_path / "config.toml", db_url, [gw_source(site_server.base_url, "gw")])
    cfg = load_config(path)
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, factory = _store.engine, _store.session_factory
    now = datetime.now(UTC)
    ttl = timedelta(seconds=60)
    with factory() as session, session.begin():  # a crawler on another machine holds the source
        assert acquire_lease(session, "crawl:gw", "otherhost:4242:x", now, ttl)
        assert not acquire_lease(session, "crawl:gw", "me", now + timedelta(seconds=59), ttl)
        assert acquire_lease(session, "crawl:gw", "me", now + timedelta(seconds=61), ttl)  # expired: taken over
        release_lease(session, "crawl:gw", "me")
        # that machine died two minutes ago: its lease ran out (a live one makes the crawl 'busy', see above)
        assert acquire_lease(session, "crawl:gw", "otherhost:4242:x", now - timedelta(seconds=120), ttl)
    engine.dispose()
    outcome = run_crawl(str(path), "gw", timeout=60)
    assert outcome.status == "ok", outcome.message
    assert [r.status for r in runs(path)] == ["ok"]


def test_failed_crawls_are_retried_and_recorded(services: list[SchedulerService], tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/db.sqlite"  # SQLite only: the backend-specific parts are tested above
    closed = "http://127.0.0.1:9"  # discard port: connection refused, the crawl fails
    path = write(tmp_path / "config.toml", db_url, [gw_source(closed, "gw")], max_tries=2, retry_backoff=1)
    service = start(services, path)
    run_now(service, "gw")
    wait_for(lambda: len([r for r in runs(path) if r.status != "running"]) >= 2, timeout=60, what="two attempts")
    wait_for(lambda: service.scheduler.get_job("retry:gw") is None, what="no third attempt")
    made = runs(path)
    assert [(r.status, r.trigger) for r in made] == [("failed", "schedule"), ("failed", "retry")]
    assert made[1].started_at - made[0].finished_at >= timedelta(seconds=0.9)  # backoff 1 s
    assert service.scheduler.running


def test_crawl_killed_with_sigkill_leaves_scheduler_and_database_consistent(
    services: list[SchedulerService], tmp_path: Path, make_site_server: Callable[..., SiteServer]
) -> None:
    db_url = f"sqlite:///{tmp_path}/db.sqlite"
    site = make_site_server(delay=0.4)
    path = write(tmp_path / "config.toml", db_url, [gw_source(site.base_url, "gw")], max_tries=2, retry_backoff=1)
    service = start(services, path)
    run_now(service, "gw")
    running = wait_for(lambda: [r for r in runs(path) if r.status == "running" and r.pid], timeout=30,
                       what="a running crawl")
    wait_for(lambda: len(site.requests()) >= 3, what="the crawl under way")
    os.kill(running[0].pid, signal.SIGKILL)
    first = wait_for(lambda: next((r for r in runs(path) if r.id == running[0].id and r.status != "running"), None),
                     timeout=30, what="the killed run closed")
    assert first.status == "aborted" and first.finished_at is not None
    assert service.scheduler.running and service.scheduler.get_job(line_job_id(service, "gw")) is not None
    # the retry takes the freed lease and completes what the killed run started
    second = wait_for(lambda: next((r for r in runs(path) if r.id != first.id and r.status != "running"), None),
                      timeout=60, what="the retry")
    assert (second.status, second.trigger) == ("ok", "retry")


def test_stop_while_crawling_finishes_safely(services: list[SchedulerService], tmp_path: Path,
                                             make_site_server: Callable[..., SiteServer]) -> None:
    db_url = f"sqlite:///{tmp_path}/db.sqlite"
    site = make_site_server(delay=0.6)
    path = write(tmp_path / "config.toml", db_url, [gw_source(site.base_url, "gw")])
    service = start(services, path)
    run_now(service, "gw")
    wait_for(lambda: [r for r in runs(path) if r.status == "running" and r.pid], timeout=30, what="a running crawl")
    wait_for(lambda: len(site.requests()) >= 3, what="the crawl under way")
    service.stop(grace=20)
    assert not service.scheduler.running
    made = runs(path)
    # Scrapy closed on SIGTERM: the run is closed as aborted (not left 'running'), what it stored stays
    assert len(made) == 1 and made[0].status == "aborted" and made[0].finished_at is not None
    cfg = load_config(path)
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, factory = _store.engine, _store.session_factory
    with factory() as session:
        assert lease_holder(session, "crawl:gw", datetime.now(UTC)) is None  # released on the way out
        jobs = {row[0] for row in session.execute(text("select id from apscheduler_jobs"))}
    engine.dispose()
    # an interrupted crawl leaves a persisted retry behind, so it is completed after the restart
    assert jobs == {"schedule:0 3 1 1 *", "retry:gw"}


def test_a_hanging_crawl_is_stopped_at_the_time_limit(services: list[SchedulerService], tmp_path: Path,
                                                      make_site_server: Callable[..., SiteServer],
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="feedsvc.scheduler")
    site = make_site_server(delay=30)  # every page hangs past the limit (and within the download timeout)
    # 20 s leaves room for a slow start on a busy machine: the child must have opened its run before the limit.
    path = write(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [gw_source(site.base_url, "gw")],
                 crawl_timeout=20, max_tries=1)
    path.write_text(path.read_text(encoding="utf-8").replace("timeout = 3\n", "timeout = 60\n"), encoding="utf-8")
    service = start(services, path)
    run_now(service, "gw")
    made = wait_for(lambda: [r for r in runs(path) if r.status != "running"], timeout=120, what="the stopped run")
    assert made[0].status == "aborted" and made[0].finished_at is not None
    assert (made[0].finished_at - made[0].started_at) < timedelta(seconds=60)
    assert service.scheduler.running and service.scheduler.get_job(line_job_id(service, "gw")) is not None
    wait_for(lambda: "crawl finish source=gw status=timeout" in caplog.text, what="the finish log line")
