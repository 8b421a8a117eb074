"""The front page in a real browser: headless Chromium (Playwright on the system Chromium) against a live uvicorn
server and a live demo site. No console errors, no horizontal overflow at 375 px, every link answers 200, the
search box opens a feed, the page reads without script, and axe-core finds no serious or critical violation.
Screenshots land in the test's tmp folder (printed; kept by pytest under its basetemp).

Needs Chromium (`apt-get install chromium`), the `playwright` package and axe-core (`npm install axe-core` into
$FEEDSVC_AXE_DIR, default ~/.cache/feedsvc-axe); .ci/run installs all three. Skips without them, except under
CI (tests/support/services.py), where it fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from feedsvc.demo.server import DemoSite
from feedsvc.http.app import create_app
from tests.support.feeds import free_port, running_server
from tests.support.front import demo_database
from tests.support.services import unavailable

CHROMIUM = os.environ.get("FEEDSVC_CHROMIUM", "/usr/bin/chromium")
AXE_DIR = Path(os.environ.get("FEEDSVC_AXE_DIR", Path.home() / ".cache" / "feedsvc-axe"))
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the browser test needs the playwright package (pip install -e '.[test]')")
    if not (shutil.which(CHROMIUM) or Path(CHROMIUM).exists()):
        unavailable(f"the browser test needs Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a live feedsvc server whose database points at a live demo site."""
    tmp = tmp_path_factory.mktemp("front")
    port = free_port()  # the page's absolute links must name the server's real address
    with DemoSite() as site:
        cfg = demo_database(tmp, site.base_url, f"http://127.0.0.1:{port}")
        cfg = cfg.model_copy(update={"server": cfg.server.model_copy(update={"port": port})})
        with running_server(create_app(cfg, check_interval=0), port=port) as base:
            yield base


def _open(browser: Any, url: str, viewport: dict[str, int], **options: Any) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(viewport=viewport, **options)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200
    return context, page, errors


def test_front_page_at_phone_width_has_no_overflow_and_no_console_errors(browser: Any, front: str,
                                                                         tmp_path: Path) -> None:
    context, page, errors = _open(browser, front + "/", PHONE)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.screenshot(path=str(tmp_path / "front-375.png"), full_page=True)
    page.screenshot(path=str(tmp_path / "front-375-top.png"))
    page.locator("#source-blog").screenshot(path=str(tmp_path / "front-375-blog.png"))
    page.locator("#l-gwdemo-ranking").locator("xpath=..").screenshot(path=str(tmp_path / "front-375-ranking.png"))
    # Open one related list and take the screen a phone user sees with it.
    page.locator("details summary").first.click()
    page.locator("details[open]").first.screenshot(path=str(tmp_path / "front-375-related.png"))
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.tagName + '.' + e.className).slice(0, 5)""")
    context.close()
    print(f"screenshots: {tmp_path}")
    assert overflow <= 0, f"page is {overflow}px wider than a 375px screen: {wide}"
    assert not wide, wide
    assert not errors, errors


def test_front_page_desktop_screenshot_and_content(browser: Any, front: str, tmp_path: Path) -> None:
    context, page, errors = _open(browser, front + "/", DESKTOP)
    page.screenshot(path=str(tmp_path / "front-1280.png"), full_page=True)
    page.screenshot(path=str(tmp_path / "front-1280-top.png"))
    page.locator("#source-gwdemo").screenshot(path=str(tmp_path / "front-1280-gwdemo.png"))
    ranking = page.locator("#l-gwdemo-ranking").locator("xpath=..")
    first = ranking.locator("ol.items > li").first
    assert first.locator(".rank").inner_text() == "1" and "↑2" in first.inner_text()
    assert ranking.locator(".tag", has_text="new").count() == 1  # the newcomer
    assert ranking.locator(".move.down").count() >= 1
    assert page.locator("#source-blog .warnings li").count() == 2
    assert page.locator("#source-gwdemo svg.chart rect.failed").count() == 1
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator('#source-gwdemo a[lang="zh-Hans"]').count() > 10
    context.close()
    print(f"screenshots: {tmp_path}")
    assert not errors, errors


def test_every_link_answers_200(browser: Any, front: str) -> None:
    context, page, errors = _open(browser, front + "/", DESKTOP)
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))")
    context.close()
    urls = sorted({urljoin(front + "/", h).split("#")[0] for h in hrefs})
    assert len(urls) > 50
    failing = []
    with httpx.Client(timeout=10) as client:
        for url in urls:
            assert url.startswith("http://127.0.0.1:"), url  # nothing outside this machine
            status = client.get(url).status_code
            if status != 200:
                failing.append((url, status))
    assert not failing, failing


def test_search_box_opens_a_feed_of_matching_items(browser: Any, front: str) -> None:
    context, page, _errors = _open(browser, front + "/", PHONE)
    page.fill("#q", "报告")
    with page.expect_response(lambda r: "/feeds/new.atom" in r.url) as info:
        page.press("#q", "Enter")
    response = info.value
    body = response.body()
    context.close()
    assert response.status == 200 and "q=" in response.url
    assert "报告".encode() in body


def test_front_page_reads_without_script(browser: Any, front: str) -> None:
    context, page, errors = _open(browser, front + "/", PHONE, java_script_enabled=False)
    assert page.locator("script").count() == 0
    assert page.locator("#source-gwdemo ol.items > li").count() == 10
    assert page.get_by_text("示例公文网").first.is_visible()
    context.close()
    assert not errors


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
def test_axe_finds_no_serious_violations(browser: Any, front: str, viewport: dict[str, int]) -> None:
    if not AXE_JS.exists():
        unavailable(f"the accessibility check needs axe-core: npm install --prefix {AXE_DIR} axe-core")
    context, page, _errors = _open(browser, front + "/", viewport)
    page.locator("details summary").first.click()  # check an open related list too
    page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    context.close()
    serious = [(v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"][:3]])
               for v in result["violations"] if v["impact"] in ("serious", "critical")]
    others = [(v["id"], v["impact"]) for v in result["violations"] if v["impact"] not in ("serious", "critical")]
    print(f"axe {result.get('testEngine', {}).get('version')}: minor/moderate: {others}")
    assert not serious, serious
