"""Pure-ASGI front of the app: serves cached feeds straight from the FeedCache (the 200/304/gzip decision is
feedsvc/http/responses.py's) and counts every request for /metrics. A cache hit never enters Starlette routing, a thread pool or the database.

Misses, and everything that is not a GET/HEAD of /feeds/..., pass through to the Starlette app.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, MutableMapping
from typing import Any

import anyio.to_thread

from feedsvc.feeds.render import MEDIA_TYPES
from feedsvc.http.cache import Document, FeedCache
from feedsvc.http.metrics import Metrics
from feedsvc.http.responses import Conditions, reply, send_reply

log = logging.getLogger(__name__)
Scope = MutableMapping[str, Any]
_STATIC_ROUTES = {"/", "/opml", "/healthz", "/metrics"}
# Metrics label documents by feed format, as builds do ("application/feed+json" is "json", not "feed").
_FORMAT_BY_MEDIA_TYPE = {media_type: fmt for fmt, media_type in MEDIA_TYPES.items()}


def cache_key(scope: Scope) -> str:
    return str(scope["path"]) + "?" + bytes(scope.get("query_string", b"")).decode("latin-1")


class FeedFastPath:
    """ASGI middleware around the app. Its collaborators come in as arguments: the cache it answers from, the
    metrics it counts into, and `max_age()`, read per hit because a config reload may change it."""

    def __init__(self, app: Any, cache: FeedCache, metrics: Metrics, max_age: Callable[[], int]) -> None:
        self.app = app
        self.cache = cache
        self.metrics = metrics
        self.max_age = max_age
        self.routes: dict[str, str] = {}  # cache key → route template, for metrics labels of fast hits
        self._refresh: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if scope["method"] in ("GET", "HEAD") and path.startswith("/feeds/"):
            key = cache_key(scope)
            doc = await self._cached(key)
            if doc is not None:
                answer = reply(doc, self.max_age(), Conditions.from_raw(scope["headers"]))
                await send_reply(scope, send, answer)
                self.metrics.count_request(self.routes.get(key, "/feeds/{cached}"), answer.status)
                self.metrics.count_cache_hit(_FORMAT_BY_MEDIA_TYPE.get(doc.media_type, "other"))
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
                if len(self.routes) > 4 * self.cache.max_entries:
                    self.routes.clear()
            self.metrics.count_request(route, status_box[0])

    async def _cached(self, key: str) -> Document | None:
        cache = self.cache
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
            await anyio.to_thread.run_sync(self.cache.refresh_version)
        except Exception as exc:  # the next miss goes through the app, which reports the error properly
            log.warning("data_version check failed: %s", exc)
