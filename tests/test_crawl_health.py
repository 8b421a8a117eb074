"""Honest health: a listing that lives on some pages of a source is not "broken" on the others.

A real crawl of a fixture site whose home page carries "Latest posts" and every page a "Section" list.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.crawlutil import FIXED_NOW, done_event, run_crawler, toml_str, write_config
from tests.siteserver import DATA, Page, SiteServer

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
