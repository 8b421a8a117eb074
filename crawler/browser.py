"""Rendering listing pages whose lists are filled by script: Debian's Chromium driven by scrapy-playwright.

Owns the Scrapy settings for the browser, the request meta of a browser fetch and the download handler that
starts Chromium on the first browser request only (a crawl that never needs it never starts it). Browser
fetches go through Scrapy's downloader like any other request, so robots.txt, the per-site delay, the
User-Agent, offsite rules and timeouts apply; inside the page, only same-site requests for documents,
scripts and data are let through (images, fonts, media and other hosts are aborted).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from contextlib import suppress
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from feedsvc.config import browser_missing

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

    from feedsvc.config import AppConfig, SourceConfig

# Playwright cannot download its own browsers here; these flags keep the system Chromium quiet and offline.
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
)
# Page resources a listing never needs; blocking them is most of a rendered page's cost.
BLOCKED_RESOURCES = frozenset({"image", "font", "media", "stylesheet", "imageset", "texttrack", "manifest"})
# Longest wait for a page's scripts to finish their requests (network idle) after load, in seconds.
SETTLE_LIMIT = 10.0


def browser_wanted(source: SourceConfig) -> bool:
    return source.render != "never"


class SameSiteResources:
    """PLAYWRIGHT_ABORT_REQUEST: abort images/fonts/media and any request to a host the source may not visit."""

    def __init__(self, allowed_domains: Iterable[str]) -> None:
        self.allowed = tuple(d.lower().lstrip(".") for d in allowed_domains if d)

    def __call__(self, request: Any) -> bool:
        if request.resource_type in BLOCKED_RESOURCES:
            return True
        host = (urlsplit(request.url).hostname or "").lower()
        return not any(host == d or host.endswith("." + d) for d in self.allowed)


def browser_settings(cfg: AppConfig, source: SourceConfig, allowed_domains: Iterable[str]) -> dict[str, Any]:
    """Scrapy settings that route browser requests to Chromium; {} when the source never renders or Chromium is
    missing (then plain crawls load nothing of Playwright)."""
    crawl = cfg.crawl
    if not browser_wanted(source):
        return {}
    missing = browser_missing(crawl.chromium_path)
    if missing is not None:
        return {"FEEDSVC_BROWSER_MISSING": missing}
    timeout_ms = crawl.timeout * 1000
    return {
        "DOWNLOAD_HANDLERS": {"http": "crawler.browser.BrowserDownloadHandler",
                              "https": "crawler.browser.BrowserDownloadHandler"},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {"executable_path": crawl.chromium_path, "headless": True,
                                      "args": list(CHROMIUM_ARGS), "timeout": timeout_ms},
        # One browser, one context, a few pages at once: a rendered page costs tens of MB.
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": crawl.browser_pages,
        "PLAYWRIGHT_CONTEXTS": {"default": {"user_agent": crawl.user_agent, "service_workers": "block"}},
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        "PLAYWRIGHT_ABORT_REQUEST": SameSiteResources(allowed_domains),
        "FEEDSVC_BROWSER": True,
    }


async def _settle(page: Any, limit_ms: float) -> None:
    """Wait until the page's scripts stop fetching (the list is filled), but never past the limit."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    # A page that keeps polling never goes idle: then take the DOM as it is at the limit.
    with suppress(PlaywrightTimeout):
        await page.wait_for_load_state("networkidle", timeout=limit_ms)


def browser_meta(timeout: float) -> dict[str, Any]:
    """Request meta that sends a request through Chromium; never served from or stored in the HTTP cache
    (a 304 from a conditional request would leave the browser an empty page)."""
    from scrapy_playwright.page import PageMethod

    limit_ms = min(timeout, SETTLE_LIMIT) * 1000
    return {"playwright": True, "dont_cache": True,
            "playwright_page_methods": [PageMethod(_settle, limit_ms)]}


class BrowserDownloadHandler(HTTP11DownloadHandler):
    """http(s) handler: plain requests as usual; requests with meta['playwright'] go to scrapy-playwright's
    handler, created (and Chromium launched) on the first such request."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._feedsvc_crawler = crawler
        self._browser: Any = None
        self._starting = asyncio.Lock()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserDownloadHandler:
        return cls(crawler)

    async def download_request(self, request: Request) -> Response:
        if not request.meta.get("playwright"):
            return await super().download_request(request)
        handler = await self._start()
        response: Response = await handler.download_request(request)
        return response

    async def _start(self) -> Any:
        async with self._starting:
            if self._browser is None:
                from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

                handler = ScrapyPlaywrightDownloadHandler.from_crawler(self._feedsvc_crawler)
                # Its own start hook listens for engine_started, long past by now: start it by hand.
                await handler._maybe_launch_in_thread()
                self._browser = handler
        return self._browser

    async def close(self) -> None:
        await super().close()
        if self._browser is not None:
            await self._browser.close()
