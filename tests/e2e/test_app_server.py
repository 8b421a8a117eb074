"""The app under a real uvicorn server on 127.0.0.1, spoken to with httpx: fast path, validators, gzip bytes,
and cache freshness with the production check interval (`feedsvc serve` itself: tests/test_cli_serve_cmd.py)."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from datetime import timedelta

import feedparser
import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import AppConfig
from feedsvc.http.app import create_app
from feedsvc.store import Store
from tests.support.feeds import (
    T0,
    check_valid_feed,
    crawl,
    listed,
    make_config,
    running_server,
    sample_crawls,
)

ROUTES = ["/feeds/new.atom", "/feeds/new.rss", "/feeds/new.json", "/feeds/gw.atom", "/feeds/en.rss",
          "/feeds/gw/ranking.json", "/feeds/gw/recommended.atom", "/feeds/topics/party.rss", "/opml", "/",
          "/healthz", "/metrics"]


@pytest.fixture
def served(db_url: str) -> Iterator[tuple[str, AppConfig, sessionmaker[Session]]]:
    cfg = make_config(db_url, "http://feeds.test")
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    sample_crawls(factory, cfg)
    with running_server(create_app(cfg)) as url:  # default 1 s data_version check interval
        yield url, cfg, factory
    engine.dispose()


def test_every_route_over_real_http(served: tuple[str, AppConfig, sessionmaker[Session]]) -> None:
    url, _, _ = served
    with httpx.Client(base_url=url, timeout=10) as client:
        for route in ROUTES:
            response = client.get(route)
            assert response.status_code == 200, (route, response.text)
            assert "charset=utf-8" in response.headers["content-type"]
        for route in ROUTES[:8]:
            fmt = route.rsplit(".", 1)[1]
            check_valid_feed(client.get(route).content, fmt, "http://feeds.test" + route)
        assert client.get("/feeds/nope.atom").status_code == 404
        assert client.get("/feeds/new.atom?limit=-1").status_code == 400
        item_id = 1
        related = client.get(f"/feeds/items/{item_id}/related.atom")
        assert related.status_code == 200
        assert feedparser.parse(related.content).bozo == 0


def test_cached_responses_validators_and_gzip_bytes(served: tuple[str, AppConfig, sessionmaker[Session]]) -> None:
    url, _, _ = served
    with httpx.Client(base_url=url, timeout=10) as client:
        first = client.get("/feeds/new.atom", headers={"accept-encoding": "identity"})
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        with client.stream("GET", "/feeds/new.atom", headers={"accept-encoding": "gzip"}) as zipped:
            raw = b"".join(zipped.iter_raw())
            assert zipped.headers["content-encoding"] == "gzip"
            assert int(zipped.headers["content-length"]) == len(raw)
        assert gzip.decompress(raw) == first.content
        assert client.get("/feeds/new.atom", headers={"if-none-match": etag}).status_code == 304
        assert client.get("/feeds/new.atom", headers={"if-modified-since": modified}).status_code == 304
        head = client.head("/feeds/new.atom")
        assert head.status_code == 200 and head.content == b"" and head.headers["etag"] == etag
        metrics = client.get("/metrics").text
    # Everything after the first build came from the cache (most of it via the ASGI fast path).
    assert 'feedsvc_feed_builds_total{format="atom"} 1.0' in metrics
    assert 'feedsvc_feed_cache_hits_total{format="atom"} 4.0' in metrics


def test_a_new_crawl_shows_up_within_the_check_interval(
    served: tuple[str, AppConfig, sessionmaker[Session]],
) -> None:
    url, cfg, factory = served
    with httpx.Client(base_url=url, timeout=10) as client:
        before = client.get("/feeds/en.atom")
        assert client.get("/feeds/en.atom").headers["etag"] == before.headers["etag"]
        crawl(factory, cfg, "en", [listed("en", "latest", "http://en.test/news/7", "Late edition 🗞")],
              T0 + timedelta(days=2))
        deadline = time.monotonic() + 5
        while True:
            after = client.get("/feeds/en.atom", headers={"if-none-match": before.headers["etag"]})
            if after.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert after.status_code == 200
        assert feedparser.parse(after.content).entries[0].title == "Late edition 🗞"
