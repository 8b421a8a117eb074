"""Related-item feeds, inline "Related" lists and topic feeds, through the app, on SQLite and PostgreSQL.

Related lists come from the store (feedsvc/store/related.py) and topics (feedsvc/related/topics.py); these tests write
computed links with its `replace_computed_links_many` and check what the feeds make of them.
"""

from __future__ import annotations

from collections.abc import Iterator

import feedparser
import lxml.html
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from feedsvc.config import AppConfig
from feedsvc.feeds.render import entry_id
from feedsvc.http.app import create_app
from feedsvc.store import Store
from feedsvc.store.items import item_ids_by_url
from feedsvc.store.related import mark_duplicates, replace_computed_links_many
from tests.support.feeds import T0, check_valid_feed, make_config, sample_crawls

A1, A2, A3 = "http://gw.test/a/1.html", "http://gw.test/a/2.html", "http://gw.test/a/3.html"
EN1, EN2 = "http://en.test/news/1", "http://en.test/news/2"


@pytest.fixture
def related_env(db_url: str) -> Iterator[tuple[AppConfig, sessionmaker[Session], dict[str, int]]]:
    cfg = make_config(db_url, "http://feeds.test")
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    sample_crawls(factory, cfg)
    with factory() as session:
        ids = item_ids_by_url(session, [A1, A2, A3, EN1, EN2])
        replace_computed_links_many(session, {ids[A1]: [(ids[A3], 0.9), (ids[EN1], 0.5), (ids[A2], 0.2)]}, T0)
        replace_computed_links_many(session, {ids[EN1]: [(ids[EN2], 0.7)]}, T0)
        session.commit()
    yield cfg, factory, ids
    engine.dispose()


def _related_links(content_html: str) -> list[str]:
    """Links of the trailing 'Related' list of an entry's content."""
    root = lxml.html.fragment_fromstring(content_html, create_parent="div")
    last = root[-1]
    assert last.tag == "ul", "content must end with the Related list"
    heading = last.getprevious()
    assert heading is not None and heading.text_content().startswith("Related")
    return [a.get("href") for a in last.iter("a")]


def test_related_feed_and_inline_related_lists(related_env: tuple[AppConfig, sessionmaker[Session], dict[str, int]]) -> None:
    cfg, factory, ids = related_env
    with TestClient(create_app(cfg, check_interval=0)) as client:
        for fmt in ("atom", "rss", "json"):
            response = client.get(f"/feeds/items/{ids[A1]}/related.{fmt}")
            assert response.status_code == 200
            check_valid_feed(response.content, fmt, f"http://feeds.test/feeds/items/{ids[A1]}/related.{fmt}")
        parsed = feedparser.parse(client.get(f"/feeds/items/{ids[A1]}/related.atom").content)
        assert [e.link for e in parsed.entries] == [A3, EN1, A2]  # best first
        assert parsed.feed.title == "Related to: 2024年支部党员大会会议记录"
        assert client.get(f"/feeds/items/{ids[A1]}/related.atom?limit=1&q=budget").status_code == 200
        only = feedparser.parse(client.get(f"/feeds/items/{ids[A1]}/related.atom?q=budget").content)
        assert [e.link for e in only.entries] == [EN1]

        new = feedparser.parse(client.get("/feeds/new.atom").content)
        by_link = {e.link: e for e in new.entries}
        assert _related_links(by_link[A1].content[0].value) == [A3, EN1, A2]
        assert _related_links(by_link[EN1].content[0].value) == [EN2]
        # No text and nothing related: the entry still says what it is and where it was listed, with no list.
        assert by_link[A2].summary.startswith(by_link[A2].title + " — ")
        assert "<ul>" not in by_link[A2].content[0].value

    with factory() as session:  # A3 turns out to be a near-duplicate of A2: it disappears everywhere
        mark_duplicates(session, {ids[A3]: ids[A2]})
        session.commit()
    with TestClient(create_app(cfg, check_interval=0)) as client:
        new = feedparser.parse(client.get("/feeds/new.atom").content)
        assert A3 not in {e.link for e in new.entries}
        assert entry_id(A3) not in {e.id for e in new.entries}
        related = feedparser.parse(client.get(f"/feeds/items/{ids[A1]}/related.atom").content)
        assert A3 not in [e.link for e in related.entries]
        ranking = feedparser.parse(client.get("/feeds/gw/latest.atom").content)
        assert ranking.entries == []  # its only item was A3


def test_inline_related_lists_are_bounded_and_skip_duplicates(
    related_env: tuple[AppConfig, sessionmaker[Session], dict[str, int]],
) -> None:
    """Feeds read every entry's "Related" list in one query; it honours per_item and hides near-duplicates."""
    from feedsvc.store.related import inline_related, related_items

    _, factory, ids = related_env
    with factory() as session:
        mark_duplicates(session, {ids[EN2]: ids[A2]})
        all_ids = list(ids.values())
        for per_item in (0, 1, 2, 5):
            lean = {k: [(r.id, r.url, r.title) for r in v] for k, v in inline_related(session, all_ids, per_item).items()}
            assert all(len(rows) <= per_item for rows in lean.values())
            for item_id, rows in lean.items():
                full = [(i.id, i.url, i.title) for i, _ in related_items(session, item_id, per_item)]
                assert rows == full
        assert lean[ids[A1]] and ids[EN1] not in lean  # EN1's only related item is now a duplicate


def test_inline_links_setting(related_env: tuple[AppConfig, sessionmaker[Session], dict[str, int]]) -> None:
    cfg, _, ids = related_env
    two = cfg.model_copy(update={"related": cfg.related.model_copy(update={"inline_links": 2})})
    with TestClient(create_app(two, check_interval=0)) as client:
        entry = next(e for e in feedparser.parse(client.get("/feeds/gw.atom").content).entries if e.link == A1)
        assert _related_links(entry.content[0].value) == [A3, EN1]
    none = cfg.model_copy(update={"related": cfg.related.model_copy(update={"inline_links": 0})})
    with TestClient(create_app(none, check_interval=0)) as client:
        entry = next(e for e in feedparser.parse(client.get("/feeds/gw.atom").content).entries if e.link == A1)
        assert "Related" not in entry.content[0].value


def test_topic_feed(related_env: tuple[AppConfig, sessionmaker[Session], dict[str, int]]) -> None:
    cfg, _, _ = related_env
    with TestClient(create_app(cfg, check_interval=0)) as client:
        doc = client.get("/feeds/topics/party.json").json()
        assert doc["title"] == "Topic: 党建"
        assert [i["url"] for i in doc["items"]][:1] == [A1]  # 支部党员 in title and 党员 in summary
        assert EN2 not in [i["url"] for i in doc["items"]]
        for fmt in ("atom", "rss"):
            check_valid_feed(client.get(f"/feeds/topics/party.{fmt}").content, fmt,
                             f"http://feeds.test/feeds/topics/party.{fmt}")
