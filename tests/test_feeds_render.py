"""feeds/render.py and jsonfeed.py: valid documents from hostile input, stable ids, dated with offsets."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import feedparser
import pytest
from lxml import etree

from feedsvc.feeds import jsonfeed
from feedsvc.feeds.render import (
    Category,
    FeedEntry,
    FeedMeta,
    build_feed,
    entry_id,
    feed_id,
    render,
)
from feedsvc.text import clean_title, plain_text, xml_safe
from tests.feedhelpers import ATOM, RFC822, RFC3339, check_valid_feed

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOSTILE = "A <b>&amp; & <script>x</script> \x00\x01\x0b\x1f\x7f\x85 😀👍🏽 混合 Ωμέγα עברית"


def _meta(fmt: str = "atom") -> FeedMeta:
    return FeedMeta(id=feed_id("new"), title="新 <feed> & co", subtitle="sub", alternate_url="http://feeds.test/",
                    self_url=f"http://feeds.test/feeds/new.{fmt}")


def _entry(n: int, title: str = "t", content: str = "<p>x</p>") -> FeedEntry:
    when = datetime(2026, 10, 12, 10, n, tzinfo=SHANGHAI)
    return FeedEntry(id=entry_id(f"http://gw.test/a/{n}.html"), url=f"http://gw.test/a/{n}.html", title=title,
                     published=when, updated=when, summary=f"summary {n}", content_html=content,
                     categories=(Category("gw", "某公文网"), Category("gw/latest", "某公文网 · 最新")), author="某公文网")


def test_entry_id_is_a_stable_function_of_the_canonical_url() -> None:
    assert entry_id("http://gw.test/a/1.html") == entry_id("http://gw.test/a/1.html")
    assert entry_id("http://gw.test/a/1.html") != entry_id("http://gw.test/a/2.html")
    # Pinned: changing the namespace would make every reader show every entry again.
    assert entry_id("http://gw.test/a/1.html") == "urn:uuid:8f367702-3fa9-56ea-b572-321ade48f4bc"


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_hostile_titles_make_valid_xml(kind: str) -> None:
    entries = [_entry(1, HOSTILE, content=f"<p>{HOSTILE}</p>"), _entry(2, "普通标题")]
    body = render(build_feed(_meta(kind), entries), kind)
    parsed = check_valid_feed(body, kind, f"http://feeds.test/feeds/new.{kind}")
    title = parsed.entries[0].title
    assert "😀👍🏽" in title and "混合" in title and "Ωμέγα" in title and "עברית" in title
    assert "\x00" not in title and "\x01" not in title and "\x85" not in title
    assert parsed.feed.title == "新 <feed> & co"
    assert [e.id for e in parsed.entries] == [entry_id("http://gw.test/a/1.html"), entry_id("http://gw.test/a/2.html")]


def test_atom_dates_are_rfc3339_with_the_source_offset() -> None:
    body = render(build_feed(_meta(), [_entry(5)]), "atom")
    root = etree.fromstring(body)
    entry = root.find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}published") == "2026-10-12T10:05:00+08:00"
    assert root.findtext(f"{ATOM}updated") == "2026-10-12T10:05:00+08:00"
    assert re.match(RFC3339, entry.findtext(f"{ATOM}updated") or "")
    cats = [(c.get("term"), c.get("label")) for c in entry.findall(f"{ATOM}category")]
    assert cats == [("gw", "某公文网"), ("gw/latest", "某公文网 · 最新")]


def test_rss_dates_are_rfc822_with_the_source_offset_and_guid_is_not_a_permalink() -> None:
    body = render(build_feed(_meta("rss"), [_entry(5)]), "rss")
    item = etree.fromstring(body).find("channel/item")
    assert item is not None
    assert item.findtext("pubDate") == "Mon, 12 Oct 2026 10:05:00 +0800"
    assert re.match(RFC822, item.findtext("pubDate") or "")
    guid = item.find("guid")
    assert guid is not None and guid.get("isPermaLink") == "false"
    assert feedparser.parse(body).entries[0].published_parsed[:5] == (2026, 10, 12, 2, 5)  # UTC


def test_entries_keep_the_given_order_and_empty_feed_is_valid() -> None:
    entries = [_entry(3), _entry(1), _entry(2)]
    parsed = feedparser.parse(render(build_feed(_meta(), entries), "atom"))
    assert [e.link for e in parsed.entries] == [e.url for e in entries]
    empty = render(build_feed(_meta(), []), "atom")
    check_valid_feed(empty, "atom", "http://feeds.test/feeds/new.atom")
    assert empty == render(build_feed(_meta(), []), "atom")  # deterministic: no "now" stamped in


def test_json_feed_11_mirrors_the_atom_entries() -> None:
    entries = [_entry(1, HOSTILE), _entry(2)]
    doc = json.loads(jsonfeed.render(_meta("json"), entries))
    check_valid_feed(jsonfeed.render(_meta("json"), entries), "json", "http://feeds.test/feeds/new.json")
    assert doc["items"][0]["id"] == entry_id("http://gw.test/a/1.html")
    assert doc["items"][0]["date_published"] == "2026-10-12T10:01:00+08:00"
    assert doc["items"][0]["tags"] == ["某公文网", "某公文网 · 最新"]
    assert "\x01" not in doc["items"][0]["title"] and "😀" in doc["items"][0]["title"]


def test_text_helpers() -> None:
    assert xml_safe("a\x00b\ud800c\ufffe") == "abc"
    assert clean_title("  a\n\t b\x07 ") == "a b"
    assert plain_text("<p>a &amp; b</p><p>c<script>x()</script></p>") == "a & b c"


def test_feed_level_fields() -> None:
    body = render(build_feed(_meta(), [_entry(1), _entry(9)]), "atom")
    parsed = feedparser.parse(body)
    assert parsed.feed.id == feed_id("new")
    assert {link.rel: link.href for link in parsed.feed.links} == {
        "self": "http://feeds.test/feeds/new.atom", "alternate": "http://feeds.test/"}
    assert parsed.feed.updated == "2026-10-12T10:09:00+08:00"  # newest entry
    assert datetime(*parsed.feed.updated_parsed[:6], tzinfo=UTC) == datetime(2026, 10, 12, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["atom", "rss", "json"])
def test_an_unknown_date_is_not_claimed(kind: str) -> None:
    """An undated entry has no published/pubDate/date_published; Atom still has its required `updated`."""
    undated, dated = replace(_entry(1), published=None), _entry(2)
    meta = _meta(kind)
    body = jsonfeed.render(meta, [undated, dated]) if kind == "json" else render(build_feed(meta, [undated, dated]), kind)
    parsed = check_valid_feed(body, kind, meta.self_url)
    if kind == "json":
        assert "date_published" not in parsed["items"][0] and parsed["items"][1]["date_published"]
        assert parsed["items"][0]["date_modified"] == "2026-10-12T10:01:00+08:00"
        return
    first, second = parsed.entries
    assert "published" not in first and "published_parsed" not in first
    assert second.published_parsed is not None
    if kind == "atom":
        assert first.updated_parsed[:5] == (2026, 10, 12, 2, 1)  # the given `updated`, in UTC
        assert body.count(b"<published>") == 1
    else:
        assert body.count(b"<pubDate>") == 1
