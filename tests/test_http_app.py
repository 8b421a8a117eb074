"""The HTTP app through Starlette's TestClient, on SQLite and PostgreSQL: routes, formats, errors, caching."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from feedsvc.config import AppConfig
from feedsvc.feeds.render import entry_id
from feedsvc.http.app import create_app
from feedsvc.store import Store
from tests.support.databases import database_url
from tests.support.feeds import T0, check_valid_feed, crawl, listed, make_config, sample_crawls

BASE = "http://feeds.test"
FEED_PATHS = ["/feeds/new", "/feeds/gw", "/feeds/en", "/feeds/gw/recommended", "/feeds/gw/ranking",
              "/feeds/gw/latest", "/feeds/en/latest", "/feeds/topics/party"]


Env = tuple[AppConfig, sessionmaker[Session]]


@contextmanager
def _sample_env(url: str) -> Iterator[Env]:
    cfg = make_config(url, BASE)
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    sample_crawls(factory, cfg)
    yield cfg, factory
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared_env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """The sample database, shared by the tests of this module that only read it."""
    with database_url(request.param, tmp_path_factory.mktemp("app")) as url, _sample_env(url) as env:
        yield env


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    """A private sample database for tests that write to it."""
    with _sample_env(db_url) as env:
        yield env


@pytest.fixture
def client(shared_env: Env) -> Iterator[TestClient]:
    with TestClient(create_app(shared_env[0], check_interval=0)) as c:
        yield c


def test_every_feed_route_serves_a_valid_document(client: TestClient) -> None:
    media = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8",
             "json": "application/feed+json; charset=utf-8"}
    for path in FEED_PATHS:
        for fmt in ("atom", "rss", "json"):
            response = client.get(f"{path}.{fmt}")
            assert response.status_code == 200, (path, fmt, response.text)
            assert response.headers["content-type"] == media[fmt]
            assert response.headers["etag"] and response.headers["last-modified"]
            assert response.headers["cache-control"] == "public, max-age=120"
            check_valid_feed(response.content, fmt, f"{BASE}{path}.{fmt}")
            if fmt != "json":
                selfs = etree.fromstring(response.content).xpath("//*[local-name()='link'][@rel='self']")
                assert [link.get("type") for link in selfs] == [media[fmt].split(";")[0]]
            head = client.head(f"{path}.{fmt}")
            assert head.status_code == 200 and head.content == b""


def test_new_feed_entries(client: TestClient) -> None:
    parsed = feedparser.parse(client.get("/feeds/new.atom").content)
    titles = [e.title for e in parsed.entries]
    assert titles[:2] == ["Weather: storm warning", "Budget & <Tax> reform passes"]  # newest crawl first
    assert len(titles) == 5
    hostile = next(e for e in parsed.entries if "😀" in e.title)
    assert hostile.title == "Title <b>bold</b> & ctrl 😀 混合 Ωμέγα"
    first = next(e for e in parsed.entries if e.link == "http://gw.test/a/1.html")
    assert first.id == entry_id("http://gw.test/a/1.html")
    assert first.published == "2026-10-12T10:30:00+08:00"  # article date in Asia/Shanghai
    assert {t.term for t in first.tags} == {"gw", "gw/recommended", "gw/ranking"}
    assert first.summary == "会议记录摘要 党员"
    content = first.content[0].value
    assert "<script" not in content and "onerror" not in content and "onclick" not in content
    assert 'href="http://gw.test/a/3.html"' in content and 'src="http://gw.test/a/img/x.png"' in content
    en = next(e for e in parsed.entries if e.link == "http://en.test/news/1")
    assert en.published == "2026-10-11T21:00:00-04:00"  # America/New_York offset


def test_rss_dates_carry_the_source_offset(client: TestClient) -> None:
    channel = etree.fromstring(client.get("/feeds/gw.rss").content).find("channel")
    assert channel is not None
    dates = {i.findtext("link"): i.findtext("pubDate") for i in channel.findall("item")}
    assert dates["http://gw.test/a/1.html"] == "Mon, 12 Oct 2026 10:30:00 +0800"


def test_ranking_feed_carries_ranks(client: TestClient) -> None:
    doc = client.get("/feeds/gw/ranking.json").json()
    assert [(i["url"], i["_feedsvc"]["rank"]) for i in doc["items"]] == [
        ("http://gw.test/a/2.html", 1), ("http://gw.test/a/1.html", 2)]
    assert "<strong>#1</strong> in 阅读排行" in doc["items"][0]["content_html"]
    assert doc["title"] == "某公文网 · 阅读排行"


def test_query_parameters(client: TestClient) -> None:
    def titles(query: str) -> list[str]:
        response = client.get(f"/feeds/new.json?{query}")
        assert response.status_code == 200, response.text
        return [i["title"] for i in response.json()["items"]]

    assert titles("limit=1") == ["Weather: storm warning"]
    assert titles("q=budget,党员") == ["Budget & <Tax> reform passes", "2024年支部党员大会会议记录"]
    assert titles("q=BUDGET") == ["Budget & <Tax> reform passes"]
    assert "Weather: storm warning" not in titles("exclude=storm")
    assert titles("since=2026-10-13") == []
    assert len(titles("since=2026-10-12T09:00:00%2B08:00")) == 5
    assert titles("limit=500&unknown=1")  # unknown parameters are ignored


BAD_QUERIES = [
    ("limit=abc", "limit='abc' is not a whole number"),
    ("limit=0", "limit=0 is out of range"),
    ("limit=501", "limit=501 is out of range"),
    ("since=yesterday", "since='yesterday' is not an ISO date"),
    ("since=2026-13-45", "is not an ISO date"),
    ("q=" + ",".join(f"w{n}" for n in range(30)), "at most 20"),
]
UNKNOWN_PATHS = [
    ("/feeds/nope.atom", "No feed named 'nope'. Known feeds: new, gw, en."),
    ("/feeds/gw/nope.rss", "Known listings: recommended, ranking, latest"),
    ("/feeds/topics/nope.json", "Known topics: party"),
    ("/feeds/new.xml", "Use .atom, .rss or .json"),
    ("/feeds/items/999999/related.atom", "No item with id 999999"),
    ("/feeds/items/abc/related.atom", "item ids are numbers"),
    ("/feeds/a/b/c/d.atom", "Known feeds"),
]


def test_bad_parameters_are_400_and_unknown_feeds_404_with_one_line(client: TestClient) -> None:
    for query, reason in BAD_QUERIES:
        for path in ("/feeds/gw/latest.atom", "/feeds/new.rss", "/feeds/topics/party.json"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            assert reason in response.text and response.text.count("\n") == 1
    for path, hint in UNKNOWN_PATHS:
        response = client.get(path)
        assert response.status_code == 404, path
        assert hint in response.text and response.text.count("\n") == 1


def test_conditional_get_with_both_validators(client: TestClient) -> None:
    first = client.get("/feeds/gw.atom")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert parsedate_to_datetime(modified) == T0 + timedelta(hours=1, minutes=30)  # newest entry's update
    again = client.get("/feeds/gw.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/feeds/gw.atom", headers={"If-None-Match": '"other", ' + etag}).status_code == 304
    assert client.get("/feeds/gw.atom", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/feeds/gw.atom", headers={"If-Modified-Since": modified}).status_code == 304
    older = "Sun, 11 Oct 2026 00:00:00 GMT"
    assert client.get("/feeds/gw.atom", headers={"If-Modified-Since": older}).status_code == 200
    # If-None-Match decides alone when both are sent (RFC 9110 13.1.3).
    both = client.get("/feeds/gw.atom", headers={"If-None-Match": '"other"', "If-Modified-Since": modified})
    assert both.status_code == 200
    assert client.get("/opml", headers={"If-None-Match": client.get("/opml").headers["etag"]}).status_code == 304


def test_gzip_when_asked(client: TestClient) -> None:
    plain = client.get("/feeds/new.atom", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    zipped = client.get("/feeds/new.atom", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["content-encoding"] == "gzip" and zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.content == plain.content  # httpx decodes; the bytes are the same document
    assert zipped.headers["etag"] == plain.headers["etag"]
    refused = client.get("/feeds/new.atom", headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers


def test_cache_serves_until_a_crawl_lands(env: Env) -> None:
    cfg, factory = env
    with TestClient(create_app(cfg, check_interval=0)) as client:
        before = client.get("/feeds/new.atom")
        assert client.get("/feeds/new.atom").content == before.content
        # A cache-busting parameter does not cause a rebuild: builds are keyed by feed and filter.
        assert client.get("/feeds/new.atom?_=12345").content == before.content
        crawl(factory, cfg, "en", [listed("en", "latest", "http://en.test/news/9", "Fresh news")], T0 + timedelta(days=1))
        after = client.get("/feeds/new.atom")
        assert feedparser.parse(after.content).entries[0].title == "Fresh news"
        assert after.headers["etag"] != before.headers["etag"]
        assert client.get("/feeds/new.atom", headers={"If-None-Match": before.headers["etag"]}).status_code == 200
        metrics = client.get("/metrics").text
    assert 'feedsvc_feed_cache_hits_total{format="atom"} 3.0' in metrics  # 2nd, 3rd and the last request
    assert 'feedsvc_feed_builds_total{format="atom"} 2.0' in metrics
    assert "feedsvc_items 6.0" in metrics


def test_removed_source_feeds_go_away_items_stay(shared_env: Env) -> None:
    cfg, _ = shared_env
    only_gw = cfg.model_copy(update={"sources": [s for s in cfg.sources if s.id == "gw"]})
    with TestClient(create_app(only_gw, check_interval=0)) as client:
        assert client.get("/feeds/en.atom").status_code == 404
        assert client.get("/feeds/en/latest.atom").status_code == 404
        titles = [i["title"] for i in client.get("/feeds/new.json").json()["items"]]
        assert titles and not any("Budget" in t for t in titles)
        assert "/feeds/en.atom" not in client.get("/opml").text
    with TestClient(create_app(cfg, check_interval=0)) as client:
        assert client.get("/feeds/en.atom").status_code == 200  # the items were kept


def test_opml_lists_every_feed(client: TestClient) -> None:
    response = client.get("/opml")
    assert response.status_code == 200 and response.headers["content-type"] == "text/x-opml; charset=utf-8"
    root = etree.fromstring(response.content)
    assert root.get("version") == "2.0" and root.findtext("head/title")
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    assert sorted(urls) == sorted(f"{BASE}{p}.atom" for p in FEED_PATHS)
    assert all(o.get("type") == "rss" and o.get("text") for o in root.iter("outline") if o.get("xmlUrl"))
    folders = [o.get("text") for o in root.find("body") if o.get("xmlUrl") is None]  # type: ignore[union-attr]
    assert folders == ["某公文网", "English News", "Topics"]
    # Readers import OPML with feed parsers too: feedparser must find it well-formed XML (bozo is set otherwise).
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")


def test_index_page_lists_sources_with_autodiscovery(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    import lxml.html

    page = lxml.html.fromstring(response.content)
    alternates = {(link.get("type"), link.get("href")) for link in page.xpath("//head/link[@rel='alternate']")}
    assert ("application/atom+xml", f"{BASE}/feeds/new.atom") in alternates
    assert ("application/rss+xml", f"{BASE}/feeds/gw.rss") in alternates
    assert ("application/feed+json", f"{BASE}/feeds/en.json") in alternates
    assert ("application/atom+xml", f"{BASE}/feeds/gw/ranking.atom") in alternates
    row = page.get_element_by_id("source-gw")
    text = row.text_content()
    assert "某公文网" in text and "ok" in text and "2026-10-12 01:00 UTC" in text
    hrefs = {a.get("href") for a in page.iter("a")}
    assert f"{BASE}/opml" in hrefs and f"{BASE}/feeds/gw/latest.json" in hrefs


def test_healthz_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok\n"
    client.get("/feeds/new.atom")
    client.get("/feeds/nope.atom")
    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert 'feedsvc_http_requests_total{route="/feeds/new.{fmt}",status="200"} 1.0' in metrics.text
    assert 'feedsvc_http_requests_total{route="/feeds/{unknown}",status="404"} 1.0' in metrics.text
    assert 'feedsvc_http_requests_total{route="/healthz",status="200"} 1.0' in metrics.text
    assert "feedsvc_items 5.0" in metrics.text


def test_healthz_503_when_database_unreachable(shared_env: Env) -> None:
    from feedsvc.store.db import make_engine, make_session_factory

    app = create_app(shared_env[0], check_interval=0)
    with TestClient(app) as client:
        dead = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
        app.state.feedsvc.session_factory = make_session_factory(dead)
        response = client.get("/healthz")
        assert response.status_code == 503 and "database unreachable" in response.text
        feed = client.get("/feeds/gw.atom")
        assert feed.status_code == 503 and feed.headers["retry-after"] == "30"
        dead.dispose()


def test_metrics_label_fast_path_hits_by_feed_format(shared_env: Env) -> None:
    """JSON Feed hits answered by the fast path count as json, like its builds (not 'feed' from feed+json)."""
    with TestClient(create_app(shared_env[0], check_interval=60)) as client:
        for path in ("/feeds/gw.json", "/feeds/gw.json", "/feeds/gw.json", "/feeds/gw.rss", "/feeds/gw.rss"):
            assert client.get(path).status_code == 200
        metrics = client.get("/metrics").text
    assert 'feedsvc_feed_builds_total{format="json"} 1.0' in metrics
    assert 'feedsvc_feed_cache_hits_total{format="json"} 2.0' in metrics
    assert 'feedsvc_feed_cache_hits_total{format="rss"} 1.0' in metrics
    assert 'format="feed"' not in metrics


def test_json_feed_content_type_and_body(client: TestClient) -> None:
    # Twice: the first answer is built by the app, the second comes from the fast path's cache.
    for _ in range(2):
        with client.stream("GET", "/feeds/gw/recommended.json", headers={"Accept-Encoding": "gzip"}) as response:
            raw = b"".join(response.iter_raw())  # the bytes on the wire, before httpx decodes them
        assert response.headers["content-encoding"] == "gzip"
        assert response.headers["content-type"] == "application/feed+json; charset=utf-8"
        assert raw[:2] == b"\x1f\x8b" and int(response.headers["content-length"]) == len(raw)
        doc = json.loads(gzip.decompress(raw))
        assert doc["items"][0]["title"] == "2024年支部党员大会会议记录"


def test_entry_ids_survive_a_rebuilt_database(tmp_path: Path) -> None:
    """The same items stored into a fresh database in another order (so other row ids) keep their entry ids."""
    def entry_ids(url: str, reverse: bool) -> dict[str, str]:
        cfg = make_config(url, BASE)
        _store = Store.open(cfg.database.url)
        engine, factory = _store.engine, _store.session_factory
        if reverse:  # an unrelated item first and the crawls in the opposite order: every row id differs
            crawl(factory, cfg, "en", [listed("en", "latest", "http://en.test/other", "Other")], T0)
            crawl(factory, cfg, "en", [listed("en", "latest", "http://en.test/news/2", "Weather: storm warning"),
                                       listed("en", "latest", "http://en.test/news/1", "Budget & <Tax> reform passes")],
                  T0)
        sample_crawls(factory, cfg)
        with TestClient(create_app(cfg, check_interval=0)) as client:
            parsed = feedparser.parse(client.get("/feeds/new.atom").content)
        engine.dispose()
        return {e.link: e.id for e in parsed.entries}

    first = entry_ids(f"sqlite:///{tmp_path / 'a.db'}", reverse=False)
    again = entry_ids(f"sqlite:///{tmp_path / 'b.db'}", reverse=True)
    assert first and all(again[link] == first[link] for link in first)
    assert first["http://gw.test/a/1.html"] == entry_id("http://gw.test/a/1.html")
