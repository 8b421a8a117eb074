"""http/fastpath.py: a cached feed is answered before the app (200, 304), misses and other paths pass through,
and every request is counted with its route template and format."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from feedsvc.feeds.render import MEDIA_TYPES
from feedsvc.http.cache import FeedCache, make_document
from feedsvc.http.fastpath import FeedFastPath, cache_key
from feedsvc.http.metrics import Metrics

UPDATED = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)


def _stack() -> tuple[FeedFastPath, list[str]]:
    """The fast path around a minimal ASGI app that builds feeds through the cache, as the real app does."""
    cache = FeedCache(lambda: 7, check_interval=60.0)
    calls: list[str] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(scope["path"])
        if scope["path"].startswith("/feeds/"):
            scope["feedsvc.route"] = "/feeds/{source}.{fmt}"
            doc, _ = cache.get_or_build(cache_key(scope), lambda version: make_document(
                b'{"items":[]}', MEDIA_TYPES["json"], UPDATED, version))
            headers = [(b"content-type", doc.media_type.encode()), (b"etag", doc.etag.encode())]
            body = doc.body
        else:
            headers, body = [(b"content-type", b"text/plain")], b"hello"
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return FeedFastPath(app, cache, Metrics(), lambda: 120), calls


def test_a_cached_feed_is_answered_without_the_app_and_counted_as_its_format() -> None:
    fast, calls = _stack()
    client = TestClient(fast)
    first = client.get("/feeds/gw.json?limit=5")
    second = client.get("/feeds/gw.json?limit=5")
    assert calls == ["/feeds/gw.json"]  # the second request never reached the app
    assert second.status_code == 200 and second.content == first.content == b'{"items":[]}'
    assert "max-age=120" in second.headers["cache-control"]  # max_age() is read per hit
    revalidated = client.get("/feeds/gw.json?limit=5", headers={"If-None-Match": first.headers["etag"]})
    assert revalidated.status_code == 304 and calls == ["/feeds/gw.json"]
    client.get("/feeds/gw.json?limit=6")  # another query string is another document: a miss
    assert calls == ["/feeds/gw.json", "/feeds/gw.json"]
    text = fast.metrics.render(lambda: 0).decode()
    assert 'feedsvc_feed_cache_hits_total{format="json"} 2.0' in text
    assert 'feedsvc_http_requests_total{route="/feeds/{source}.{fmt}",status="200"} 3.0' in text
    assert 'feedsvc_http_requests_total{route="/feeds/{source}.{fmt}",status="304"} 1.0' in text


def test_other_paths_pass_through_and_are_counted_by_a_bounded_label() -> None:
    fast, calls = _stack()
    client = TestClient(fast)
    assert client.get("/healthz").text == "hello" and client.get("/x/y?z").text == "hello"
    assert calls == ["/healthz", "/x/y"]
    text = fast.metrics.render(lambda: 0).decode()
    assert 'route="/healthz",status="200"} 1' in text and 'route="other",status="200"} 1' in text
