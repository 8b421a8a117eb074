"""What happens after a crawl lands (feedsvc.after_crawl, run by the launcher once the crawler process exited):
related items computed, feed caches invalidated, static feeds published."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import feedparser
from sqlalchemy import func, select

from feedsvc.config import load_config, parse_now
from feedsvc.models import RelatedLink
from feedsvc.scheduling.launcher import run_crawl
from feedsvc.store import Store
from feedsvc.store.meta import data_version
from tests.crawlutil import FIXED_NOW, done_event, events, gw_source, run_crawler, write_config


def test_crawl_relates_new_items_bumps_version_and_publishes(tmp_path: Path, site_server) -> None:  # type: ignore[no-untyped-def]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [gw_source(site_server.base_url)],
                          crawl_extra="")
    config.write_text(config.read_text(encoding="utf-8") + '\n[server]\npublish_dir = "public"\n', encoding="utf-8")
    seen: list[dict[str, Any]] = []
    outcome = run_crawl(str(config), "gwsite", now=parse_now(FIXED_NOW), timeout=120, on_event=seen.append)
    assert outcome.succeeded, outcome.message
    assert outcome.new_item_ids  # the crawler reports what was new; the launcher relates it
    kinds = [e["event"] for e in seen]
    assert kinds.index("related") > kinds.index("done")
    assert [e for e in seen if e["event"] == "related"][0]["ok"] is True
    assert [e for e in seen if e["event"] == "published"][0]["ok"] is True

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
    seen: list[dict[str, Any]] = []
    outcome = run_crawl(str(config), "gwsite", timeout=120, on_event=seen.append, related=False)
    assert outcome.succeeded and "related" not in [e["event"] for e in seen]
    cfg = load_config(config)
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, sessions = _store.engine, _store.session_factory
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(RelatedLink).where(RelatedLink.origin == "computed")) == 0
    engine.dispose()
