"""One page rendered in Chromium with no network of its own: every request it makes is Scrapy's to answer.

The page's document is the response Scrapy already fetched (through the crawl fence, robots.txt, the delay and
DOWNLOAD_MAXSIZE), handed to Chromium with `route.fulfill`. Every other request of the page — subresources,
fetch/XHR, a worker's requests — is turned into a Scrapy request and sent through the crawl's downloader, so
the same fence (the source's hosts, the resolved address), robots.txt and the source's delay apply, and the
answer is fulfilled back. What a page may not do at all is refused and counted: WebSockets (its workers' too), popups
(`window.open`, `target=_blank`), navigating away (form posts, `location = …`), beacons, and requests past
`MAX_PAGE_REQUESTS`. The Chromium flags in crawler/browser.py are a second wall for whatever Playwright does not
route. A render that outlives its wall-clock limit has its context (and so its renderer) closed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

log = logging.getLogger(__name__)

Fetch = Callable[[Request], Awaitable[Response]]
Blocked = Callable[[str, str], None]

# Page resources a listing never needs; not fetching them is most of a rendered page's cost (not counted as
# blocked: they are skipped by design, not refused).
SKIPPED_RESOURCES = frozenset({"image", "font", "media", "stylesheet", "imageset", "texttrack", "manifest"})
# A listing's scripts make a handful of requests; a page asking for more is polling or hostile.
MAX_PAGE_REQUESTS = 100
FETCH_METHODS = frozenset({"GET", "HEAD", "POST"})
# Headers a script's request keeps; Scrapy adds its own User-Agent, cookies and encodings.
REQUEST_HEADERS = frozenset({"accept", "accept-language", "content-type", "referer", "x-requested-with"})
# Headers of Scrapy's response that no longer describe the body Chromium gets (Scrapy decoded it).
DROPPED_RESPONSE_HEADERS = frozenset({b"content-encoding", b"content-length", b"transfer-encoding", b"set-cookie"})
# How long closing a page's context may take before the browser counts as stuck (and is killed).
CLOSE_LIMIT = 5.0


class RenderTimeout(Exception):
    """The page was still busy when its wall-clock limit ran out; its renderer was closed."""


class RendererCrashed(Exception):
    """The page's renderer died (out of memory, or killed for using too much) before the page was read."""


class PageTooLarge(Exception):
    """The rendered DOM is larger than the crawl's page-size cap."""


class BrowserStuck(Exception):
    """Closing a page's context did not finish: the browser must be killed."""


def _headers_of(response: Response) -> dict[str, str]:
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1")
            for k, v in response.headers.items() if k.lower() not in DROPPED_RESPONSE_HEADERS}


class PageRoutes:
    """The route handlers of one rendered page: serve its document, send its own requests through Scrapy,
    refuse (and report through `blocked(url, reason)`) what a page may not do."""

    def __init__(self, document: Response, fetch: Fetch, blocked: Blocked) -> None:
        self.document = document
        self.fetch = fetch
        self.blocked = blocked
        self.page: Any = None
        self.document_served = False
        self.requests = 0

    async def on_route(self, route: Any, request: Any) -> None:
        try:
            await self._answer(route, request)
        except Exception as exc:  # the page or context closed under us: nothing left to answer
            log.debug("rendered page request ended url=%s: %s", request.url, exc)

    async def _answer(self, route: Any, request: Any) -> None:
        refusal = self._refusal(request)
        if refusal == "document":
            self.document_served = True
            await route.fulfill(status=self.document.status, headers=_headers_of(self.document),
                                body=self.document.body)
            return
        if refusal == "skip":
            await route.abort()
            return
        if refusal is not None:
            self.blocked(request.url, refusal)
            # A navigation refused with any other error would replace the rendered page with an error page.
            await route.abort("aborted" if request.is_navigation_request() else "blockedbyclient")
            return
        self.requests += 1
        try:
            response = await self.fetch(self._scrapy_request(request))
        except IgnoreRequest as exc:
            self.blocked(request.url, str(exc) or "refused by the crawl's downloader middlewares")
            await route.abort("blockedbyclient")
            return
        except Exception as exc:
            log.info("rendered page request failed url=%s: %s", request.url, exc)
            await route.abort("failed")
            return
        await route.fulfill(status=response.status, headers=_headers_of(response), body=response.body)

    def _refusal(self, request: Any) -> str | None:
        """"document", "skip", a reason to refuse, or None (fetch it through Scrapy)."""
        frame = _frame_of(request)
        own_page = frame is not None and frame.page is self.page
        if request.is_navigation_request():
            if own_page and frame is self.page.main_frame and not self.document_served:
                return "document"
            return "rendered page may not navigate away (popup, frame, form or location change)"
        if frame is not None and not own_page:
            return "rendered page may not open popups"
        if request.resource_type in SKIPPED_RESOURCES:
            return "skip"
        if request.resource_type in ("ping", "beacon", "eventsource", "websocket"):
            return f"rendered page may not send a {request.resource_type}"
        if request.method.upper() not in FETCH_METHODS:
            return f"rendered page may not send {request.method.upper()} requests"
        if urlsplit(request.url).scheme not in ("http", "https"):
            return f"{urlsplit(request.url).scheme} scheme"
        if self.requests >= MAX_PAGE_REQUESTS:
            return f"rendered page made more than {MAX_PAGE_REQUESTS} requests"
        return None

    def _scrapy_request(self, request: Any) -> Request:
        headers = {k: v for k, v in request.headers.items() if k.lower() in REQUEST_HEADERS}
        host = urlsplit(request.url).hostname or ""
        return Request(
            request.url, method=request.method.upper(), headers=headers, body=request.post_data_buffer or b"",
            dont_filter=True,  # the page asked for it; where it may go is the fence's call, not the dupe filter's
            # A slot apart from the page's own: the page holds its host's slot while it renders, so its requests
            # waiting there would wait for the page itself. This slot has the source's delay too.
            meta={"download_slot": f"{host} (rendered page)", "dont_cache": True, "browser_subrequest": True},
        )

    async def on_websocket(self, ws: Any) -> None:
        self.blocked(ws.url, "rendered page may not open WebSockets")
        # Never connected to the server: the page sees its socket closed at once.
        with suppress(Exception):
            await ws.close(code=1008, reason="refused")

    def on_worker_websocket(self, ws: Any) -> None:
        # Playwright's WebSocket routing covers the page's own sockets only; a worker's socket shows up here, and
        # the Chromium flags (crawler/browser.py) already keep it from connecting anywhere: count it as refused.
        self.blocked(ws.url, "a worker of the rendered page may not open WebSockets")

    def on_page(self, page: Any) -> None:
        if page is self.page:
            return
        self.blocked(page.url or "about:blank", "rendered page may not open popups")
        asyncio.ensure_future(_close_quietly(page))


def _frame_of(request: Any) -> Any:
    # Requests of service workers have no frame (Playwright raises); those of popups have the popup's.
    try:
        return request.frame
    except Exception:
        return None


async def _close_quietly(page: Any) -> None:
    with suppress(Exception):
        await page.close()


async def _settle(page: Any, settle: float) -> None:
    """Wait until the page's scripts stop fetching (the list is filled), but never past `settle` seconds."""
    from playwright.async_api import TimeoutError as PlaywrightTimeout

    # A page that keeps polling never goes idle: then take the DOM as it is at the limit.
    with suppress(PlaywrightTimeout):
        await page.wait_for_load_state("networkidle", timeout=settle * 1000)


async def render_page(browser: Any, document: Response, fetch: Fetch, blocked: Blocked, *, user_agent: str,
                      limit: float, settle: float) -> str:
    """The DOM of `document` after its scripts ran, as HTML. Raises RenderTimeout when it takes longer than
    `limit` seconds in all (its renderer is closed), BrowserStuck when even closing it does not finish."""
    routes = PageRoutes(document, fetch, blocked)
    context = await browser.new_context(user_agent=user_agent, service_workers="block", accept_downloads=False)
    try:
        await context.route("**/*", routes.on_route)
        await context.route_web_socket("**/*", routes.on_websocket)
        routes.page = await context.new_page()
        routes.page.on("websocket", routes.on_worker_websocket)
        context.on("page", routes.on_page)

        crashed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_crash(_page: Any) -> None:
            if not crashed.done():
                crashed.set_result(True)

        routes.page.on("crash", on_crash)

        async def load() -> str:
            await routes.page.goto(document.url, wait_until="load", timeout=limit * 1000)
            await _settle(routes.page, settle)
            return str(await routes.page.content())

        from playwright.async_api import TimeoutError as PlaywrightTimeout

        loading: asyncio.Future[Any] = asyncio.ensure_future(load())
        try:
            # A crashed renderer does not always fail the pending wait: stop at the crash, not at the limit.
            await asyncio.wait_for(asyncio.wait([loading, crashed], return_when=asyncio.FIRST_COMPLETED), limit)
            if not loading.done():
                raise RendererCrashed("the page's renderer crashed (out of memory?)")
            return str(loading.result())
        except (TimeoutError, PlaywrightTimeout) as exc:
            raise RenderTimeout(f"page still busy after {limit:g}s in the browser (crawl.timeout); "
                                "its renderer was closed") from exc
        except Exception as exc:
            if crashed.done() and not isinstance(exc, RendererCrashed):
                raise RendererCrashed("the page's renderer crashed (out of memory?)") from exc
            raise
        finally:
            if not loading.done():
                loading.cancel()
                with suppress(BaseException):
                    await loading
    finally:
        try:
            await asyncio.wait_for(context.close(), CLOSE_LIMIT)
        except Exception as exc:
            raise BrowserStuck(f"closing a rendered page took over {CLOSE_LIMIT:g}s") from exc
