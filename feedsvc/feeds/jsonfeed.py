"""JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) from the same records as feeds.py. No DB access.

feedgen has no JSON Feed support, so the document is assembled here; field choices mirror the Atom feed
(same ids, links, dates, sanitised HTML) so a subscriber sees the same entries whatever the format.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from feedsvc.feeds.render import FeedEntry, FeedMeta
from feedsvc.text import clean_title

VERSION = "https://jsonfeed.org/version/1.1"


def json_feed(meta: FeedMeta, entries: Sequence[FeedEntry]) -> dict[str, Any]:
    """The JSON Feed object; dates are RFC 3339 with the source's offset."""
    doc: dict[str, Any] = {
        "version": VERSION,
        "title": clean_title(meta.title),
        "home_page_url": meta.alternate_url,
        "feed_url": meta.self_url,
        "description": clean_title(meta.subtitle),
        "authors": [{"name": clean_title(meta.title)}],
        "items": [_item(entry) for entry in entries],
    }
    if meta.language:
        doc["language"] = meta.language
    if meta.icon_url:
        doc["icon"] = meta.icon_url
    if meta.hubs:  # JSON Feed 1.1 "hubs": endpoints for real-time notification (WebSub)
        doc["hubs"] = [{"type": "WebSub", "url": hub} for hub in meta.hubs]
    return doc


def _item(entry: FeedEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry.id,
        "url": entry.url,
        "title": clean_title(entry.title),
        "content_html": entry.content_html or "",
        # Optional in JSON Feed 1.1: an unknown date is left out, not guessed.
        **({"date_published": entry.published.isoformat()} if entry.published is not None else {}),
        "date_modified": entry.updated.isoformat(),
        "tags": [clean_title(c.label) for c in entry.categories],
    }
    if entry.summary:
        item["summary"] = entry.summary
    if entry.author:
        item["authors"] = [{"name": clean_title(entry.author)}]
    if entry.rank is not None:
        # Custom extensions start with an underscore (JSON Feed 1.1, "Extensions").
        item["_feedsvc"] = {"rank": entry.rank}
    return item


def render(meta: FeedMeta, entries: Sequence[FeedEntry]) -> bytes:
    """UTF-8 JSON, non-ASCII kept as is (smaller, and readable for CJK titles)."""
    return json.dumps(json_feed(meta, entries), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
