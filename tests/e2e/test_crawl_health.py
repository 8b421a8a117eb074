"""Honest health: a listing that lives on some pages of a source is not "broken" on the others.

A real crawl of a fixture site whose home page carries "Latest posts" and every page a "Section" list.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawls import FIXED_NOW, done_event, run_crawler, toml_str, write_config
from tests.support.site_server import DATA, Page, SiteServer

HOME_WITHOUT_LATEST = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>Health</title></head><body>'
                      '<h2>Section</h2><ul><li><a href="/a/3.html">Three</a> 2026-01-03</li></ul></body></html>')


@pytest.fixture
def health_site() -> Iterator[SiteServer]:
    with SiteServer(DATA / "health") as server:
        yield server


def crawl(tmp_path: Path, site: SiteServer, latest_extra: str = "", day: int = 0) -> dict[str, Any]:
    starts = ", ".join(toml_str(site.url(p)) for p in ("", "list/2.html", "list/3.html"))
    source = (
        f'[[sources]]\nid = "hs"\ntitle = "Health"\nstart_urls = [{starts}]\nfollow_articles = false\n'
        'render = "never"\n'
        f'  [[sources.listings]]\n  id = "latest"\n  heading = "Latest posts"\n{latest_extra}\n'
        '  [[sources.listings]]\n  id = "section"\n  heading = "Section"\n'
    )
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [source])
    now = (datetime.fromisoformat(FIXED_NOW) + timedelta(days=day)).isoformat()
    result = run_crawler(config, "hs", "--progress-json", "--now", now)
    assert result.returncode == 0, result.stderr
    return done_event(result.stdout)


def test_healthy_multi_page_crawl_is_ok(tmp_path: Path, health_site: SiteServer) -> None:
    done = crawl(tmp_path, health_site)
    assert done["status"] == "ok", done
    assert done["counts"]["errors"] == 0 and done["counts"]["listing_counts"] == {"latest": 2, "section": 3}
    assert crawl(tmp_path, health_site, day=1)["status"] == "ok"  # and stays so


def test_block_gone_from_the_page_it_was_found_on_is_a_problem(tmp_path: Path, health_site: SiteServer) -> None:
    assert crawl(tmp_path, health_site)["status"] == "ok"
    health_site.pages["/"] = Page(HOME_WITHOUT_LATEST.encode(), "text/html; charset=utf-8")
    done = crawl(tmp_path, health_site, day=1)
    assert done["status"] == "partial"
    assert "listing 'latest': block not found on any of the 3 page(s)" in done["message"]


def test_pages_patterns_say_where_a_listing_lives(tmp_path: Path, health_site: SiteServer) -> None:
    # Found on another page, but missing from the page its `pages` name: a problem from the first crawl on.
    health_site.pages["/"] = Page(HOME_WITHOUT_LATEST.encode(), "text/html; charset=utf-8")
    health_site.pages["/list/3.html"] = Page(
        b'<html><body><h2>Latest posts</h2><ul><li><a href="/a/9.html">Nine</a></li></ul></body></html>',
        "text/html; charset=utf-8")
    done = crawl(tmp_path, health_site, latest_extra='  pages = ["/", "/list/3.html"]')
    assert done["status"] == "partial"
    assert "block not found on 1 of 2 page(s) where it belongs" in done["message"], done["message"]
    # Pages outside the patterns are not looked at for this listing at all.
    (tmp_path / "again").mkdir()
    ok = crawl(tmp_path / "again", health_site, latest_extra='  pages = ["/list/3.*"]')
    assert ok["status"] == "ok", ok


def test_a_selector_that_matches_nothing_is_a_warning_that_says_which(tmp_path: Path, health_site: SiteServer) -> None:
    from starlette.testclient import TestClient

    from feedsvc.config import load_config
    from feedsvc.http.app import create_app
    from tests.support.crawls import run_feedsvc

    done = crawl(tmp_path, health_site, latest_extra='  item = "li.nope"')
    assert done["status"] == "partial", done  # not "ok" with 0 items
    assert done["counts"]["listing_counts"]["latest"] == 0
    expected = "listing 'latest' found no items on"
    assert expected in done["message"] and "its item selector 'li.nope' matched nothing inside the block" in \
        done["message"]
    config = tmp_path / "config.toml"
    status = run_feedsvc("status", "--config", str(config))
    assert "partial" in status.stdout and "li.nope" in status.stdout, status.stdout
    with TestClient(create_app(load_config(config))) as client:
        front = client.get("/").text
    assert "Listing &#39;latest&#39; found no items on" in front or "Listing 'latest' found no items on" in front
    assert "matched nothing inside the block" in front


def test_an_empty_block_is_told_apart_from_a_selector_miss(tmp_path: Path, health_site: SiteServer) -> None:
    health_site.pages["/"] = Page(
        b'<html><body><h2>Latest posts</h2><ul><li>Nothing yet</li></ul>'
        b'<h2>Section</h2><ul><li><a href="/a/3.html">Three</a> 2026-01-03</li></ul></body></html>',
        "text/html; charset=utf-8")
    done = crawl(tmp_path, health_site, latest_extra='  pages = ["/"]')
    assert done["status"] == "partial", done
    assert "found no items on" in done["message"] and "the block is there but holds no links; check it" in \
        done["message"], done["message"]


def test_a_missing_browser_is_named_on_the_front_page(tmp_path: Path, health_site: SiteServer) -> None:
    from starlette.testclient import TestClient

    from feedsvc.config import load_config
    from feedsvc.http.app import create_app

    health_site.pages["/"] = Page(
        b'<html><body><h2>Latest posts</h2><ul></ul><script>fill("latest")</script>'
        b'<h2>Section</h2><ul><li><a href="/a/3.html">Three</a> 2026-01-03</li></ul></body></html>',
        "text/html; charset=utf-8")
    source = (f'[[sources]]\nid = "hs"\ntitle = "Health"\nstart_urls = [{toml_str(health_site.url(""))}]\n'
              'follow_articles = false\nrender = "auto"\n'
              '  [[sources.listings]]\n  id = "latest"\n  heading = "Latest posts"\n  pages = ["/"]\n')
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [source],
                          crawl_extra=f'chromium_path = {toml_str(str(tmp_path / "no-chromium"))}')
    done = done_event(run_crawler(config, "hs", "--progress-json", "--now", FIXED_NOW).stdout)
    assert done["status"] == "partial" and "none is available: apt-get install chromium" in done["message"], done
    with TestClient(create_app(load_config(config))) as client:
        front = client.get("/").text
    assert "it needs a browser to render the page and none is available: apt-get install chromium" in front
