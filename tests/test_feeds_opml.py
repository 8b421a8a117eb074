"""feeds/opml.py: an OPML 2.0 subscription list, grouped into folders, with hostile titles made safe."""

from __future__ import annotations

from lxml import etree

from feedsvc.feeds.opml import OpmlFeed, render_opml


def test_feeds_of_one_group_nest_under_one_folder_outline() -> None:
    body = render_opml("My <feeds> & co\x01", "http://f/", [
        OpmlFeed("New", "http://f/feeds/new.atom", "http://f/"),
        OpmlFeed("gw latest", "http://f/feeds/gw/latest.atom", "http://gw.test/", "最新", group="某公文网"),
        OpmlFeed("gw ranking", "http://f/feeds/gw/ranking.atom", "http://gw.test/", group="某公文网"),
    ])
    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = etree.fromstring(body)
    assert root.get("version") == "2.0"
    assert root.findtext("head/title") == "My <feeds> & co"
    top = root.findall("body/outline")
    assert [o.get("text") for o in top] == ["New", "某公文网"]
    assert top[0].get("type") == "rss" and top[0].get("xmlUrl") == "http://f/feeds/new.atom"
    assert top[1].get("xmlUrl") is None
    inner = top[1].findall("outline")
    assert [o.get("xmlUrl") for o in inner] == ["http://f/feeds/gw/latest.atom", "http://f/feeds/gw/ranking.atom"]
    assert inner[0].get("description") == "最新" and inner[1].get("description") is None
