"""The feed keyword rule (store/search.py): one rule for every feed kind, Unicode case folding on SQLite and
PostgreSQL alike (Greek, CJK, upper case), applied by the database."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import feedparser
import pytest
from starlette.testclient import TestClient

from feedsvc.config import AppConfig, parse_config
from feedsvc.feeds.spec import FeedFilter
from feedsvc.http.app import create_app
from feedsvc.store import Store
from feedsvc.store.feeds import filter_item_ids, newest_items
from tests.support.feeds import T0, article, crawl

TITLES = {
    "http://en.test/1": ("ΩΜΈΓΑ item one", None),
    "http://en.test/2": ("Ωμέγα item two", None),
    "http://en.test/3": ("混合 item three CHINESE", None),
    "http://en.test/4": ("Plain item four", "An UPPER Case summary"),
}
CASES = [  # (parameters, titles expected)
    ("q=ωμέγα", {"ΩΜΈΓΑ item one", "Ωμέγα item two"}),
    ("q=ΩΜΈΓΑ", {"ΩΜΈΓΑ item one", "Ωμέγα item two"}),
    ("q=混合", {"混合 item three CHINESE"}),
    ("q=chinese", {"混合 item three CHINESE"}),
    ("q=upper case", {"Plain item four"}),
    ("q=ITEM T", {"Ωμέγα item two", "混合 item three CHINESE"}),
    ("exclude=ωΜέΓα,四", {"混合 item three CHINESE", "Plain item four"}),
]


def _config(url: str) -> AppConfig:
    return parse_config({
        "database": {"url": url},
        "server": {"base_url": "http://feeds.test"},
        "sources": [{"id": "en", "title": "English", "start_urls": ["http://en.test/"], "timezone": "UTC",
                     "listings": [{"id": "latest", "block": "ul"}]}],
        "topics": [{"id": "all", "title": "All", "keywords": ["item"]}],
    })


@pytest.fixture
def cfg(db_url: str) -> Iterator[AppConfig]:
    cfg = _config(db_url)
    store = Store.open(cfg.database.url)
    engine, factory = store.engine, store.session_factory
    crawl(factory, cfg, "en", [article("en", url, title, summary=summary) for url, (title, summary) in TITLES.items()],
          T0)
    yield cfg
    engine.dispose()


def _filter(params: str) -> FeedFilter:
    name, _, value = params.partition("=")
    words = tuple(value.split(","))
    return FeedFilter(q=words) if name == "q" else FeedFilter(exclude=words)


@pytest.mark.parametrize(("params", "expected"), CASES)
def test_every_feed_kind_applies_the_same_word_rule(cfg: AppConfig, params: str, expected: set[str]) -> None:
    with TestClient(create_app(cfg, check_interval=0)) as client:
        for path in ("/feeds/new.atom", "/feeds/en.rss", "/feeds/topics/all.atom"):
            name, _, value = params.partition("=")
            response = client.get(f"{path}?{name}={quote(value)}")
            assert response.status_code == 200, response.text
            parsed = feedparser.parse(response.content)
            assert {e.title for e in parsed.entries} == expected, (path, params)


@pytest.mark.parametrize(("params", "expected"), CASES)
def test_ranked_rows_are_narrowed_by_the_query_rule(cfg: AppConfig, params: str, expected: set[str]) -> None:
    store = Store.open(cfg.database.url)
    engine, factory = store.engine, store.session_factory
    with factory() as session:
        every = newest_items(session, FeedFilter())
        kept = filter_item_ids(session, [i.id for i in every], _filter(params))
        assert {i.title for i in every if i.id in kept} == expected
        assert {i.title for i in newest_items(session, _filter(params))} == expected
    engine.dispose()
