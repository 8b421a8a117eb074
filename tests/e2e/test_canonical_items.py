"""One item per article: a site whose articles are linked as 301s, with and without trailing slash, with utm_*
and fbclid, and with <link rel=canonical>, crawled for real; duplicates stored earlier are merged."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from feedsvc.config import load_config
from feedsvc.feeds.render import entry_id
from feedsvc.http.app import create_app
from feedsvc.models import Item, ItemAlias, ListingItem
from feedsvc.store.db import make_engine, make_session_factory
from feedsvc.store.items import ItemRecord, store_items
from feedsvc.store.sources import sync_sources
from tests.support.crawls import FIXED_NOW, done_event, run_crawler, toml_str, write_config
from tests.support.site_server import DATA, Page, SiteServer

ARTICLES = ["posts/a/", "posts/b/", "posts/c/", "posts/d.html"]


@pytest.fixture
def variants_site() -> Iterator[SiteServer]:
    with SiteServer(DATA / "variants") as server:
        server.pages["/posts/a"] = Page(b"", "text/html", 301, {"Location": "/posts/a/"})
        server.pages["/old/d"] = Page(b"", "text/html", 301, {"Location": "/posts/d.html"})
        yield server


def config_for(tmp_path: Path, db_url: str, site: SiteServer) -> Path:
    source = (
        f'[[sources]]\nid = "vs"\ntitle = "Variants"\nstart_urls = [{toml_str(site.base_url + "/")}]\n'
        'render = "never"\n'
        '  [[sources.listings]]\n  id = "latest"\n  heading = "Latest posts"\n  pagination = "div.pages a.next"\n'
    )
    return write_config(tmp_path, db_url, [source])


def feed_entries(config: Path, path: str) -> list[feedparser.FeedParserDict]:
    with TestClient(create_app(load_config(config), check_interval=0)) as client:
        response = client.get(path)
        assert response.status_code == 200, response.text
        return list(feedparser.parse(response.content).entries)


def test_url_variants_are_one_item_per_article_and_one_entry_per_feed(
        db_url: str, variants_site: SiteServer, tmp_path: Path) -> None:
    config = config_for(tmp_path, db_url, variants_site)
    result = run_crawler(config, "vs", "--progress-json", "--now", FIXED_NOW)
    assert result.returncode == 0, result.stderr
    assert done_event(result.stdout)["status"] == "ok"

    with make_session_factory(make_engine(db_url))() as session:
        urls = sorted(session.scalars(select(Item.url)))
        # d's canonical points off-site, so the URL after the redirect names it.
        assert urls == sorted(variants_site.url(path) for path in ARTICLES)
        assert all(session.scalars(select(Item.content)))  # every item has the body that was fetched for it
        assert len(session.scalars(select(ListingItem.item_id)).all()) == len(ARTICLES)
        aliases = set(session.scalars(select(ItemAlias.url)))
        assert {variants_site.url("posts/a"), variants_site.url("posts/c.html"), variants_site.url("old/d")} <= aliases

    for path in ("/feeds/vs.atom", "/feeds/vs/latest.atom", "/feeds/new.atom"):
        entries = feed_entries(config, path)
        assert len(entries) == len(ARTICLES), path
        assert len({e.id for e in entries}) == len({e.link for e in entries}) == len(ARTICLES), path

    # A second crawl resolves every listing link through the aliases: still one item per article.
    later = (datetime.fromisoformat(FIXED_NOW) + timedelta(days=1)).isoformat()
    again = run_crawler(config, "vs", "--progress-json", "--now", later)
    assert done_event(again.stdout)["counts"]["items_new"] == 0
    with make_session_factory(make_engine(db_url))() as session:
        assert len(session.scalars(select(Item.id)).all()) == len(ARTICLES)


def test_duplicates_stored_before_are_merged_into_the_earliest(
        db_url: str, variants_site: SiteServer, tmp_path: Path) -> None:
    config = config_for(tmp_path, db_url, variants_site)
    cfg = load_config(config)
    factory = make_session_factory(make_engine(db_url))
    early = datetime(2025, 12, 1, tzinfo=UTC)
    old_a, new_a = variants_site.url("posts/a"), variants_site.url("posts/a/")
    from feedsvc.store.db import create_schema

    create_schema(make_engine(db_url))
    with factory() as session, session.begin():  # what the crawler stored before URLs were resolved
        sync_sources(session, cfg.sources, early)
        store_items(session, [ItemRecord("vs", old_a, "Article A", listing_id="latest",
                                                    listing_kind="latest", rank=1)], None, early)
        store_items(session, [ItemRecord("vs", new_a, "Article A", listing_id="latest",
                                                    listing_kind="latest", rank=1)], None, early + timedelta(hours=1))
    with factory() as session:
        first_id = session.scalar(select(Item.id).where(Item.url == old_a))

    result = run_crawler(config, "vs", "--progress-json", "--now", FIXED_NOW)
    assert result.returncode == 0, result.stderr
    with factory() as session:
        [item] = session.scalars(select(Item).where(Item.title == "Article A")).all()
        assert (item.id, item.url, item.first_seen) == (first_id, new_a, early)
        assert item.content
    entries = [e for e in feed_entries(config, "/feeds/vs/latest.atom") if e.title == "Article A"]
    # Readers keep the entry they had: its id is still the one made from the first URL.
    assert [e.id for e in entries] == [entry_id(old_a)] and entries[0].link == new_a
