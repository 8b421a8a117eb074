"""Pure-ASGI front of the app: serves cached feeds (200/304, gzip) straight from the FeedCache and counts
every request for /metrics. A cache hit never enters Starlette routing, a thread pool or the database.

Misses, and everything that is not a GET/HEAD of /feeds/..., pass through to the Starlette app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from feedsvc.http.cache import Document, not_modified

if TYPE_CHECKING:
    from feedsvc.http.app import AppState

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
_STATIC_ROUTES = {"/", "/opml", "/healthz", "/metrics"}


def wants_gzip(accept_encoding: str) -> bool:
    """gzip listed in Accept-Encoding and not refused with q=0."""
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
            try:
                return float(q) > 0
            except ValueError:
                return True
    return False


def document_headers(doc: Document, max_age: int) -> dict[str, str]:
    return {
        "etag": doc.etag,
        "last-modified": doc.last_modified,
        "cache-control": f"public, max-age={max_age}",
        "vary": "Accept-Encoding",
    }


def cache_key(scope: Scope) -> str:
    return str(scope["path"]) + "?" + bytes(scope.get("query_string", b"")).decode("latin-1")


class FeedFastPath:
    def __init__(self, app: Any, state: AppState) -> None:
        self.app = app
        self.state = state
        self.routes: dict[str, str] = {}  # cache key → route template, for metrics labels of fast hits
        self._refresh: asyncio.Task[None] | None = None
        self._header_cache: dict[tuple[str, str], list[tuple[bytes, bytes]]] = {}
        self._headers_cfg: object = state.cfg

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if scope["method"] in ("GET", "HEAD") and path.startswith("/feeds/"):
            key = cache_key(scope)
            doc = await self._cached(key)
            if doc is not None:
                status = await self._send_document(scope, send, doc)
                self.state.metrics.count_request(self.routes.get(key, "/feeds/{cached}"), status)
                self.state.metrics.count_cache_hit(doc.media_type.split("/")[1].split(";")[0].split("+")[0])
                return
        status_box = [500]

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("feedsvc.route") or (path if path in _STATIC_ROUTES else "other")
            if "feedsvc.route" in scope and status_box[0] < 400:
                self.routes[cache_key(scope)] = route
                if len(self.routes) > 4 * self.state.cache.max_entries:
                    self.routes.clear()
            self.state.metrics.count_request(route, status_box[0])

    async def _cached(self, key: str) -> Document | None:
        cache = self.state.cache
        doc = cache.peek(key)
        if doc is not None or cache.version_is_fresh() or key not in self.routes or cache.check_interval <= 0:
            return doc  # an interval of 0 means "always check first" (tests, strict setups): no stale answers
        # The data_version check is due. Serve what we have and check in the background (stale-while-
        # revalidate): no request waits for the database, and a new crawl shows up a few ms later.
        doc = cache.peek_stale(key)
        if doc is not None:
            if self._refresh is None or self._refresh.done():
                self._refresh = asyncio.get_running_loop().create_task(self._refresh_version())
            return doc
        return None

    async def _refresh_version(self) -> None:
        try:
            await anyio.to_thread.run_sync(self.state.cache.refresh_version)
        except Exception as exc:  # the next miss goes through the app, which reports the error properly
            log.warning("data_version check failed: %s", exc)

    def _headers(self, doc: Document, variant: str) -> list[tuple[bytes, bytes]]:
        """Encoded response headers per document and variant ('304', 'identity', 'gzip'), built once."""
        if self._headers_cfg is not self.state.cfg:  # config reloaded (feedsvc run): max-age may differ
            self._header_cache.clear()
            self._headers_cfg = self.state.cfg
        key = (doc.etag, variant)
        cached = self._header_cache.get(key)
        if cached is not None:
            return cached
        out = [(k.encode("latin-1"), v.encode("latin-1"))
               for k, v in document_headers(doc, self.state.cfg.server.cache_max_age).items()]
        if variant != "304":
            body = doc.gzip_body if variant == "gzip" else doc.body
            if variant == "gzip":
                out.append((b"content-encoding", b"gzip"))
            out.append((b"content-type", doc.media_type.encode("latin-1")))
            out.append((b"content-length", str(len(body)).encode("latin-1")))
        if len(self._header_cache) > 4 * self.state.cache.max_entries:
            self._header_cache.clear()
        self._header_cache[key] = out
        return out

    async def _send_document(self, scope: Scope, send: Any, doc: Document) -> int:
        if_none_match = if_modified_since = accept_encoding = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == b"if-modified-since":
                if_modified_since = value.decode("latin-1")
            elif name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
        if not_modified(doc, if_none_match, if_modified_since):
            await send({"type": "http.response.start", "status": 304, "headers": self._headers(doc, "304")})
            await send({"type": "http.response.body", "body": b""})
            return 304
        gz = accept_encoding is not None and wants_gzip(accept_encoding)
        body = doc.gzip_body if gz else doc.body
        headers = self._headers(doc, "gzip" if gz else "identity")
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
        return 200
