"""Undated items end to end: a real crawl of a page with an undated hot list → feeds read with feedparser.

An item with no date (none in the list, none on its article page) claims none, and a ranking of old stories is
not presented as the source's new items (docs/feeds.md, "Undated items").
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
from tests.crawlutil import FIXED_NOW, done_event, run_crawler, toml_str, write_config

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
