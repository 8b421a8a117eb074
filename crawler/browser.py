"""Rendering listing pages whose lists are filled by script: the crawl process's one Chromium, driven by Playwright.

Owns the Scrapy settings for the browser, the request meta of a browser fetch, the download handler and the
process's single Chromium (shared by every source a crawl process crawls, launched on the first page that needs
it, closed when the last crawler using it closes). A browser fetch first downloads the page like any other
request — the fence, robots.txt, the delay and DOWNLOAD_MAXSIZE apply before anything is rendered — and only then
hands it to Chromium (crawler/browser_page.py), where every request the page makes goes back through Scrapy.
The Chromium flags are a second wall: no name resolves, and any connection that escaped Playwright's routing
would go to a proxy address where nothing listens. A render past its wall-clock limit is closed; a browser that
does not close is killed, and the next page starts a new one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.browser_page import (
    Blocked,
    BrowserStuck,
    Fetch,
    PageTooLarge,
    RendererCrashed,
    RenderTimeout,
    render_page,
)
from feedsvc.config import browser_missing

# What a rendered page's own requests inherit from the page's request: its source in a shared Crawler
# (crawler/shared.py SOURCE_META), so they pass that source's fence.
INHERITED_META = ("feedsvc_source",)

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from feedsvc.config import AppConfig, SourceConfig

log = logging.getLogger(__name__)

BLOCKED_STAT = "feedsvc/browser_blocked"
BLOCKED_EXAMPLE_STAT = "feedsvc/browser_blocked_example"
# A rendered page's JavaScript heap, in MB: a listing needs a few; a hostile page took gigabytes without a cap.
JS_HEAP_MB = 256
# A rendered page's renderer process, in MB of resident memory: what the JS heap cap does not see (ArrayBuffers,
# canvases, DOM nodes — each grew a renderer past 1 GB within 10 s when measured). A listing page's renderer
# uses 60-200 MB. Checked every MEMORY_POLL seconds while a page renders; a renderer over it is killed.
RENDERER_MEMORY_MB = 1024
MEMORY_POLL = 0.2
# Nothing listens on the discard port; a connection that escaped Playwright's routing goes there and fails.
DEAD_PROXY = "http://127.0.0.1:9"
# Playwright cannot download its own browsers here; these flags keep the system Chromium quiet, offline and small.
CHROMIUM_ARGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
    # The second wall: every page request is answered by Scrapy through Playwright's routing, so Chromium itself
    # needs no DNS and no connection. Loopback is proxied too (Chromium bypasses proxies for it by default).
    "--host-resolver-rules=MAP * ~NOTFOUND", f"--proxy-server={DEAD_PROXY}", "--proxy-bypass-list=<-loopback>",
    "--dns-prefetch-disable", "--disable-features=NetworkPrediction,InterestFeedContentSuggestions",
    f"--js-flags=--max-old-space-size={JS_HEAP_MB}",
)
# Longest wait for a page's scripts to finish their requests (network idle) after load, in seconds.
SETTLE_LIMIT = 10.0
RENDERABLE_TYPES = ("text/html", "application/xhtml+xml")


def browser_wanted(source: SourceConfig) -> bool:
    return source.render != "never"


def browser_settings(cfg: AppConfig, source: SourceConfig) -> dict[str, Any]:
    """Scrapy settings that give a source the browser's download handler; {} when the source never renders
    (then its crawl loads nothing of Playwright), only the install hint when Chromium or Playwright is missing."""
    crawl = cfg.crawl
    if not browser_wanted(source):
        return {}
    missing = browser_missing(crawl.chromium_path)
    if missing is not None:
        return {"FEEDSVC_BROWSER_MISSING": missing}
    return {
        "DOWNLOAD_HANDLERS": {"http": "crawler.browser.BrowserDownloadHandler",
                              "https": "crawler.browser.BrowserDownloadHandler"},
        "FEEDSVC_BROWSER": True,
        "FEEDSVC_CHROMIUM_PATH": crawl.chromium_path,
        "FEEDSVC_BROWSER_PAGES": crawl.browser_pages,
    }


def browser_meta() -> dict[str, Any]:
    """Request meta that sends a request through Chromium; never served from or stored in the HTTP cache
    (a 304 from a conditional request would leave the browser an empty page)."""
    return {"render": True, "dont_cache": True}


def _descendants(root: int) -> list[int]:
    """Process ids below `root` (Linux /proc): the Playwright driver and the Chromium it started."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _renderers() -> list[int]:
    """This process's Chromium renderer processes (one per page: each page has its own browser context)."""
    found = []
    for pid in _descendants(os.getpid()):
        with suppress(OSError):
            if b"--type=renderer" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
    return found


def _resident_mb(pid: int) -> int:
    """Resident memory of `pid` in MB (0 once it is gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (OSError, ValueError, IndexError):
        return 0


class ProcessBrowser:
    """The crawl process's one Chromium: shared by every crawler of the process, at most `pages` pages at once."""

    def __init__(self) -> None:
        self.users: set[int] = set()
        self._lock = asyncio.Lock()
        self._playwright: Any = None
        self._browser: Any = None
        self._pages: asyncio.Semaphore | None = None
        self.launches = 0
        self.memory_kills = 0

    async def render(self, handler: BrowserDownloadHandler, document: Response) -> str:
        self.users.add(id(handler))
        if self._pages is None:
            self._pages = asyncio.Semaphore(handler.pages)
        async with self._pages:
            browser = await self._launched(handler)
            killed_before = self.memory_kills
            watch = asyncio.ensure_future(self.watch_memory())
            try:
                return await render_page(browser, document, handler.fetch_for(document), handler.blocked_for(document),
                                         user_agent=handler.user_agent, limit=handler.limit,
                                         settle=min(SETTLE_LIMIT, handler.limit / 2))
            except BrowserStuck as exc:
                log.warning("browser stuck closing url=%s; killing it: %s", document.url, exc)
                await self.kill()
                raise RenderTimeout(f"the browser did not close a busy page within its limit ({exc}); "
                                    "it was killed") from exc
            except RendererCrashed as exc:
                if self.memory_kills > killed_before:
                    raise RendererCrashed(f"the page's renderer used over {RENDERER_MEMORY_MB} MB of memory; "
                                          "it was killed") from exc
                raise
            finally:
                watch.cancel()

    async def watch_memory(self) -> None:
        """While a page renders: kill any renderer of this process over RENDERER_MEMORY_MB (the page crashes,
        the browser and the other pages go on)."""
        while True:
            await asyncio.sleep(MEMORY_POLL)
            for pid in _renderers():
                used = _resident_mb(pid)
                if used > RENDERER_MEMORY_MB:
                    log.warning("renderer pid=%d uses %d MB, over %d MB: killing it", pid, used, RENDERER_MEMORY_MB)
                    with suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                        self.memory_kills += 1

    async def _launched(self, handler: BrowserDownloadHandler) -> Any:
        async with self._lock:
            if self._browser is None or not self._browser.is_connected():
                from playwright.async_api import async_playwright

                if self._playwright is None:
                    self._playwright = await async_playwright().start()
                self._browser = await self._playwright.chromium.launch(
                    executable_path=handler.chromium_path, headless=True, args=list(CHROMIUM_ARGS),
                    timeout=handler.limit * 1000)
                self.launches += 1
            return self._browser

    async def release(self, handler: BrowserDownloadHandler) -> None:
        self.users.discard(id(handler))
        if self.users:
            return
        async with self._lock:
            browser, playwright = self._browser, self._playwright
            self._browser = self._playwright = None
            try:
                if browser is not None:
                    await asyncio.wait_for(browser.close(), 10)
                if playwright is not None:
                    await asyncio.wait_for(playwright.stop(), 10)
            except Exception as exc:
                log.warning("browser did not close cleanly (%s); killing it", exc)
                self._kill_processes()

    async def kill(self) -> None:
        """Kill the driver and Chromium outright (a renderer that will not close); the next page relaunches."""
        async with self._lock:
            self._kill_processes()
            playwright, self._browser, self._playwright = self._playwright, None, None
            if playwright is not None:
                with suppress(Exception):
                    await asyncio.wait_for(playwright.stop(), 5)

    @staticmethod
    def _kill_processes() -> None:
        for pid in _descendants(os.getpid()):
            with suppress(OSError):
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"playwright" in cmdline or b"chrom" in cmdline:
                    os.kill(pid, signal.SIGKILL)


_PROCESS_BROWSER: ProcessBrowser | None = None


def process_browser() -> ProcessBrowser:
    """This process's browser (one per crawl process, however many sources it crawls)."""
    global _PROCESS_BROWSER
    if _PROCESS_BROWSER is None:
        _PROCESS_BROWSER = ProcessBrowser()
    return _PROCESS_BROWSER


class BrowserDownloadHandler(HTTP11DownloadHandler):
    """http(s) handler: plain requests as usual; a request with meta['render'] is downloaded the same way and
    then, when it is an HTML page, rendered by the process's Chromium."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.crawler = crawler
        settings = crawler.settings
        self.chromium_path = settings.get("FEEDSVC_CHROMIUM_PATH", "/usr/bin/chromium")
        self.pages = settings.getint("FEEDSVC_BROWSER_PAGES", 2)
        self.user_agent = settings.get("USER_AGENT")
        self.limit = settings.getfloat("DOWNLOAD_TIMEOUT", 30.0)  # a page's whole time in the browser
        self.maxsize = settings.getint("DOWNLOAD_MAXSIZE")
        self._used = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BrowserDownloadHandler:
        return cls(crawler)

    async def download_request(self, request: Request) -> Response:
        # The page itself, under the same size cap as any page: nothing over it reaches the browser.
        document: Response = await super().download_request(request)
        if not request.meta.get("render") or not _renderable(document):
            return document  # a redirect, an error or not HTML: handled as the plain fetch would be
        self._used = True
        if document.request is None:  # set by the engine only later; fetch_for reads the page's request
            document.request = request
        html = await process_browser().render(self, document)
        body = html.encode("utf-8")
        if self.maxsize and len(body) > self.maxsize:
            raise PageTooLarge(f"rendered page is {len(body)} bytes, over DOWNLOAD_MAXSIZE ({self.maxsize})")
        headers = {k: v for k, v in document.headers.items()
                   if k.lower() not in (b"content-encoding", b"content-length", b"content-type")}
        headers[b"Content-Type"] = [b"text/html; charset=utf-8"]
        return HtmlResponse(document.url, status=document.status, headers=headers, body=body, encoding="utf-8",
                            request=request, flags=["rendered"])

    async def fetch(self, request: Request) -> Response:
        """A rendered page's own request, through the crawl's downloader middlewares (fence, robots.txt,
        redirects) and a download slot with the source's delay."""
        engine = self.crawler.engine
        assert engine is not None
        for _ in range(self.crawler.settings.getint("REDIRECT_MAX_TIMES", 10) + 1):
            result = await maybe_deferred_to_future(engine.downloader.fetch(request))
            if isinstance(result, Response):
                return result
            request = result  # a redirect, already past the fence like any request
        raise IgnoreRequest(f"too many redirects from a rendered page's request to {request.url}")

    def fetch_for(self, document: Response) -> Fetch:
        """`fetch` for the requests of `document`'s page: they carry its request's source (crawler/shared.py),
        so they pass that source's fence."""
        page_meta = document.request.meta if document.request is not None else {}
        inherited = {key: page_meta[key] for key in INHERITED_META if key in page_meta}
        if not inherited:
            return self.fetch

        async def fetch(request: Request) -> Response:
            request.meta.update(inherited)
            return await self.fetch(request)

        return fetch

    def blocked_for(self, document: Response) -> Blocked:
        """`blocked` counting on the stats of `document`'s source (a shared Crawler's spider knows them)."""
        stats_for = getattr(self.crawler.spider, "stats_for", None)
        stats = stats_for(document.request) if stats_for is not None and document.request is not None else None
        return partial(self.blocked, stats=stats) if stats is not None else self.blocked

    def blocked(self, url: str, reason: str, stats: Any = None) -> None:
        """Count a rendered page's request that was refused: the run's summary reports them."""
        log.info("rendered page request blocked url=%s: %s", url, reason)
        stats = stats if stats is not None else self.crawler.stats
        if stats is not None:
            stats.inc_value(BLOCKED_STAT)
            if stats.get_value(BLOCKED_STAT) == 1:
                stats.set_value(BLOCKED_EXAMPLE_STAT, f"{url[:200]} ({reason[:200]})")

    async def close(self) -> None:
        await super().close()
        if self._used:
            await process_browser().release(self)


def _renderable(response: Response) -> bool:
    ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
    return response.status == 200 and (not ctype or ctype.startswith(RENDERABLE_TYPES))
