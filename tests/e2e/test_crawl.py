"""End to end: `python -m crawler.run` as a real child process against the fixture server, on SQLite and PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from feedsvc.models import Appearance, CrawlErrorRecord, CrawlRun, Item, ListingItem, RelatedLink
from feedsvc.store import Store
from feedsvc.store.db import make_engine, make_session_factory
from feedsvc.store.leases import acquire_lease
from tests.support.crawls import (
    FIXED_NOW,
    child_env,
    done_event,
    events,
    gw_source,
    run_crawler,
    simple_source,
    write_config,
)
from tests.support.site_server import SiteServer

ARTICLES = 12  # tests/data/site/a/1001..1012: every item any listing links to


def _session(db_url: str) -> Session:
    return make_session_factory(make_engine(db_url))()


def test_crawl_stores_items_and_recrawl_costs_304s(db_url: str, site_server: SiteServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, db_url, [gw_source(site_server.base_url)])
    first = run_crawler(config, "gwsite", "--progress-json", "--now", FIXED_NOW)
    assert first.returncode == 0, first.stderr
    done = done_event(first.stdout)
    assert done["status"] == "ok", done
    assert done["counts"]["items_new"] == ARTICLES and done["counts"]["pages"] == 15
    assert done["counts"]["listing_counts"]["ranking"] == 0  # script-filled: empty, not an error
    kinds = {e["event"] for e in events(first.stdout)}
    assert {"start", "page", "done"} <= kinds

    requested = [r.path for r in site_server.requests()]
    assert not [p for p in requested if p.startswith("/private/")]  # robots.txt obeyed
    assert requested.count("/a/1001.html") == 1  # reached by two URLs, fetched once

    with _session(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == ARTICLES
        item = session.scalar(select(Item).where(Item.url == site_server.url("a/1012.html")))
        assert item is not None and item.title == "县总工会庆祝2024年“五一”八项举措"
        # The listings say 06-04 (→ 2025); the article page's full date wins.
        assert item.published == datetime(2024, 6, 4, 8, 20, tzinfo=UTC) and item.date_source == "article"
        assert item.content and "<script" not in item.content
        gbk = session.scalar(select(Item.title).where(Item.url == site_server.url("a/1011.gbk.html")))
        assert gbk == "关于提高机关党员干部政治“三力”的调查研究"
        assert session.scalar(select(func.count()).select_from(RelatedLink)) >= ARTICLES * 9
        first_seen = {i.url: i.first_seen for i in session.scalars(select(Item))}

    site_server.clear_log()
    later = (datetime.fromisoformat(FIXED_NOW) + timedelta(days=1)).isoformat()
    second = run_crawler(config, "gwsite", "--progress-json", "--now", later)
    assert second.returncode == 0, second.stderr
    counts = done_event(second.stdout)["counts"]
    assert counts["items_new"] == 0 and counts["not_modified"] == counts["pages"] == 15
    pages = [r for r in site_server.requests() if r.path != "/robots.txt"]
    assert pages and all(r.status == 304 for r in pages)
    assert all(r.header("If-None-Match") and r.header("If-Modified-Since") for r in pages)

    with _session(db_url) as session:
        assert session.scalar(select(func.count()).select_from(Item)) == ARTICLES  # no duplicates
        for item in session.scalars(select(Item)):
            assert item.first_seen == first_seen[item.url]
            assert item.last_seen == datetime.fromisoformat(later).astimezone(UTC)
        runs = session.execute(select(CrawlRun.status, CrawlRun.items_new).order_by(CrawlRun.id)).all()
        assert runs == [("ok", ARTICLES), ("ok", 0)]
        latest = session.execute(select(ListingItem.rank).where(ListingItem.listing_id == "latest")
                                 .order_by(ListingItem.rank)).scalars().all()
        assert latest[0] == 1 and len(latest) == len(set(latest))


def test_killed_crawl_leaves_consistent_db_and_next_run_completes(
    db_url: str, make_site_server: object, tmp_path: Path
) -> None:
    # Slow pages (1 s each, 4 at a time) leave a wide window between batches, even on a loaded CI machine.
    server = make_site_server(delay=1.0)  # type: ignore[operator]
    config = write_config(tmp_path, db_url, [gw_source(server.base_url)])
    cmd = [sys.executable, "-m", "crawler.run", "gwsite", "--config", str(config), "--progress-json",
           "--now", FIXED_NOW, "--batch-size", "5"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=child_env())
    engine = make_engine(db_url)
    deadline = time.monotonic() + 40
    stored = 0
    try:
        while time.monotonic() < deadline:  # kill once some batches landed, before the crawl is done
            time.sleep(0.05)
            try:
                with engine.connect() as conn:
                    stored = conn.execute(text("select count(*) from items where article_fetched_at is not null")
                                          ).scalar_one()
            except Exception:
                continue  # schema not there yet
            if stored:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert stored, "the crawl stored nothing before the deadline"
    with make_session_factory(engine)() as session:
        fetched = select(func.count()).select_from(Item).where(Item.article_fetched_at.is_not(None))
        assert 0 < session.scalar(fetched) < ARTICLES
        assert session.scalar(select(CrawlRun.status)) == "running"
        # Whole batches only: every sighting points at a stored item of that run, none dangling.
        assert session.scalar(select(func.count()).select_from(Appearance)
                              .where(Appearance.item_id.not_in(select(Item.id)))) == 0

    server.delay = 0
    again = run_crawler(config, "gwsite", "--progress-json", "--now", FIXED_NOW)
    assert again.returncode == 0, again.stderr  # the dead process's lease did not block us
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == ARTICLES
        assert session.scalar(fetched) == ARTICLES
        statuses = session.execute(select(CrawlRun.status).order_by(CrawlRun.id)).scalars().all()
        assert statuses == ["aborted", "ok"]
    engine.dispose()


def test_lease_held_by_live_process_exits_3(db_url: str, site_server: SiteServer, tmp_path: Path) -> None:
    config = write_config(tmp_path, db_url, [gw_source(site_server.base_url)])
    _store = Store.open(db_url)
    engine, session_factory = _store.engine, _store.session_factory
    with session_factory() as session, session.begin():
        assert acquire_lease(session, "crawl:gwsite", "otherhost:1:abc", datetime.now(UTC), timedelta(hours=1))
    engine.dispose()
    held = run_crawler(config, "gwsite")
    assert held.returncode == 3
    assert "being crawled by another process (otherhost:1:abc)" in held.stderr
    assert site_server.requests() == []


def test_errors_are_recorded_and_retry_after_honoured(site_server: SiteServer, tmp_path: Path) -> None:
    base = site_server.base_url
    urls = ", ".join(f'"{base}{p}"' for p in ("/status/404", "/status/500", "/redirect-loop", "/binary", "/slow",
                                               "/retry-after"))
    broken = (f'[[sources]]\nid = "broken"\ntitle = "Broken"\nstart_urls = [{urls}]\n'
              '  [[sources.listings]]\n  id = "latest"\n  heading = "Latest"\n')
    site_server.slow_seconds = 4
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [broken], timeout=1.0)
    result = run_crawler(config, "broken", "--progress-json")
    assert result.returncode == 0, result.stderr  # partial: the retry-after page was fetched
    assert done_event(result.stdout)["status"] == "partial"
    with _session(f"sqlite:///{tmp_path / 'f.db'}") as session:
        kinds = {(e.kind, e.url.rsplit("/", 1)[-1] if e.url else None)
                 for e in session.scalars(select(CrawlErrorRecord))}
    assert {("http", "404"), ("http", "500"), ("redirect", "redirect-loop"), ("content", "binary"),
            ("timeout", "slow"), ("selector", "retry-after")} <= kinds
    first, second = site_server.requests("/retry-after")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.9  # waited for Retry-After: 1
    assert len(site_server.requests("/status/500")) == 2  # retried once (crawl.retries = 1)


def test_pages_robots_txt_keeps_out_are_recorded_and_the_run_stays_ok(tmp_path: Path, make_site_server) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "private").mkdir()
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /private/\n", encoding="utf-8")
    (site / "index.html").write_text(
        "<html><body><h2>Latest posts</h2><ul><li><a href='/a/1.html'>An open article</a> 2026-01-02</li>"
        "<li><a href='/private/2.html'>A private article</a> 2026-01-03</li></ul></body></html>", encoding="utf-8")
    for path in ("a/1.html", "private/2.html"):
        (site / path).write_text("<html><head><title>T</title></head><body><h1>T</h1><p>Body.</p></body></html>",
                                 encoding="utf-8")
    server = make_site_server(site)
    db_url = f"sqlite:///{tmp_path / 'feeds.db'}"
    config = write_config(tmp_path, db_url, [simple_source("blog", server.base_url + "/")])
    done = done_event(run_crawler(config, "blog", "--progress-json", "--now", FIXED_NOW).stdout)
    assert done["status"] == "ok", done  # robots.txt is obeyed, not an error of the crawl
    assert "/private/2.html" not in [r.path for r in server.requests()]
    with _session(db_url) as session:  # ... but what it kept out is on record for the front page's warnings
        robots = session.scalars(select(CrawlErrorRecord).where(CrawlErrorRecord.kind == "robots")).all()
        assert len(robots) == 1 and "/private/2.html" in robots[0].message
