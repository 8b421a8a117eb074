"""A real feed reader subscribes: newsboat (Debian package) reloads our feeds from a live server, headless."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsvc.http.app import create_app
from feedsvc.store import Store
from tests.support.feeds import T0, crawl, listed, make_config, running_server, sample_crawls
from tests.support.services import unavailable

NEWSBOAT = shutil.which("newsboat")


@pytest.fixture(autouse=True)
def _needs_newsboat() -> None:
    if NEWSBOAT is None:
        unavailable("newsboat is not installed (apt-get install newsboat; .ci/run does)")


def _newsboat(tmp_path: Path, *args: str) -> str:
    assert NEWSBOAT is not None
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
           "XDG_DATA_HOME": str(tmp_path / "xdg"), "TERM": "dumb"}
    done = subprocess.run(
        [NEWSBOAT, "-u", str(tmp_path / "urls"), "-c", str(tmp_path / "cache.db"), "-C", str(tmp_path / "config"),
         *args], env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _items(tmp_path: Path) -> dict[str, tuple[str, str, int]]:
    with sqlite3.connect(tmp_path / "cache.db") as db:
        rows = db.execute("SELECT title, url, pubDate, feedurl FROM rss_item").fetchall()
    return {url: (title, feedurl, pub) for title, url, pub, feedurl in rows}


def test_newsboat_reads_titles_links_and_dates(tmp_path: Path) -> None:
    cfg = make_config(f"sqlite:///{tmp_path / 'feeds.db'}", "http://feeds.test")
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    sample_crawls(factory, cfg)
    with running_server(create_app(cfg, check_interval=0)) as url:
        # Disjoint feeds: newsboat keys items by guid, so an entry in two subscriptions is stored once.
        (tmp_path / "urls").write_text(f"{url}/feeds/gw.rss\n{url}/feeds/en.atom\n", encoding="utf-8")
        (tmp_path / "config").write_text("reload-threads 2\n", encoding="utf-8")
        _newsboat(tmp_path, "-x", "reload")
        items = _items(tmp_path)
        assert {u: (t, f.rsplit("/", 1)[1]) for u, (t, f, _) in items.items()} == {
            "http://gw.test/a/1.html": ("2024年支部党员大会会议记录", "gw.rss"),
            "http://gw.test/a/2.html": ("Title <b>bold</b> & ctrl 😀 混合 Ωμέγα", "gw.rss"),
            "http://gw.test/a/3.html": ("关于开展“三会一课”的通知", "gw.rss"),
            "http://en.test/news/1": ("Budget & <Tax> reform passes", "en.atom"),
            "http://en.test/news/2": ("Weather: storm warning", "en.atom"),
        }
        published = datetime.fromtimestamp(items["http://gw.test/a/1.html"][2], UTC)
        assert published == datetime(2026, 10, 12, 2, 30, tzinfo=UTC)  # the article's own date
        assert datetime.fromtimestamp(items["http://en.test/news/1"][2], UTC) == T0
        assert "5 unread articles" in _newsboat(tmp_path, "-x", "print-unread")

        # Reloading after a crawl: only the new entry is new (ids are stable, so no duplicates).
        crawl(factory, cfg, "en", [listed("en", "latest", "http://en.test/news/3", "Third story"),
                                   listed("en", "latest", "http://en.test/news/1", "Budget & <Tax> reform passes")],
              T0 + timedelta(days=1))
        _newsboat(tmp_path, "-x", "reload")
        after = _items(tmp_path)
        assert set(after) - set(items) == {"http://en.test/news/3"}
        assert "6 unread articles" in _newsboat(tmp_path, "-x", "print-unread")
    engine.dispose()


def test_newsboat_imports_the_opml_in_one_step(tmp_path: Path) -> None:
    cfg = make_config(f"sqlite:///{tmp_path / 'feeds.db'}")
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    sample_crawls(factory, cfg)
    # Feed URLs in the OPML come from base_url, which must name a live server: the first server serves the
    # feeds, the second (configured with the first one's address) serves the OPML.
    with running_server(create_app(cfg, check_interval=0)) as url:
        served = cfg.model_copy(update={"server": cfg.server.model_copy(update={"base_url": url})})
        with running_server(create_app(served, check_interval=0)) as base:
            import httpx

            (tmp_path / "subscriptions.opml").write_bytes(httpx.get(f"{base}/opml", timeout=10).content)
            (tmp_path / "urls").write_text("", encoding="utf-8")
            (tmp_path / "config").write_text("", encoding="utf-8")
            _newsboat(tmp_path, "-i", str(tmp_path / "subscriptions.opml"))
            lines = (tmp_path / "urls").read_text(encoding="utf-8").splitlines()
            feeds = [line.split()[0] for line in lines]
            assert sorted(f.removeprefix(url) for f in feeds) == sorted([
                "/feeds/new.atom", "/feeds/gw.atom", "/feeds/gw/recommended.atom", "/feeds/gw/ranking.atom",
                "/feeds/gw/latest.atom", "/feeds/en.atom", "/feeds/en/latest.atom", "/feeds/topics/party.atom"])
            assert any('"某公文网"' in line for line in lines)  # the OPML folder becomes a newsboat tag
            _newsboat(tmp_path, "-x", "reload")
            assert len(_items(tmp_path)) == 5  # every item, each once, from the imported feeds
    engine.dispose()
