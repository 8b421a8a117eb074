"""Atom and RSS documents from plain feed records; the only module that imports feedgen. No DB access.

`FeedMeta` and `FeedEntry` are what the feed layer needs to know, already resolved (absolute URLs, sanitised
HTML, aware datetimes in the source's zone). `build_feed(meta, entries)` makes a FeedGenerator and
`render(fg, kind)` serialises it. The JSON Feed twin is feedsvc/feeds/jsonfeed.py, built from the same records.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from lxml import etree

from feedsvc.text import clean_title, xml_safe

FeedKind = Literal["atom", "rss", "json"]
ATOM_NS = "http://www.w3.org/2005/Atom"
FORMATS: tuple[FeedKind, ...] = ("atom", "rss", "json")
MEDIA_TYPES: dict[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
GENERATOR = "feedsvc"
# Fixed namespace so ids derived from URLs are the same on every machine, forever.
_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/feedsvc/feedsvc/ids")
# An empty feed still needs an `updated`; a fixed instant keeps its bytes (and ETag) stable.
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def entry_id(canonical_url: str) -> str:
    """The entry id for an item: a name-based UUID of its canonical URL, so it survives crawls,
    restarts and database rebuilds (item row ids do not)."""
    return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, canonical_url)}"


def feed_id(key: str) -> str:
    """A feed's id from its logical key (e.g. 'source/gw'), independent of the public base URL."""
    return f"urn:uuid:{uuid.uuid5(_ID_NAMESPACE, 'feed:' + key)}"


@dataclass(frozen=True, slots=True)
class Category:
    term: str
    label: str
    scheme: str | None = None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry. `published`/`updated` are aware datetimes in the source's time zone. `published` is None when
    neither the listing nor the article gave a date: the entry then claims none (the crawl time is not one)."""

    id: str
    url: str
    title: str
    published: datetime | None
    updated: datetime
    summary: str | None
    content_html: str
    categories: tuple[Category, ...] = ()
    author: str | None = None
    rank: int | None = None


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """Feed-level facts. `self_url` is the URL of this very document (it differs per format)."""

    id: str
    title: str
    subtitle: str
    self_url: str
    alternate_url: str
    language: str | None = None
    icon_url: str | None = None
    self_type: str | None = None  # media type of this document, on the self link (validators like it)
    hubs: tuple[str, ...] = ()  # WebSub hubs to advertise (rel="hub" beside rel="self")


class _WebsubHubs(BaseExtension):  # type: ignore[misc]
    """feedgen extension: <atom:link rel="hub" href="..."/> in an RSS channel (WebSub §4)."""

    def __init__(self) -> None:
        self.hubs: list[str] = []

    def extend_ns(self) -> dict[str, str]:
        return {"atom": ATOM_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        for hub in self.hubs:
            etree.SubElement(channel, f"{{{ATOM_NS}}}link", href=hub, rel="hub")
        return rss_feed


def feed_updated(entries: Sequence[FeedEntry]) -> datetime:
    """Newest entry's `updated` (what the feed's own `updated` and HTTP Last-Modified report)."""
    return max((e.updated for e in entries), default=EPOCH)


def build_feed(meta: FeedMeta, entries: Sequence[FeedEntry]) -> FeedGenerator:
    """A FeedGenerator with entries in the given order (feedgen prepends unless told to append)."""
    fg = FeedGenerator()
    fg.id(meta.id)
    fg.title(clean_title(meta.title) or meta.id)
    fg.subtitle(clean_title(meta.subtitle) or clean_title(meta.title) or meta.id)
    fg.author({"name": clean_title(meta.title) or GENERATOR})
    if meta.self_type:
        fg.link(href=meta.self_url, rel="self", type=meta.self_type)
    else:
        fg.link(href=meta.self_url, rel="self")
    if meta.hubs:
        # Atom takes rel="hub" links as they are; feedgen's RSS keeps only rel="self", so RSS gets its
        # <atom:link rel="hub"> elements from a small extension. Before the alternate link: feedgen makes
        # the last link the RSS <link>.
        for hub in meta.hubs:
            fg.link(href=hub, rel="hub")
        fg.register_extension("websub", _WebsubHubs, atom=False, rss=True)
        fg.websub.hubs = list(meta.hubs)
    fg.link(href=meta.alternate_url, rel="alternate")
    fg.generator(GENERATOR)
    if meta.language:
        fg.language(meta.language)
    # Set explicitly: feedgen would otherwise stamp "now", making every build's bytes (and ETag) differ.
    fg.updated(feed_updated(entries))
    for entry in entries:
        _add_entry(fg, entry)
    return fg


def _add_entry(fg: FeedGenerator, entry: FeedEntry) -> None:
    fe = fg.add_entry(order="append")
    fe.id(entry.id)
    fe.title(clean_title(entry.title) or entry.url)
    fe.link(href=entry.url, rel="alternate")
    if entry.published is not None:  # Atom <published> and RSS <pubDate> are optional: omit an unknown date
        fe.published(entry.published)
    fe.updated(entry.updated)
    if entry.author:
        fe.author({"name": clean_title(entry.author)})
    if entry.summary:
        fe.summary(xml_safe(entry.summary))
    if entry.content_html:
        fe.content(xml_safe(entry.content_html), type="html")
    if entry.categories:
        fe.category([{"term": xml_safe(c.term), "label": clean_title(c.label), "scheme": c.scheme}
                     if c.scheme else {"term": xml_safe(c.term), "label": clean_title(c.label)}
                     for c in entry.categories])


def render(fg: FeedGenerator, kind: str) -> bytes:
    """Serialise to 'atom' or 'rss' bytes (UTF-8, with XML declaration)."""
    if kind == "atom":
        return bytes(fg.atom_str(pretty=False, encoding="UTF-8"))
    if kind == "rss":
        return bytes(fg.rss_str(pretty=False, encoding="UTF-8"))
    raise ValueError(f"unknown feed kind {kind!r}; feeds.render handles 'atom' and 'rss' (JSON: jsonfeed.render)")
