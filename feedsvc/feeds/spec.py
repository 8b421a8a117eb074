"""Which feeds exist and how they are addressed: FeedSpec ↔ URL path, query parameters → FeedFilter.

The single mapping between routes and feeds, shared by the HTTP app, static publishing, OPML and the index
page, so a published file's path always equals its HTTP route. Pure: reads the config, never the database.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Literal

from feedsvc.config import AppConfig
from feedsvc.errors import BadRequest, FeedNotFound
from feedsvc.feeds.render import FORMATS
from feedsvc.text import whole_number

SpecKind = Literal["new", "source", "listing", "topic", "related"]
DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_WORDS = 20
MAX_WORD_LENGTH = 100
NEW_FEED = "new"
MAX_ITEM_ID = 2**63 - 1  # BIGINT / SQLite INTEGER; a longer id cannot exist and must not reach the driver
_WORD_SPLIT = re.compile(r"[,，、]")


@dataclass(frozen=True, slots=True)
class FeedFilter:
    """What a feed request narrows to: at most `limit` entries, with any of the `q` words, none of the
    `exclude` words, first seen since `since`. The store applies it (feedsvc/store/search.py: the word rule)."""

    limit: int = DEFAULT_LIMIT
    q: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One logical feed (formats are separate documents of the same spec)."""

    kind: SpecKind
    source: str | None = None
    listing: str | None = None
    topic: str | None = None
    item_id: int | None = None

    @property
    def key(self) -> str:
        """Stable logical name (used for the feed's Atom id)."""
        if self.kind == "new":
            return NEW_FEED
        if self.kind == "source":
            return f"source/{self.source}"
        if self.kind == "listing":
            return f"source/{self.source}/{self.listing}"
        if self.kind == "topic":
            return f"topic/{self.topic}"
        return f"item/{self.item_id}/related"

    def path(self, fmt: str) -> str:
        """The URL path of this feed in format `fmt`, e.g. /feeds/gw/latest.atom."""
        if self.kind == "new":
            return f"/feeds/{NEW_FEED}.{fmt}"
        if self.kind == "source":
            return f"/feeds/{self.source}.{fmt}"
        if self.kind == "listing":
            return f"/feeds/{self.source}/{self.listing}.{fmt}"
        if self.kind == "topic":
            return f"/feeds/topics/{self.topic}.{fmt}"
        return f"/feeds/items/{self.item_id}/related.{fmt}"

    @property
    def route(self) -> str:
        """Route template, a low-cardinality label for metrics."""
        return {
            "new": "/feeds/new.{fmt}",
            "source": "/feeds/{source}.{fmt}",
            "listing": "/feeds/{source}/{listing}.{fmt}",
            "topic": "/feeds/topics/{topic}.{fmt}",
            "related": "/feeds/items/{id}/related.{fmt}",
        }[self.kind]


def known_feeds(cfg: AppConfig) -> str:
    names = [NEW_FEED] + [s.id for s in cfg.sources]
    return ", ".join(names)


def parse_feed_path(cfg: AppConfig, path: str) -> tuple[FeedSpec, str]:
    """Resolve the part after /feeds/ (e.g. 'gw/latest.rss') against the config; FeedNotFound says what exists.

    Item ids are only checked for shape here; whether the item exists is the database's answer.
    """
    stem, dot, fmt = path.rpartition(".")
    if not dot or "/" in fmt:
        raise FeedNotFound(f"No feed at /feeds/{path}. Feed URLs end in .atom, .rss or .json, e.g. /feeds/new.atom.")
    if fmt not in FORMATS:
        raise FeedNotFound(f"Unknown feed format '.{fmt}' in /feeds/{path}. Use .atom, .rss or .json.")
    parts = stem.split("/")
    if parts == [NEW_FEED]:
        return FeedSpec("new"), fmt
    if len(parts) == 2 and parts[0] == "topics":
        if cfg.topic(parts[1]) is None:
            known = ", ".join(t.id for t in cfg.topics) or "none configured"
            raise FeedNotFound(f"No topic named '{parts[1]}'. Known topics: {known}.")
        return FeedSpec("topic", topic=parts[1]), fmt
    if len(parts) == 3 and parts[0] == "items" and parts[2] == "related":
        item_id = whole_number(parts[1], MAX_ITEM_ID)
        if item_id is None:
            raise FeedNotFound(f"No item '{parts[1][:40]}': item ids are numbers, e.g. /feeds/items/42/related.atom.")
        return FeedSpec("related", item_id=item_id), fmt
    if len(parts) in (1, 2):
        source = next((s for s in cfg.sources if s.id == parts[0]), None)
        if source is None:
            raise FeedNotFound(f"No feed named '{parts[0]}'. Known feeds: {known_feeds(cfg)}.")
        if len(parts) == 1:
            return FeedSpec("source", source=source.id), fmt
        if source.listing(parts[1]) is None:
            known = ", ".join(listing.id for listing in source.listings)
            raise FeedNotFound(f"No listing '{parts[1]}' in source '{source.id}'. Known listings: {known}.")
        return FeedSpec("listing", source=source.id, listing=parts[1]), fmt
    raise FeedNotFound(f"No feed at /feeds/{path}. Known feeds: {known_feeds(cfg)}.")


def all_specs(cfg: AppConfig) -> list[FeedSpec]:
    """Every feed worth listing (OPML, index, publish): new, each source and listing, each topic.
    Per-item related feeds are reached from entries, not listed."""
    specs = [FeedSpec("new")]
    for source in cfg.sources:
        specs.append(FeedSpec("source", source=source.id))
        specs.extend(FeedSpec("listing", source=source.id, listing=listing.id) for listing in source.listings)
    specs.extend(FeedSpec("topic", topic=topic.id) for topic in cfg.topics)
    return specs


def _words(name: str, raw: str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    words = tuple(dict.fromkeys(w.strip() for w in _WORD_SPLIT.split(raw) if w.strip()))
    if len(words) > MAX_WORDS:
        raise BadRequest(f"{name} has {len(words)} words; at most {MAX_WORDS} comma-separated words are allowed")
    for word in words:
        if len(word) > MAX_WORD_LENGTH:
            raise BadRequest(f"{name} word {word[:20] + '…'!r} is longer than {MAX_WORD_LENGTH} characters")
    return words


def _since(raw: str | None) -> datetime | None:
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    try:
        if len(value) == 10:
            parsed = datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
        else:
            parsed = datetime.fromisoformat(value)
        # An offset can push a time near year 1 or 9999 out of range when converted to UTC.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise BadRequest(
            f"since={raw[:40]!r} is not an ISO date (years 1 to 9999 in UTC); use e.g. since=2026-10-01 or "
            "since=2026-10-01T08:00:00+08:00"
        ) from None


def parse_filter(params: Mapping[str, str]) -> FeedFilter:
    """limit/q/exclude/since from query parameters; BadRequest (→ 400) says which and why. Others are ignored
    (readers append cache-busting parameters)."""
    raw_limit = params.get("limit")
    limit = DEFAULT_LIMIT
    if raw_limit is not None:
        digits = raw_limit.strip()
        if whole_number(digits, 0, clamp=True) is None:  # clamped: None only when these are not digits
            raise BadRequest(f"limit={raw_limit[:40]!r} is not a whole number; use 1 to {MAX_LIMIT}")
        parsed = whole_number(digits, MAX_LIMIT)
        if parsed is None or parsed < 1:
            raise BadRequest(f"limit={digits[:40]} is out of range; use 1 to {MAX_LIMIT}")
        limit = parsed
    return FeedFilter(
        limit=limit, q=_words("q", params.get("q")), exclude=_words("exclude", params.get("exclude")),
        since=_since(params.get("since")),
    )
