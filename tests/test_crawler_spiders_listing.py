"""ArticleListSpider parsing against the fixture pages, as HtmlResponses: no network, no reactor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure

from crawler.items import ArticleItem, ListingSighting
from crawler.spiders.listing import ArticleListSpider, describe_failure
from feedsvc.config import SourceConfig, parse_config
from feedsvc.models import ErrorKind

SITE = Path(__file__).parent / "data" / "site"
BASE = "http://127.0.0.1:8000"
LISTINGS = [
    {"id": "recommended", "kind": "recommended", "heading": "推荐文稿"},
    {"id": "ranking", "kind": "ranking", "heading": "阅读排行"},
    {"id": "latest", "kind": "latest", "heading": "最新文稿", "pagination": "div.pages a.next"},
    {"id": "related", "kind": "related", "heading": "您可能感兴趣的文稿"},
]


def source(**overrides: Any) -> SourceConfig:
    raw = {"id": "gwsite", "title": "GW", "start_urls": [BASE + "/"], "timezone": "Asia/Shanghai",
           "drop_query_params": ["from"], "listings": LISTINGS, **overrides}
    return parse_config({"sources": [raw]}).sources[0]


def response(path: str, content_type: str = "text/html", meta: dict[str, Any] | None = None) -> HtmlResponse:
    url = f"{BASE}/{path}" if path != "index.html" else BASE + "/"
    body = (SITE / path).read_bytes()
    return HtmlResponse(url=url, body=body, headers={"Content-Type": content_type}, request=Request(url, meta=meta or {}))


def split(output: list[Any]) -> tuple[list[ListingSighting], list[ArticleItem], list[Request]]:
    return ([o for o in output if isinstance(o, ListingSighting)], [o for o in output if isinstance(o, ArticleItem)],
            [o for o in output if isinstance(o, Request)])


def test_index_yields_each_listing_with_ranks_and_follows_pagination_first() -> None:
    spider = ArticleListSpider(source=source())
    sightings, articles, requests = split(list(spider.parse(response("index.html"))))
    assert not articles
    recommended = [s for s in sightings if s.listing_id == "recommended"]
    assert [s.rank for s in recommended] == list(range(1, len(recommended) + 1))
    assert recommended[0].title == "2022年个人政治素质自评材料" and recommended[0].date_text == "02-06"
    latest = [s for s in sightings if s.listing_id == "latest"]
    assert any(s.url.endswith("/a/1001.html?from=home#top") for s in latest)  # raw; canonical comes later
    assert not [s for s in sightings if s.listing_id in ("ranking", "related")]
    # The script-filled ranking is empty, not missing: counted as 0. This spider has no browser (no crawler), so
    # the run says the list needs one rather than passing an empty list for ok.
    assert spider.report.listing_counts["ranking"] == 0
    spider.closed("finished")
    assert [e.kind for e in spider.report.errors] == [ErrorKind.EMPTY]
    assert spider.report.errors[0].message.startswith("listing 'ranking' found no items on ")
    assert "needs a browser to render the page and none is available" in spider.report.errors[0].message
    # Pagination is scheduled before articles (listing pages get the page budget first).
    assert requests[0].url == f"{BASE}/list_2.html" and requests[0].meta["listing"] == "latest"
    article_urls = [r.url for r in requests[1:]]
    assert len(article_urls) == len(set(article_urls)) == 12
    assert f"{BASE}/a/1001.html" in article_urls  # canonical: ?from= and #top dropped, fetched once
    assert all(r.callback == spider.parse_article and r.errback == spider.on_error for r in requests[1:])


def test_pagination_page_continues_ranks_and_decodes_header_only_gbk() -> None:
    spider = ArticleListSpider(source=source(), follow_articles=False)
    page = response("list_3.gbk.html", "text/html; charset=gbk", meta={"listing": "latest", "rank_offset": 11})
    sightings, _, requests = split(list(spider.parse(page)))
    assert {s.listing_id for s in sightings} == {"latest"}  # only the paginated listing is read there
    assert [s.rank for s in sightings] == [12, 13]
    assert all("\ufffd" not in (s.title or "") for s in sightings)
    assert any("年" in (s.title or "") for s in sightings)
    assert requests == []  # last page, and articles not followed


def test_article_page_yields_article_with_its_related_entries() -> None:
    spider = ArticleListSpider(source=source())
    url = f"{BASE}/a/1012.html"  # GBK declared nowhere
    [article] = list(spider.parse_article(response("a/1012.html", meta={"article_url": url, "listing_title": "x"})))
    assert isinstance(article, ArticleItem)
    assert article.title == "县总工会庆祝2024年“五一”八项举措" and article.date_text == "2024-06-04 16:20"
    assert article.listing_title == "x" and article.content_html and "<script" not in article.content_html
    assert "您可能感兴趣的文稿" not in article.content_html  # the related block is not part of the body
    assert len(article.related) == 10 and all(isinstance(s, ListingSighting) for s in article.related)
    assert {s.related_from for s in article.related} == {url}
    assert [s.rank for s in article.related] == list(range(1, 11))
    assert spider.report.listing_counts["related"] == 10


def test_missing_block_is_reported_once_with_counts() -> None:
    spider = ArticleListSpider(source=source(listings=[{"id": "latest", "heading": "没有这个标题"}]))
    assert list(spider.parse(response("index.html"))) == []
    assert list(spider.parse(response("list_2.html"))) == []
    spider.closed("finished")
    assert spider.report.listing_counts == {"latest": 0}
    [error] = spider.report.errors
    assert error.kind == "selector" and "listing 'latest'" in error.message and "any of the 2 page(s)" in error.message


def test_non_html_response_is_recorded_not_parsed() -> None:
    spider = ArticleListSpider(source=source())
    binary = Response(url=f"{BASE}/binary", body=b"\x00\x01", headers={"Content-Type": "application/octet-stream"})
    assert list(spider.parse(binary)) == []
    assert spider.report.pages == 0
    assert [(e.kind, e.url) for e in spider.report.errors] == [("content", f"{BASE}/binary")]


def test_max_pages_budget_limits_requests() -> None:
    spider = ArticleListSpider(source=source(), max_pages=4)
    spider.budget -= 1  # the start URL
    _, _, requests = split(list(spider.parse(response("index.html"))))
    assert len(requests) == 3 and requests[0].url.endswith("list_2.html")
    assert spider.report.budget_exhausted


def test_follow_articles_off_and_article_links_pattern() -> None:
    off = ArticleListSpider(source=source(), follow_articles=False)
    assert len(split(list(off.parse(response("index.html"))))[2]) == 1  # pagination only
    assert "related" not in off.report.listing_counts  # never checked, so never "broken"
    only_gbk = ArticleListSpider(source=source(article_links=r"\.gbk\.html$"))
    urls = [r.url for r in split(list(only_gbk.parse(response("index.html"))))[2][1:]]
    assert urls == [f"{BASE}/a/1011.gbk.html"]


def _failure(exc: Exception, url: str = f"{BASE}/x") -> Failure:
    failure = Failure(exc)
    failure.request = Request(url)  # type: ignore[attr-defined]
    return failure


@pytest.mark.parametrize(
    ("exc", "kind", "fragment"),
    [
        (net_error.DNSLookupError("nohost.invalid"), "dns", "DNS lookup failed"),
        (net_error.ConnectionRefusedError(), "connection", "connection refused"),
        (net_error.TimeoutError(), "timeout", "within 3s"),
        (IgnoreRequest("max redirections reached"), "redirect", "redirect loop"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots", "robots.txt"),
    ],
)
def test_describe_failure(exc: Exception, kind: str, fragment: str) -> None:
    got_kind, message = describe_failure(_failure(exc), f"{BASE}/x", 3.0)
    assert got_kind == kind and fragment in message


def test_http_error_and_errback_recording() -> None:
    spider = ArticleListSpider(source=source())
    resp = HtmlResponse(url=f"{BASE}/status/404", status=404, body=b"<html></html>")
    spider.on_error(_failure(HttpError(resp, "Ignoring non-200 response"), f"{BASE}/status/404"))
    spider.on_error(_failure(IgnoreRequest("Forbidden by robots.txt"), f"{BASE}/private/drafts.html"))
    assert [(e.kind, e.message) for e in spider.report.errors] == [("http", f"HTTP 404 from {BASE}/status/404")]
    assert spider.report.robots_blocked == [f"{BASE}/private/drafts.html"]


NUMBERED = [dict(lst, pagination="div.pages a") if lst["id"] == "latest" else lst for lst in LISTINGS]


def test_numbered_pagination_continues_ranks_on_every_page() -> None:
    # "1 2 3 下一页" links (pages of 7, 4 and 2 entries): ranks run on through the chain, not only with a lone "next".
    spider = ArticleListSpider(source=source(listings=NUMBERED), follow_articles=False)
    sightings, _, requests = split(list(spider.parse(response("index.html"))))
    ranks = [s.rank for s in sightings if s.listing_id == "latest"]
    assert ranks == list(range(1, 8))
    [following] = requests  # page 3 is reached through page 2, whose entry count decides where its ranks start
    assert (following.url, following.meta["rank_offset"], following.meta["page_number"]) == (f"{BASE}/list_2.html", 7, 2)
    for expected in (f"{BASE}/list_3.gbk.html", None):
        ctype = "text/html; charset=gbk" if following.url.endswith("gbk.html") else "text/html"
        found, _, more = split(list(spider.parse(response(following.url.rsplit("/", 1)[1], ctype, following.meta))))
        ranks += [s.rank for s in found]
        chained = [r for r in more if r.meta["rank_offset"] is not None]
        assert [r.url for r in chained] == ([expected] if expected else [])
        # "1"/"上一页" lead back to the start page under another URL: requested as before, without ranks.
        assert all(r.url == f"{BASE}/index.html" for r in more if r not in chained)
        if chained:
            following = chained[0]
    assert ranks == list(range(1, 14))


def test_page_number_is_read_off_a_numbered_next_link() -> None:
    # Scheduled without a page number: "下一页" and "3" name one URL, so this is page 2 and page 3 follows it.
    spider = ArticleListSpider(source=source(listings=NUMBERED), follow_articles=False)
    meta = {"listing": "latest", "rank_offset": 7}
    found, _, requests = split(list(spider.parse(response("list_2.html", meta=meta))))
    after = {r.url.rsplit("/", 1)[1]: (r.meta["rank_offset"], r.meta["page_number"]) for r in requests}
    assert after == {"index.html": (None, 1), "list_3.gbk.html": (7 + len(found), 3)}


def test_failed_page_of_the_chain_does_not_stop_pagination() -> None:
    spider = ArticleListSpider(source=source(listings=NUMBERED), follow_articles=False)
    [page2] = split(list(spider.parse(response("index.html"))))[2]
    failure = _failure(HttpError(Response(page2.url, status=500, request=page2)), page2.url)
    failure.request = page2  # type: ignore[attr-defined]
    [page3] = spider.on_error(failure)
    assert page3.url == f"{BASE}/list_3.gbk.html" and page3.meta["page_number"] == 3
    assert page3.meta["rank_offset"] is None  # page 2's entry count is unknown, so ranks cannot continue
    assert [e.kind for e in spider.report.errors] == ["http"]
