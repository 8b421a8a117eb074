"""feeds/jsonfeed.py: JSON Feed 1.1 documents (hubs, the rank extension, optional fields, raw UTF-8)."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from feedsvc.feeds import jsonfeed
from feedsvc.feeds.render import FeedEntry, FeedMeta

NY = ZoneInfo("America/New_York")
WHEN = datetime(2026, 3, 8, 1, 30, tzinfo=NY)


def _entry(rank: int | None = None, summary: str | None = None, author: str | None = None) -> FeedEntry:
    return FeedEntry(id="urn:x:1", url="http://en.test/1", title="Ωμέγα\x07 news", published=WHEN, updated=WHEN,
                     summary=summary, content_html="<p>x</p>", author=author, rank=rank)


def test_optional_fields_appear_only_when_set() -> None:
    bare = FeedMeta(id="urn:feed", title="T", subtitle="S", self_url="http://f/new.json", alternate_url="http://f/")
    doc = jsonfeed.json_feed(bare, [_entry()])
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert not {"language", "icon", "hubs"} & doc.keys()
    assert not {"summary", "authors", "_feedsvc"} & doc["items"][0].keys()
    full = FeedMeta(id="urn:feed", title="T", subtitle="S", self_url="http://f/new.json", alternate_url="http://f/",
                    language="el", icon_url="http://f/icon.png", hubs=("http://hub.test/",))
    doc = jsonfeed.json_feed(full, [_entry(rank=3, summary="sum", author="Desk")])
    assert (doc["language"], doc["icon"]) == ("el", "http://f/icon.png")
    assert doc["hubs"] == [{"type": "WebSub", "url": "http://hub.test/"}]
    item = doc["items"][0]
    assert (item["summary"], item["authors"], item["_feedsvc"]) == ("sum", [{"name": "Desk"}], {"rank": 3})


def test_render_is_compact_utf8_with_the_sources_offset() -> None:
    meta = FeedMeta(id="urn:feed", title="新", subtitle="", self_url="http://f/new.json", alternate_url="http://f/")
    body = jsonfeed.render(meta, [_entry()])
    assert "Ωμέγα news".encode() in body and b"\\u" not in body and b", " not in body
    item = json.loads(body)["items"][0]
    assert item["date_published"] == "2026-03-08T01:30:00-05:00"
    assert item["title"] == "Ωμέγα news"  # control character removed
