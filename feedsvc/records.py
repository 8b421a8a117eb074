"""Plain records passed between layers (crawler pipeline → repository → feeds). No behaviour, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """What one crawl learned about one item, from a listing entry or from the article page itself.

    `published` is timezone-aware UTC. A listing sighting sets listing_id/kind/rank; `related_from` is the
    canonical URL of the article whose "you may also like" block listed this item. An article page record
    sets is_article and carries summary/content; its date wins over any listing date.
    """

    source_id: str
    url: str
    title: str | None
    published: datetime | None = None
    date_text: str | None = None
    listing_id: str | None = None
    listing_kind: str | None = None
    rank: int | None = None
    related_from: str | None = None
    is_article: bool = False
    summary: str | None = None
    content: str | None = None
    # An article's other URLs (the listing's link before redirects, variants): they all name this item.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoreResult:
    seen: int = 0
    new: int = 0
    new_item_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RunCounts:
    pages: int = 0
    not_modified: int = 0
    items_seen: int = 0
    items_new: int = 0
    errors: int = 0
    listing_counts: dict[str, int] = field(default_factory=dict)
