"""Document responses: the fast path (cache hits) and the app's handlers (misses) answer the same way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from feedsvc.http.app import create_app
from feedsvc.http.cache import make_document
from feedsvc.http.responses import Conditions, reply
from feedsvc.store import Store
from tests.support.feeds import make_config, sample_crawls

WHEN = datetime(2026, 10, 12, 1, 2, 3, tzinfo=UTC)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    cfg = make_config(f"sqlite:///{tmp_path / 'r.db'}")
    store = Store.open(cfg.database.url)
    engine, factory = store.engine, store.session_factory
    sample_crawls(factory, cfg)
    engine.dispose()
    with TestClient(create_app(cfg, check_interval=60)) as c:  # long interval: repeats are fast-path hits
        yield c


@pytest.mark.parametrize("request_headers", [
    {"accept-encoding": "identity"}, {"accept-encoding": "gzip"}, {"accept-encoding": "gzip;q=0"},
])
def test_a_miss_and_a_hit_send_the_same_headers(client: TestClient, request_headers: dict[str, str]) -> None:
    miss = client.get("/feeds/gw.atom", headers=request_headers)
    hit = client.get("/feeds/gw.atom", headers=request_headers)
    assert miss.status_code == hit.status_code == 200
    assert list(miss.headers.multi_items()) == list(hit.headers.multi_items())
    assert miss.headers["cache-control"] == "public, max-age=120"
    assert ("content-encoding" in hit.headers) == (request_headers["accept-encoding"] == "gzip")
    revalidated = client.get("/feeds/gw.atom", headers={"if-none-match": hit.headers["etag"]})
    assert revalidated.status_code == 304 and revalidated.content == b""
    assert "content-type" not in revalidated.headers and revalidated.headers["etag"] == hit.headers["etag"]


def test_head_of_a_hit_has_the_get_length_and_no_body(client: TestClient) -> None:
    plain = {"accept-encoding": "identity"}
    got = client.get("/feeds/new.rss", headers=plain)
    head = client.head("/feeds/new.rss", headers=plain)
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(got.content)


def test_max_age_zero_means_revalidate_and_304_has_no_body() -> None:
    doc = make_document(b"<feed/>", "application/atom+xml; charset=utf-8", WHEN, 1)
    fresh = reply(doc, 0, Conditions(accept_encoding="gzip"))
    assert fresh.status == 200 and dict(fresh.headers)[b"cache-control"] == b"no-cache"
    assert dict(fresh.headers)[b"content-encoding"] == b"gzip" and fresh.body == doc.gzip_body
    current = reply(doc, 300, Conditions(if_modified_since="Mon, 12 Oct 2026 01:02:03 GMT"))
    assert current.status == 304 and current.body == b"" and b"content-length" not in dict(current.headers)
    stale = reply(doc, 300, Conditions(if_modified_since="Mon, 12 Oct 2026 01:02:02 GMT"))
    assert stale.status == 200 and stale.body == b"<feed/>"
