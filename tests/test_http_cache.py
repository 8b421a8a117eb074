"""FeedCache: data_version read at most once per interval, invalidation, LRU bound; validator helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from feedsvc.http.cache import FeedCache, make_document, not_modified
from feedsvc.http.responses import wants_gzip

WHEN = datetime(2026, 10, 12, 1, 2, 3, 456000, tzinfo=UTC)


def test_version_is_read_at_most_once_per_interval_and_new_data_invalidates() -> None:
    reads: list[int] = []
    version = [1]
    now = [100.0]

    def read_version() -> int:
        reads.append(version[0])
        return version[0]

    cache = FeedCache(read_version, check_interval=1.0, max_entries=2, clock=lambda: now[0])
    builds: list[int] = []

    def build(v: int) -> object:
        builds.append(v)
        return make_document(f"body {v}".encode(), "application/atom+xml; charset=utf-8", WHEN, v)

    doc, cached = cache.get_or_build("a", build)  # type: ignore[arg-type]
    assert not cached and doc.body == b"body 1"
    for _ in range(100):
        assert cache.peek("a") is doc
        assert cache.get_or_build("a", build)[1]  # type: ignore[arg-type]
    assert reads == [1] and builds == [1]
    version[0] = 2  # a crawl landed
    now[0] += 0.5
    assert cache.peek("a") is doc  # not checked yet: within the interval
    now[0] += 0.6
    assert cache.peek("a") is None and cache.peek_stale("a") is doc
    doc2, cached = cache.get_or_build("a", build)  # type: ignore[arg-type]
    assert not cached and doc2.body == b"body 2" and reads == [1, 2]
    for key in ("b", "c"):
        cache.get_or_build(key, build)  # type: ignore[arg-type]
    assert cache.peek("a") is None  # evicted: at most 2 entries


def test_documents_and_validators() -> None:
    doc = make_document(b"<feed/>", "application/atom+xml; charset=utf-8", WHEN, 3)
    assert doc.etag.startswith('W/"') and doc.last_modified == "Mon, 12 Oct 2026 01:02:03 GMT"
    import gzip

    assert gzip.decompress(doc.gzip_body) == b"<feed/>"
    assert not_modified(doc, doc.etag, None) and not_modified(doc, doc.etag.removeprefix("W/"), None)
    assert not_modified(doc, "*", None) and not not_modified(doc, '"x"', None)
    assert not_modified(doc, None, "Mon, 12 Oct 2026 01:02:03 GMT")
    assert not not_modified(doc, None, "Mon, 12 Oct 2026 01:02:02 GMT")
    assert not not_modified(doc, None, "not a date") and not not_modified(doc, None, None)
    assert wants_gzip("gzip, deflate, br") and wants_gzip("*") and wants_gzip("br;q=1.0, gzip;q=0.8")
    assert not wants_gzip("identity") and not wants_gzip("gzip;q=0") and not wants_gzip("")


def test_cache_is_bounded_by_bytes() -> None:
    cache = FeedCache(lambda: 1, check_interval=60, max_entries=100, max_bytes=3000)

    def build(v: int) -> object:
        return make_document(bytes(range(256)) * 4, "application/atom+xml; charset=utf-8", WHEN, v)

    for key in "abcdef":
        cache.get_or_build(key, build)  # type: ignore[arg-type]
    kept = [k for k in "abcdef" if cache.peek(k) is not None]
    assert kept and kept == list("abcdef")[-len(kept):] and len(kept) < 6
