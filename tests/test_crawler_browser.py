"""Lists filled by script: a real crawl against a fixture page whose ranking is empty in the HTML and filled by a
fetch() after load, rendered by the system Chromium through Playwright (render = "auto" | "never"); and the
Chromium flags' own wall, checked with no routing at all. Hostile pages: tests/test_crawler_browser_page.py."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crawler.browser import CHROMIUM_ARGS
from feedsvc.config import chromium_available
from feedsvc.models import Item, ListingItem
from feedsvc.store.db import make_engine, make_session_factory
from tests.support.crawls import done_event, run_crawler, toml_str, write_config
from tests.support.site_server import DATA, SiteServer

CHROMIUM = "/usr/bin/chromium"
UA = "feedsvc-test/1.0 (+http://127.0.0.1/)"


def need_chromium() -> None:
    if chromium_available(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing; .ci/run installs it (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium")


@pytest.fixture
def render_site() -> Iterator[SiteServer]:
    with SiteServer(DATA / "render") as server:
        yield server


def source(base_url: str, render: str) -> str:
    return (
        f'[[sources]]\nid = "rs"\ntitle = "render"\nstart_urls = [{toml_str(base_url + "/")}]\n'
        f'timezone = "Asia/Shanghai"\nfollow_articles = false\nrender = "{render}"\n'
        '  [[sources.listings]]\n  id = "latest"\n  heading = "最新文稿"\n'
        '  [[sources.listings]]\n  id = "ranking"\n  kind = "ranking"\n  heading = "阅读排行"\n'
    )


def crawl(tmp_path: Path, site: SiteServer, render: str, crawl_extra: str = "") -> tuple[dict[str, Any], str, str]:
    db_url = f"sqlite:///{tmp_path / 'feeds.db'}"
    config = write_config(tmp_path, db_url, [source(site.base_url, render)], timeout=20, crawl_extra=crawl_extra)
    result = run_crawler(config, "rs", "--progress-json", "--now", "2026-01-05T12:00:00+08:00",
                         timeout=120)
    assert result.returncode == 0, result.stderr
    return done_event(result.stdout), result.stderr, db_url


def ranking(db_url: str) -> list[tuple[int | None, str, datetime | None]]:
    with make_session_factory(make_engine(db_url))() as session:
        rows = session.execute(select(ListingItem.rank, Item.url, Item.published).join(Item)
                               .where(ListingItem.listing_id == "ranking").order_by(ListingItem.rank))
        return [(rank, url.rsplit("/", 1)[1], published) for rank, url, published in rows]


def test_script_filled_ranking_is_rendered_by_chromium(tmp_path: Path, render_site: SiteServer) -> None:
    need_chromium()
    done, stderr, db_url = crawl(tmp_path, render_site, "auto")
    assert done["status"] == "ok", (done, stderr)
    assert done["counts"]["listing_counts"] == {"latest": 2, "ranking": 3}
    # The rendered DOM went through the same extraction: ranks in page order, and the <time datetime>
    # (an exact instant, ISO or Unix time) is preferred to the shown day: 17:30Z on 01-02 is 01-03 in Shanghai.
    assert ranking(db_url) == [
        (1, "3.html", datetime(2026, 1, 2, 17, 30, tzinfo=UTC)),
        (2, "4.html", datetime(2026, 1, 2, 17, 0, tzinfo=UTC)),
        (3, "5.html", datetime(2026, 1, 1, 1, 0, tzinfo=UTC)),
    ]
    home = render_site.requests("/")
    assert len(home) == 2  # the plain fetch, then once through the browser
    assert {r.header("User-Agent") for r in home} == {UA}
    assert render_site.requests("/rank.json")  # the page's own script ran, same site
    # Images and stylesheets are blocked in the browser; robots.txt was read for both fetches' host.
    assert not render_site.requests("/logo.png") and not render_site.requests("/style.css")
    assert render_site.requests("/robots.txt")


def test_render_never_keeps_plain_http(tmp_path: Path, render_site: SiteServer) -> None:
    done, _stderr, db_url = crawl(tmp_path, render_site, "never")
    assert done["status"] == "ok", done
    assert done["counts"]["listing_counts"] == {"latest": 2, "ranking": 0}
    assert len(render_site.requests("/")) == 1 and not render_site.requests("/rank.json")
    assert ranking(db_url) == []


def test_without_chromium_one_warning_names_listing_and_fix(tmp_path: Path, render_site: SiteServer) -> None:
    done, stderr, _db = crawl(tmp_path, render_site, "auto", crawl_extra='chromium_path = "/nonexistent/chromium"')
    # The list the browser would have filled is a problem of the run (issue 21: a missing browser is not "ok").
    assert done["status"] == "partial" and done["counts"]["errors"] == 1, done
    assert done["counts"]["listing_counts"] == {"latest": 2, "ranking": 0}
    warnings = [line for line in stderr.splitlines() if "apt-get install chromium" in line]
    assert len(warnings) == 1 and "listing 'ranking'" in warnings[0], stderr
    assert len(render_site.requests("/")) == 1


def test_chromium_flags_alone_reach_no_host(tmp_path: Path) -> None:
    """The second wall: even with no Playwright routing, the flags leave Chromium no name to resolve and no
    connection to make (loopback included), for pages, fetches, WebSockets and workers."""
    need_chromium()
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from tests.test_crawler_browser_page import ConnectionCounter

    other = ConnectionCounter()
    far = other.base
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))
            page = browser.new_page()
            for target in (far + "/page", "http://localhost:1/", "http://example.invalid/"):
                with pytest.raises(PlaywrightError):
                    page.goto(target, timeout=20_000)
            probe = browser.new_page()  # the failed page may still be committing its error page
            probe.goto("data:text/html,<p>probe</p>")
            outcomes = probe.evaluate("""async (far) => {
                const socket = (url) => new Promise((resolve) => {
                    const ws = new WebSocket(url); ws.onopen = () => resolve("open"); ws.onerror = () => resolve("error");
                });
                const get = (url) => fetch(url, {mode: "no-cors"}).then(() => "fetched", () => "error");
                const worker = new Worker(URL.createObjectURL(new Blob([
                    `fetch("${far}/worker").then(() => postMessage("fetched"), () => postMessage("error"))`],
                    {type: "text/javascript"})));
                const fromWorker = new Promise((resolve) => {
                    worker.onmessage = (e) => resolve(e.data); worker.onerror = () => resolve("worker failed");
                });
                return [await get(far + "/fetch"), await socket(far.replace("http", "ws") + "/ws"), await fromWorker];
            }""", far)
            browser.close()
    finally:
        other.close()
    assert outcomes == ["error", "error", "error"]
    assert other.hits == []
