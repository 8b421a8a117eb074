"""FeedBuilder (feeds/builder.py): what each entry carries, through the app on the sample database."""

from __future__ import annotations

import json
from collections.abc import Iterator

import feedparser
import pytest
from starlette.testclient import TestClient

from feedsvc.feeds.spec import all_specs
from feedsvc.http.app import create_app
from feedsvc.store import Store
from tests.support.feeds import make_config, sample_crawls


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    cfg = make_config(f"sqlite:///{tmp_path_factory.mktemp('builder') / 'b.db'}")
    store = Store.open(cfg.database.url)
    engine, factory = store.engine, store.session_factory
    sample_crawls(factory, cfg)
    engine.dispose()
    with TestClient(create_app(cfg, check_interval=0)) as c:
        c.feedsvc_cfg = cfg  # type: ignore[attr-defined]
        yield c


def test_every_entry_carries_text_even_when_the_site_gave_none(client: TestClient) -> None:
    """W3C validator, AA level: MissingTextualContent. An entry with no summary or article text says its title
    and where it was listed."""
    cfg = client.feedsvc_cfg  # type: ignore[attr-defined]
    seen = 0
    for spec in all_specs(cfg):
        for fmt in ("atom", "rss"):
            for entry in feedparser.parse(client.get(spec.path(fmt)).content).entries:
                assert entry.get("summary", "").strip(), (spec.path(fmt), entry.title)
                seen += 1
        for item in json.loads(client.get(spec.path("json")).content)["items"]:
            assert item.get("summary", "").strip() and item["content_html"].strip(), (spec.path("json"), item["title"])
    assert seen > 10
    weather = next(e for e in feedparser.parse(client.get("/feeds/en.atom").content).entries
                   if e.title == "Weather: storm warning")
    assert weather.summary == "Weather: storm warning — English News · latest"
    ranked = next(e for e in feedparser.parse(client.get("/feeds/gw/ranking.atom").content).entries
                  if e.link == "http://gw.test/a/2.html")
    assert ranked.summary.endswith("— 某公文网 · 阅读排行")


def test_an_entry_with_its_own_summary_keeps_it(client: TestClient) -> None:
    entry = next(e for e in feedparser.parse(client.get("/feeds/gw.atom").content).entries
                 if e.link == "http://gw.test/a/1.html")
    assert entry.summary == "会议记录摘要 党员"


