"""crawler/offsite.py: the source fence's policy (hosts, address ranges, resolved addresses), the spider-side
filter of what the spider yields, the skip ledger on the crawl stats, robots.txt failures and meta refreshes.
Through real Scrapy objects (crawler, requests, responses); the hostile site crawled for real is
tests/hostile/test_crawl.py."""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any

from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem, ListingSighting
from crawler.offsite import (
    MALFORMED_STAT,
    OFFSITE_EXAMPLE_STAT,
    OFFSITE_STAT,
    ROBOTS_MAX_BYTES,
    FenceMiddleware,
    FenceSpiderMiddleware,
    SafeMetaRefreshMiddleware,
    SourceFence,
    address_range,
)


def _seen(url: str, rank: int = 1) -> ListingSighting:
    return ListingSighting(source_id="news", listing_id="latest", kind="latest", url=url, title="t", date_text=None,
                           rank=rank, page_url="http://news.example.com/")


def _crawler(start: str = "http://news.example.com/", allowed: tuple[str, ...] = ()) -> Any:
    return get_crawler(Spider, {"FEEDSVC_START_URLS": [start], "FEEDSVC_ALLOWED_DOMAINS": list(allowed)})


def test_fence_hosts_and_ranges() -> None:
    fence = SourceFence(["https://News.Example.com/list"], ["example.org"])
    assert fence.url_refusal("https://news.example.com/a") is None
    assert fence.url_refusal("https://cdn.example.org/a") is None  # allowed_domains allow subdomains
    assert fence.url_refusal("https://example.com/a") is None  # one site: the start host's registrable domain
    exact = SourceFence(["https://News.Example.com/list"], ["example.org"], exact_hosts=True)
    assert exact.url_refusal("https://example.com/a") is not None  # narrowed: a start host does not allow its parent
    assert fence.url_refusal("https://evilexample.org/a") is not None
    assert fence.url_refusal("ftp://news.example.com/a") is not None
    assert address_range(ipaddress.ip_address("::ffff:169.254.169.254")) == "link-local"
    for address, kind in (("10.1.2.3", "private"), ("127.0.0.2", "loopback"), ("224.0.0.1", "multicast"),
                          ("fe80::1", "link-local"), ("93.184.216.34", None)):
        assert address_range(ipaddress.ip_address(address)) == kind


def test_an_ip_literal_domain_allows_only_itself() -> None:
    fence = SourceFence(["http://127.0.0.1:8000/"], ["0.1"])
    assert fence.host_allowed("127.0.0.1")
    assert not fence.host_allowed("10.0.0.1")  # not a "subdomain" of 0.1
    assert fence.url_refusal("http://[::1/") == "malformed URL 'http://[::1/'"
    assert fence.url_refusal("http:///nohost") == "no host"
    # An address in the start URLs' own range is allowed; another internal range is not, and says why.
    assert SourceFence.address_refusal("lan", "192.168.1.2", frozenset({"private"})) is None
    refusal = SourceFence.address_refusal("evil.example", "127.0.0.1", frozenset({"private"}))
    assert refusal == "evil.example (127.0.0.1) is a loopback address and the source's start URLs are not"


def test_resolved_address_is_checked() -> None:
    """A public-looking name that resolves to an internal address is refused; the resolver is the middleware's
    collaborator (the reactor's caching resolver in a crawl), here a table."""
    from crawler.settings import scrapy_settings
    from crawler.spiders.listing import ArticleListSpider
    from feedsvc.config import AppConfig, SourceConfig

    source = SourceConfig.model_validate({
        "id": "pub", "title": "pub", "start_urls": ["https://www.example.com/"],
        "allowed_domains": ["example.com"], "listings": [{"id": "latest", "heading": "Latest"}]})
    crawler = get_crawler(ArticleListSpider, scrapy_settings(AppConfig(sources=[source]), source))
    crawler.spider = ArticleListSpider(source)
    table = {"www.example.com": "93.184.216.34", "rebind.example.com": "169.254.169.254",
             "lan.example.com": "192.168.1.20", "ok.example.com": "93.184.216.35"}
    asked: list[str] = []

    async def resolve(host: str) -> str:
        asked.append(host)
        return table[host]

    middleware = FenceMiddleware(crawler, resolve=resolve)

    async def verdict(url: str) -> str | None:
        try:
            await middleware.process_request(Request(url))
        except IgnoreRequest as exc:
            return str(exc)
        return None

    assert asyncio.run(verdict("https://ok.example.com/a")) is None
    refused = asyncio.run(verdict("https://rebind.example.com/a"))
    assert refused and "link-local" in refused
    refused = asyncio.run(verdict("https://lan.example.com/a"))
    assert refused and "private" in refused
    asyncio.run(verdict("https://ok.example.com/b"))
    assert asked.count("ok.example.com") == 1  # resolved once per crawl
    assert crawler.stats.get_value(OFFSITE_STAT) == 2


def test_downloader_fence_caps_robots_and_lets_unresolvable_hosts_fail_on_download() -> None:
    crawler = _crawler()

    async def resolve(host: str) -> str:
        raise OSError(f"no such host {host}")

    middleware = FenceMiddleware(crawler, resolve=resolve)
    robots = Request("http://news.example.com/robots.txt", meta={"dont_obey_robotstxt": True})
    asyncio.run(middleware.process_request(robots))
    assert robots.meta["download_maxsize"] == ROBOTS_MAX_BYTES
    page = Request("http://news.example.com/robots.txt")  # the same path, but a page the spider asked for
    asyncio.run(middleware.process_request(page))
    assert "download_maxsize" not in page.meta
    try:
        asyncio.run(middleware.process_request(Request("http://elsewhere.example.net/")))
    except IgnoreRequest as exc:
        assert "elsewhere.example.net is not one of the source's hosts" in str(exc)
    else:
        raise AssertionError("an offsite request was let through")
    assert crawler.stats.get_value(OFFSITE_EXAMPLE_STAT).startswith("http://elsewhere.example.net/ (")


def test_unusable_robots_txt_is_an_absent_one() -> None:
    middleware = FenceMiddleware(_crawler())
    robots = Request("http://news.example.com/robots.txt", meta={"dont_obey_robotstxt": True})
    answer = middleware.process_exception(robots, TimeoutError("took too long\nsecond line"))
    assert answer is not None and answer.status == 404 and answer.body == b""
    # Other requests' failures, and the fence's own refusals, are left to Scrapy.
    assert middleware.process_exception(Request("http://news.example.com/a"), TimeoutError()) is None
    assert middleware.process_exception(robots, IgnoreRequest("offsite")) is None


def test_spider_fence_drops_offsite_and_malformed_links_and_counts_each_once() -> None:
    crawler = _crawler()
    middleware = FenceSpiderMiddleware(crawler)
    on_site, off_site = "http://news.example.com/a.html", "http://other.example.net/b.html"
    article = ArticleItem(source_id="news", url=on_site, title="a", date_text=None, summary=None,
                          content_html=None)
    article.related = [_seen(off_site, 1),
                       _seen(on_site, 2)]
    yielded = [_seen(off_site, 1),
               _seen(on_site, 2),
               Request(off_site), Request("http://news.example.com/c.html"), "something else", article]
    response = HtmlResponse(on_site, body=b"<html></html>")
    kept = list(middleware.process_spider_output(response, yielded))
    assert [getattr(k, "url", k) for k in kept] == [on_site, "http://news.example.com/c.html", "something else",
                                                    on_site]
    assert [s.url for s in kept[-1].related] == [on_site]
    assert crawler.stats.get_value(OFFSITE_STAT) == 1  # the same link three times is one skip

    async def collect() -> list[Any]:
        async def result() -> Any:
            yield _seen("http://news.example.com:99999/", 1)
            yield _seen(on_site, 2)
        return [k async for k in middleware.process_spider_output_async(response, result())]

    assert [k.url for k in asyncio.run(collect())] == [on_site]
    assert crawler.stats.get_value(MALFORMED_STAT) == 1


def test_meta_refresh_to_javascript_keeps_the_page() -> None:
    crawler = get_crawler(Spider)
    middleware = SafeMetaRefreshMiddleware.from_crawler(crawler)
    url = "http://news.example.com/a.html"
    html = b'<html><head><meta http-equiv="refresh" content="0; url=javascript:alert(1)"></head></html>'
    response = HtmlResponse(url, body=html)
    assert middleware.process_response(Request(url), response) is response
    moved = HtmlResponse(url, body=b'<html><head><meta http-equiv="refresh" content="0; url=/b.html"></head></html>')
    followed = middleware.process_response(Request(url), moved)
    assert isinstance(followed, Request) and followed.url == "http://news.example.com/b.html"


def test_one_site_many_hosts_unless_the_source_narrows_to_exact_hosts() -> None:
    fence = SourceFence(["https://money.example.com.cn/list"])
    assert fence.url_refusal("https://war.example.com.cn/a.html") is None  # same registrable domain
    assert fence.url_refusal("https://example.com.cn/") is None
    assert fence.url_refusal("https://example.cn/") is not None  # another site under the same TLD
    assert fence.url_refusal("https://other.com.cn/") is not None
    narrow = SourceFence(["https://money.example.com.cn/list"], exact_hosts=True)
    assert narrow.url_refusal("https://money.example.com.cn/b") is None
    assert narrow.url_refusal("https://war.example.com.cn/a.html") is not None
    ips = SourceFence(["http://127.0.0.1:8000/"])
    assert not ips.host_allowed("127.0.0.2") and not ips.host_allowed("localhost")  # addresses stay themselves
