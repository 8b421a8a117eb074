"""What happens after a crawl lands (feedsvc.after_crawl, run by the entry point's AfterCrawl once the crawl child
reported its runs): related items computed, feed caches invalidated, static feeds published; one debounced step
for many runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import feedparser
from sqlalchemy import func, select

from feedsvc.after_crawl import AfterCrawl, FinishedRun
from feedsvc.config import load_config, parse_now
from feedsvc.models import RelatedLink
from feedsvc.scheduling.child import run_child
from feedsvc.store import Store
from feedsvc.store.meta import data_version
from tests.support.crawls import FIXED_NOW, done_event, events, gw_source, run_crawler, write_config


def test_crawl_relates_new_items_bumps_version_and_publishes(tmp_path: Path, site_server) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [gw_source(site_server.base_url)],
                          crawl_extra="")
    config.write_text(config.read_text(encoding="utf-8") + '\n[server]\npublish_dir = "public"\n', encoding="utf-8")
    child = run_child(str(config), ["gwsite"], now=parse_now(FIXED_NOW), timeout=120)
    [outcome] = child.outcomes
    assert outcome.succeeded, outcome.message
    assert outcome.new_item_ids  # the crawler reports what was new; the after-crawl step relates it
    after = AfterCrawl(load_config(config))
    after.add(child.finished)
    report = after.flush()
    after.close()
    assert report is not None and report.related_ok is True and report.published is True and after.steps == 1

    cfg = load_config(config)
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, sessions = _store.engine, _store.session_factory
    with sessions() as session:
        computed = session.scalar(select(func.count()).select_from(RelatedLink).where(RelatedLink.origin == "computed"))
        # finish_run bumps once, the related refresh once more so cached feeds pick up the new links.
        version = data_version(session)
        assert version >= 2
    engine.dispose()
    assert computed and computed > 0

    from feedsvc.cli import main

    assert main(["related", "--rebuild", "--config", str(config)]) == 0
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, sessions = _store.engine, _store.session_factory
    with sessions() as session:
        before = version
        assert data_version(session) > before  # the rebuild invalidates cached feeds too (its writes bump it)
    engine.dispose()

    published = tmp_path / "public"
    feed = feedparser.parse((published / "feeds" / "new.atom").read_bytes())
    assert feed.bozo == 0 and len(feed.entries) > 0
    assert (published / "feeds" / "gwsite" / "recommended.rss").exists()
    assert (published / "index.html").exists() and (published / "opml").exists()


def test_no_related_skips_the_refresh_and_the_crawler_alone_relates_nothing(tmp_path: Path, site_server) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [gw_source(site_server.base_url)])
    result = run_crawler(config, "gwsite", "--now", FIXED_NOW, "--progress-json", timeout=120)
    assert result.returncode == 0, result.stderr
    assert done_event(result.stdout)["new_item_ids"]
    assert "related" not in [e["event"] for e in events(result.stdout)]  # the crawler process only crawls
    child = run_child(str(config), ["gwsite"], timeout=120)
    after = AfterCrawl(load_config(config), related=False)
    after.add(child.finished)
    after.close()
    assert child.outcomes[0].succeeded and after.last is not None and after.last.related_ok is None
    cfg = load_config(config)
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, sessions = _store.engine, _store.session_factory
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RelatedLink).where(RelatedLink.origin == "computed")) == 0
    engine.dispose()


def test_many_runs_make_one_debounced_step_and_a_full_batch_runs_at_once(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [gw_source("http://127.0.0.1:9/")])
    cfg = load_config(config)
    reports: list[Any] = []
    quiet = AfterCrawl(cfg, quiet=3600.0, on_report=reports.append)  # only a flush or a full batch starts it
    for i in range(5):
        quiet.add([FinishedRun("gwsite", i, "ok")])
    assert quiet.steps == 0 and not reports  # still gathering: nothing ran per run
    quiet.close()
    assert quiet.steps == 1 and len(reports) == 1
    ran = threading.Event()
    full = AfterCrawl(cfg, max_runs=3, quiet=3600.0, on_report=lambda _report: ran.set())
    full.add([FinishedRun("gwsite", i, "ok") for i in range(3)])
    assert ran.wait(timeout=60)  # max_runs waiting: the step ran without a flush or the quiet time
    full.close()
    assert full.steps == 1  # nothing was left for the close
    full.add([FinishedRun("gwsite", 9, "ok")])  # a late report after close reopens it
    full.close()
    assert full.steps == 2
