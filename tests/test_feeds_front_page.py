"""The front page in process (TestClient): WebSub discovery links, paging, and hostile site text escaped."""

from __future__ import annotations

from pathlib import Path

import lxml.html
from starlette.testclient import TestClient

from feedsvc.http.app import create_app
from tests.support.front import demo_database

HUB = "http://127.0.0.1:9/hub"


def test_front_page_advertises_websub_hubs_and_self(tmp_path: Path) -> None:
    cfg = demo_database(tmp_path, "http://127.0.0.1:9", "http://feeds.test")
    cfg = cfg.model_copy(update={"websub": cfg.websub.model_copy(update={"hubs": [HUB]})})
    with TestClient(create_app(cfg, check_interval=0)) as client:
        page = lxml.html.fromstring(client.get("/").content)
        assert page.xpath("//head/link[@rel='hub']/@href") == [HUB]
        assert page.xpath("//head/link[@rel='self']/@href") == ["http://feeds.test/"]
        # Out-of-range and junk page numbers give the nearest page, never an error.
        for query in ("?page=0", "?page=99", "?page=x", "?page=-1"):
            assert client.get("/" + query).status_code == 200


def test_front_page_escapes_site_text(tmp_path: Path) -> None:
    from feedsvc.store import Store
    from feedsvc.store.items import get_item_by_url

    cfg = demo_database(tmp_path, "http://127.0.0.1:9", "http://feeds.test")
    with Store.for_config(cfg) as store, store.transaction() as session:
        item = get_item_by_url(session, "http://127.0.0.1:9/a/2014.html")
        assert item is not None
        item.title = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    with TestClient(create_app(cfg, check_interval=0)) as client:
        body = client.get("/").text
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in body
