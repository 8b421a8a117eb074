"""Undated items end to end: a real crawl of a page with an undated hot list → feeds read with feedparser.

An item with no date (none in the list, none on its article page) claims none, and a ranking of old stories is
not presented as the source's new items (docs/feeds.md, "Undated items"); an item whose listing shows no date
but whose article page does gets the article's date, stored and shown in its feeds (docs/extraction.md).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from sqlalchemy import select
from starlette.testclient import TestClient

from feedsvc.config import load_config
from feedsvc.http.app import create_app
from feedsvc.models import Item
from feedsvc.store.db import make_engine, make_session_factory
from tests.support.crawls import FIXED_NOW, done_event, run_crawler, toml_str, write_config

PAGE = """<html><body>
<h2>热门排行</h2><ol>
<li><a href='/a/old1.html'>A famous story from years ago</a></li>
<li><a href='/a/old2.html'>Another evergreen favourite</a></li>
<li><a href='/a/old3.html'>The classic everyone still reads</a></li>
</ol>
<h2>Latest posts</h2><ul>
<li><a href='/a/new1.html'>Today's budget vote</a> 2026-01-05</li>
<li><a href='/a/new2.html'>Yesterday's storm</a> 2026-01-04</li>
<li><a href='/a/new3.html'>Monday's meeting</a> 2026-01-03</li>
</ul></body></html>"""
ARTICLE = "<html><head><title>{t}</title></head><body><h1>{t}</h1><p>Body of {t}, with no date anywhere.</p></body></html>"
SOURCE = """[[sources]]
id = "hot"
title = "Hot site"
start_urls = [{url}]
timezone = "UTC"
render = "never"
  [[sources.listings]]
  id = "ranking"
  kind = "ranking"
  heading = "热门排行"
  [[sources.listings]]
  id = "latest"
  kind = "latest"
  heading = "Latest posts"
"""
OLD = ("old1", "old2", "old3")
NEW = ("new1", "new2", "new3")


def _crawl(tmp_path: Path, make_site_server) -> tuple[Path, str, str]:  # type: ignore[no-untyped-def]
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "index.html").write_text(PAGE, encoding="utf-8")
    for name in OLD + NEW:
        (site / "a" / f"{name}.html").write_text(ARTICLE.format(t=name), encoding="utf-8")
    server = make_site_server(site)
    db_url = f"sqlite:///{tmp_path / 'feeds.db'}"
    config = write_config(tmp_path, db_url, [SOURCE.format(url=toml_str(server.base_url + "/"))])
    done = done_event(run_crawler(config, "hot", "--progress-json", "--now", FIXED_NOW).stdout)
    assert done["status"] == "ok", done
    return config, db_url, server.base_url


def test_undated_ranking_items_claim_no_date_and_are_not_new(tmp_path: Path, make_site_server) -> None:  # type: ignore[no-untyped-def]
    config, db_url, base = _crawl(tmp_path, make_site_server)
    with make_session_factory(make_engine(db_url))() as session:
        rows = {i.url.rsplit("/", 1)[-1]: i for i in session.scalars(select(Item))}
        assert all(rows[f"{n}.html"].published is None for n in OLD)  # nothing stamped the crawl time in
        assert all(rows[f"{n}.html"].published is not None for n in NEW)
        first_seen = rows["old1.html"].first_seen
    with TestClient(create_app(load_config(config), check_interval=0)) as client:
        def entries(path: str) -> list[feedparser.FeedParserDict]:
            parsed = feedparser.parse(client.get(path).content)
            assert parsed.bozo == 0, parsed.get("bozo_exception")
            return list(parsed.entries)

        # The source's new items and /feeds/new: the dated arrivals only, the old hot list is not news.
        for path in ("/feeds/hot.atom", "/feeds/hot.rss", "/feeds/new.atom"):
            got = entries(path)
            # (one crawl, one first_seen: their order among themselves is the store's tie rule, not tested here)
            assert sorted(e.link for e in got) == [f"{base}/a/{n}.html" for n in NEW], path
            assert all(e.published_parsed is not None for e in got)  # dated items unchanged
        # The ranking's own feed keeps them, in rank order, without a date; Atom updated = first seen.
        ranking = entries("/feeds/hot/ranking.atom")
        assert [e.link for e in ranking] == [f"{base}/a/{n}.html" for n in OLD]
        for entry in ranking:
            assert "published" not in entry and "published_parsed" not in entry
            assert datetime(*entry.updated_parsed[:6], tzinfo=UTC) == first_seen
        rss = entries("/feeds/hot/ranking.rss")
        assert [e.link for e in rss] == [f"{base}/a/{n}.html" for n in OLD]
        assert all("published" not in e for e in rss)  # no <pubDate>
        items = json.loads(client.get("/feeds/hot/ranking.json").content)["items"]
        assert items and all("date_published" not in i and i["date_modified"] for i in items)
        ids = [e.id for e in ranking]
    # A re-crawl changes nothing a reader sees for them: same ids, same `updated`.
    done = done_event(run_crawler(config, "hot", "--progress-json", "--now", "2026-01-06T12:00:00+08:00").stdout)
    assert done["status"] == "ok", done
    with TestClient(create_app(load_config(config), check_interval=0)) as client:
        again = feedparser.parse(client.get("/feeds/hot/ranking.atom").content).entries
        assert [e.id for e in again] == ids
        assert all(datetime(*e.updated_parsed[:6], tzinfo=UTC) == first_seen for e in again)


# An undated listing whose articles carry their own dates, in the three shapes real pages use: published-time
# metadata, a <time datetime>, and a "发布时间" line under the headline read in the source's time zone.
DATED_LISTING = """<html><body><h2>Latest posts</h2><ul>
<li><a href='/a/meta.html'>Council extends the river path</a></li>
<li><a href='/a/time.html'>Storm closes the harbour</a></li>
<li><a href='/a/line.html'>新图书馆开馆</a></li>
</ul></body></html>"""
DATED_ARTICLES = {
    "meta": ("<html><head><title>Council extends the river path</title>"
             "<meta property='article:published_time' content='2025-12-30T09:15:00+00:00'></head><body>"
             "<h1>Council extends the river path</h1><p>The council voted to extend the river path.</p></body></html>"),
    "time": ("<html><head><title>Storm closes the harbour</title></head><body><article>"
             "<h1>Storm closes the harbour</h1><time datetime='2025-12-31T18:00:00Z'>31 December</time>"
             "<p>The harbour closed for a day while the storm passed.</p></article></body></html>"),
    "line": ("<html><head><title>新图书馆开馆</title></head><body><h1>新图书馆开馆</h1>"
             "<div class='info'>发布时间：2026-01-02 09:30　来源：本站</div>"
             "<p>新图书馆今天正式开馆，市民可以凭身份证办理借书证。</p></body></html>"),
}
DATED_SOURCE = """[[sources]]
id = "undated"
title = "Undated listing"
start_urls = [{url}]
timezone = "Asia/Shanghai"
render = "never"
  [[sources.listings]]
  id = "latest"
  heading = "Latest posts"
"""


def test_an_item_whose_listing_shows_no_date_gets_its_article_pages_date(  # type: ignore[no-untyped-def]
        tmp_path: Path, make_site_server) -> None:
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    (site / "index.html").write_text(DATED_LISTING, encoding="utf-8")
    for name, page in DATED_ARTICLES.items():
        (site / "a" / f"{name}.html").write_text(page, encoding="utf-8")
    server = make_site_server(site)
    db_url = f"sqlite:///{tmp_path / 'feeds.db'}"
    config = write_config(tmp_path, db_url, [DATED_SOURCE.format(url=toml_str(server.base_url + "/"))])
    done = done_event(run_crawler(config, "undated", "--progress-json", "--now", FIXED_NOW).stdout)
    assert done["status"] == "ok", done
    want = {"meta": datetime(2025, 12, 30, 9, 15, tzinfo=UTC), "time": datetime(2025, 12, 31, 18, 0, tzinfo=UTC),
            "line": datetime(2026, 1, 2, 1, 30, tzinfo=UTC)}  # 09:30 in Asia/Shanghai
    with make_session_factory(make_engine(db_url))() as session:
        rows = {i.url.rsplit("/", 1)[-1].removesuffix(".html"): i for i in session.scalars(select(Item))}
        assert set(rows) == set(want)
        for name, published in want.items():
            got = rows[name].published
            assert got is not None and got.replace(tzinfo=got.tzinfo or UTC) == published, name
    with TestClient(create_app(load_config(config), check_interval=0)) as client:
        for path in ("/feeds/undated.atom", "/feeds/undated.rss"):
            parsed = feedparser.parse(client.get(path).content)
            assert parsed.bozo == 0, parsed.get("bozo_exception")
            shown = {e.link.rsplit("/", 1)[-1].removesuffix(".html"): datetime(*e.published_parsed[:6], tzinfo=UTC)
                     for e in parsed.entries}
            assert shown == want, path
