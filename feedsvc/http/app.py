"""The HTTP app: `create_app(cfg) -> Starlette`. Routes, status codes, media types and HTTP caching only.

No SQL (feedsvc/store/) and no XML (feedsvc/feeds/render.py): handlers call FeedBuilder/pages and wrap the
bytes. Built feeds live in a FeedCache keyed by URL; the pure-ASGI `FeedFastPath` in front of Starlette
answers cache hits (200 or 304) without routing, threads or database access.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from feedsvc.config import AppConfig, load_config
from feedsvc.errors import BadRequest, FeedNotFound, StorageError
from feedsvc.feeds import front_page
from feedsvc.feeds.builder import FeedBuilder
from feedsvc.feeds.opml import MEDIA_TYPE as OPML_TYPE
from feedsvc.feeds.render import EPOCH
from feedsvc.feeds.spec import parse_feed_path, parse_filter
from feedsvc.http.cache import DEFAULT_CHECK_INTERVAL, Document, FeedCache, make_document
from feedsvc.http.fastpath import FeedFastPath, cache_key
from feedsvc.http.metrics import CONTENT_TYPE as METRICS_TYPE
from feedsvc.http.metrics import Metrics
from feedsvc.http.responses import Conditions, DocumentResponse, reply
from feedsvc.store import Store
from feedsvc.store.feeds import ping
from feedsvc.store.items import count_items
from feedsvc.store.meta import data_version
from feedsvc.store.watch import DatabaseFile, reopen_replaced
from feedsvc.store.websub import HubSummary, hub_summaries
from feedsvc.text import whole_number

log = logging.getLogger(__name__)

MAX_PAGE = 10**9  # far beyond any index; a longer `page` is read as "the last one"


class AppState:
    """What handlers share; the engine is opened and closed by the lifespan."""

    def __init__(self, cfg: AppConfig, check_interval: float) -> None:
        self.cfg = cfg
        self.store: Store | None = None
        self.session_factory: sessionmaker[Session] | None = None
        self.database_file: DatabaseFile | None = None
        self._reopen_lock = threading.Lock()
        self.builder: FeedBuilder | None = None
        self.cache = FeedCache(self.read_version, check_interval=check_interval)
        self.metrics = Metrics()
        self.opml: Document | None = None

    def sessions(self) -> sessionmaker[Session]:
        if self.session_factory is None:
            raise StorageError("The database is not open yet (server starting or stopping).")
        if self.database_file is not None and self.database_file.change() is not None:
            self._follow_file()
        return self.session_factory

    def _follow_file(self) -> None:
        """The SQLite file was deleted or replaced under us: reopen the new one, or fail every request (503)
        rather than serve the unlinked old file. Cached documents of the old file are dropped either way."""
        assert self.database_file is not None
        with self._reopen_lock:
            if self.database_file.change() is None:
                return  # another thread reopened it meanwhile
            self.cache.clear()
            self.opml = None
            store = reopen_replaced(self.cfg.database.url, self.cfg.base_dir, self.database_file)
            old, self.store = self.store, store
            self.session_factory = store.session_factory
            self.builder = None  # it holds the old session factory
            if old is not None:
                old.close()

    def read_version(self) -> int:
        with self.sessions()() as session:
            return data_version(session)

    def feed_builder(self) -> FeedBuilder:
        if self.builder is None:
            self.builder = FeedBuilder(self.cfg, self.sessions())
        return self.builder

    def max_age(self) -> int:
        return self.cfg.server.cache_max_age

    def apply_config(self, cfg: AppConfig) -> None:
        """Serve a reloaded config: new/removed sources' feeds appear/disappear, cached documents are dropped."""
        self.cfg = cfg
        self.builder = None
        self.opml = None
        self.cache.clear()


def _state(request: Request) -> AppState:
    state: AppState = request.app.state.feedsvc
    return state


def respond(request: Request, doc: Document, max_age: int) -> Response:
    """200 or 304 for a document, gzip when the client accepts it (the fast path answers hits the same way)."""
    headers = request.headers
    conditions = Conditions(headers.get("if-none-match"), headers.get("if-modified-since"),
                            headers.get("accept-encoding"))
    return DocumentResponse(reply(doc, max_age, conditions))


async def feed(request: Request) -> Response:
    state = _state(request)
    request.scope["feedsvc.route"] = "/feeds/{unknown}"
    spec, fmt = parse_feed_path(state.cfg, request.path_params["path"])
    request.scope["feedsvc.route"] = spec.route
    flt = parse_filter(request.query_params)
    builder = state.feed_builder()

    def build(version: int) -> Document:
        built = builder.build(spec, fmt, flt)
        state.metrics.count_build(fmt)
        return make_document(built.body, built.media_type, built.updated, version)

    # Built once per feed and filter, whatever else the query string holds (readers add cache busters);
    # the raw URL is stored too because that is what the fast path looks up.
    canonical = f"{spec.path(fmt)}|{flt.limit}|{flt.q}|{flt.exclude}|{flt.since}"
    doc, cached = await run_in_threadpool(state.cache.get_or_build, canonical, build)
    state.cache.put(cache_key(request.scope), doc)
    if cached:
        state.metrics.count_cache_hit(fmt)
    return respond(request, doc, state.cfg.server.cache_max_age)


async def opml(request: Request) -> Response:
    state = _state(request)
    if state.opml is None:  # depends on the config only
        body = front_page.render_opml_document(state.feed_builder())
        state.opml = make_document(body, OPML_TYPE, EPOCH, 0)
    return respond(request, state.opml, state.cfg.server.cache_max_age)


async def index(request: Request) -> Response:
    state = _state(request)
    raw_page = request.query_params.get("page", "1")
    # Out of range, however many digits: the nearest page (render_index clamps to the last one).
    page = max(1, whole_number(raw_page, MAX_PAGE, clamp=True) or 1)

    def render() -> bytes:
        with state.sessions()() as session:
            return front_page.render_index(state.feed_builder(), session, page, now=datetime.now(UTC))

    body = await run_in_threadpool(render)
    # Health and last-crawl times change without a data_version bump, so the page is never cached here;
    # it still gets validators and gzip like every other document.
    doc = make_document(body, front_page.HTML_MEDIA_TYPE, datetime.now(UTC), 0)
    return respond(request, doc, max_age=0)


async def healthz(request: Request) -> Response:
    state = _state(request)

    def check() -> None:
        with state.sessions()() as session:
            ping(session)
            data_version(session)  # the schema is there and readable, not just a connection

    try:
        await run_in_threadpool(check)
    except StorageError as exc:
        return PlainTextResponse(f"database unreachable: {exc}\n", status_code=503)
    return PlainTextResponse("ok\n")


async def metrics(request: Request) -> Response:
    state = _state(request)

    def read() -> tuple[int, list[HubSummary]]:
        with state.sessions()() as session:
            return count_items(session), hub_summaries(session)

    count, hubs = await run_in_threadpool(read)
    return Response(state.metrics.render(lambda: count, hubs), media_type=METRICS_TYPE)


async def _not_found(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"{exc}\n", status_code=404)


async def _bad_request(request: Request, exc: Exception) -> Response:
    return PlainTextResponse(f"Bad request: {exc}\n", status_code=400)


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.error("storage error on %s: %s", request.url.path, exc)
    return PlainTextResponse(f"Service unavailable: {exc}\n", status_code=503, headers={"retry-after": "30"})


class FeedApp(Starlette):
    """Starlette with FeedFastPath outermost, so a cache hit skips even Starlette's error middleware."""

    feedsvc_state: AppState

    def build_middleware_stack(self) -> Any:
        state = self.feedsvc_state
        return FeedFastPath(super().build_middleware_stack(), state.cache, state.metrics, state.max_age)


def create_app(cfg: AppConfig, check_interval: float = DEFAULT_CHECK_INTERVAL) -> Starlette:
    """The feed server for `cfg`. `check_interval`: seconds between data_version checks (cache freshness)."""
    state = AppState(cfg, check_interval)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.store = await run_in_threadpool(Store.for_config, cfg)
        state.session_factory = state.store.session_factory
        state.database_file = DatabaseFile(cfg.database.url, cfg.base_dir)
        try:
            yield
        finally:
            state.session_factory = None
            if state.store is not None:
                state.store.close()

    routes = [
        Route("/", index),
        Route("/opml", opml),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/feeds/{path:path}", feed),
    ]
    handlers: dict[Any, Any] = {FeedNotFound: _not_found, BadRequest: _bad_request, StorageError: _unavailable}
    app = FeedApp(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    app.feedsvc_state = state
    app.state.feedsvc = state
    return app


# `feedsvc serve --host/--port` pass their overrides to worker processes through these.
HOST_ENV = "FEEDSVC_SERVE_HOST"
PORT_ENV = "FEEDSVC_SERVE_PORT"


def app_from_env() -> Starlette:
    """uvicorn factory for `feedsvc serve` (each worker process loads the config from $FEEDSVC_CONFIG).

    Command-line host/port overrides are applied so self links (when `base_url` is empty) name the address
    actually served."""
    cfg = load_config(os.environ.get("FEEDSVC_CONFIG"))
    overrides: dict[str, Any] = {}
    if os.environ.get(HOST_ENV):
        overrides["host"] = os.environ[HOST_ENV]
    if os.environ.get(PORT_ENV):
        overrides["port"] = int(os.environ[PORT_ENV])
    if overrides:
        cfg = cfg.model_copy(update={"server": cfg.server.model_copy(update=overrides)})
    return create_app(cfg)
