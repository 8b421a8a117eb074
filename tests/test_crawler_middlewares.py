"""crawler/middlewares.py: Retry-After parsing, the backoff retry middleware, the always-revalidating HTTP cache
policy and the cache storage that survives damaged entries. The policies through real Scrapy objects; the
retry waits and revalidation through a real crawl (`python -m crawler.run`) of the fixture server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from email.utils import formatdate
from pathlib import Path

from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares import (
    BackoffRetryMiddleware,
    RevalidatePolicy,
    TolerantCacheStorage,
    retry_after_seconds,
)
from tests.support.crawls import run_crawler, simple_source, toml_str, write_config
from tests.support.site_server import Page, SiteServer


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds(" 7 ") == 7.0
    now = 1_700_000_000.0
    assert retry_after_seconds(formatdate(now + 30, usegmt=True), now=now) == 30.0
    assert retry_after_seconds(formatdate(now - 30, usegmt=True), now=now) == 0.0  # a date in the past: now
    for garbled in (None, b"", "soon", "-5", "1.5", b"\xb2", "²", "①", "٣"):  # b"\xb2" is '²' in latin-1
        assert retry_after_seconds(garbled) is None
    assert retry_after_seconds("9" * 5000) == 1e9  # past any RETRY_AFTER_MAX: the retry gives up


def test_backoff_doubles_up_to_its_cap_and_long_retry_after_gives_up() -> None:
    crawler = get_crawler(Spider, {"RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 5.0, "RETRY_AFTER_MAX": 60.0,
                                   "RETRY_TIMES": 3})
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    waits = [middleware._backoff(Request("http://a.example/", meta={"retry_times": n})) for n in range(4)]
    assert waits == [2.0, 4.0, 5.0, 5.0]
    request = Request("http://a.example/")
    # Neither answer waits (no reactor runs here): they return the response as it is.
    busy = HtmlResponse(request.url, status=503, headers={"Retry-After": "3600"}, body=b"", request=request)
    assert asyncio.run(middleware.process_response(request, busy)) is busy
    fine = HtmlResponse(request.url, status=200, body=b"", request=request)
    assert asyncio.run(middleware.process_response(request, fine)) is fine


def test_revalidate_policy_never_trusts_a_cached_copy() -> None:
    policy = RevalidatePolicy(get_crawler(Spider).settings)
    request = Request("http://a.example/list")
    cached = HtmlResponse(request.url, body=b"old", headers={
        "ETag": '"v1"', "Last-Modified": formatdate(0, usegmt=True), "Cache-Control": "max-age=86400"})
    assert policy.is_cached_response_fresh(cached, request) is False
    assert request.headers.get(b"If-None-Match") == b'"v1"'
    assert request.headers.get(b"If-Modified-Since")
    assert policy.is_cached_response_valid(cached, HtmlResponse(request.url, status=304, body=b""), request)
    # A failing server is an error on the run, not hidden behind the old copy.
    assert not policy.is_cached_response_valid(cached, HtmlResponse(request.url, status=500, body=b""), request)


def test_damaged_cache_entry_is_a_miss(tmp_path: Path) -> None:
    crawler = get_crawler(Spider, {"HTTPCACHE_DIR": str(tmp_path), "HTTPCACHE_GZIP": True})
    spider = Spider(name="s")
    spider.crawler = crawler
    storage = TolerantCacheStorage(crawler.settings)
    storage.open_spider(spider)
    requests = [Request(f"http://a.example/{n}") for n in range(2)]
    for request in requests:
        storage.store_response(spider, request, HtmlResponse(request.url, body=b"<p>page</p>", request=request))
    assert storage.retrieve_response(spider, requests[0]).body == b"<p>page</p>"  # type: ignore[union-attr]
    for path in tmp_path.rglob("response_body"):
        path.write_bytes(b"\x1f\x8b truncated")
    assert [storage.retrieve_response(spider, r) for r in requests] == [None, None]
    assert storage._warned


def test_crawl_waits_between_retries_gives_up_on_long_retry_after_and_revalidates(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    site = make_site_server()
    site.pages["/busy"] = Page(b"<p>busy</p>", "text/html", 503, {"Retry-After": "3600"})
    starts = ", ".join(toml_str(site.url(p)) for p in ("/", "/status/500", "/busy"))
    # render = "never": Chromium would fetch the start page past the HTTP cache.
    source = simple_source("mw", site.base_url + "/").replace(f"[{toml_str(site.base_url + '/')}]",
                                                              f'[{starts}]\nrender = "never"')
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [source], retries=1,
                          crawl_extra="follow_articles = false")
    first = run_crawler(config, "mw")
    assert "Traceback" not in first.stderr, first.stderr
    failed = site.requests("/status/500")
    assert len(failed) == 2 and failed[1].at - failed[0].at >= 0.45  # retried once, after RETRY_BACKOFF_BASE (0.5 s)
    assert len(site.requests("/busy")) == 1  # Retry-After beyond RETRY_AFTER_MAX: no retry, no hour-long wait
    assert "Retry-After 3600s exceeds RETRY_AFTER_MAX" in first.stderr

    assert {r.status for r in site.requests("/")} == {200}
    site.clear_log()
    run_crawler(config, "mw")
    start_page = site.requests("/")
    assert start_page and {r.status for r in start_page} == {304}  # the cached copy was revalidated, not trusted
    assert all(r.header("If-None-Match") or r.header("If-Modified-Since") for r in start_page)
