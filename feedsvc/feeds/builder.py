"""Builds feed documents: store rows → FeedMeta/FeedEntry → Atom/RSS/JSON bytes.

The one implementation shared by the HTTP app (feedsvc/http/app.py) and static publishing (feedsvc/feeds/publish.py).
Holds no SQL (feedsvc/store/feeds.py) and no XML (feedsvc/feeds/render.py, feedsvc/feeds/jsonfeed.py).
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import AppConfig
from feedsvc.errors import FeedNotFound
from feedsvc.feeds import jsonfeed
from feedsvc.feeds.render import (
    MEDIA_TYPES,
    Category,
    FeedEntry,
    FeedMeta,
    build_feed,
    entry_id,
    feed_id,
    feed_updated,
    render,
)
from feedsvc.feeds.sanitize import clean_html
from feedsvc.feeds.spec import FeedFilter, FeedSpec
from feedsvc.models import Item
from feedsvc.related.topics import topic_items
from feedsvc.store.feeds import (
    ListedItem,
    filter_item_ids,
    items_by_ids,
    listing_entries,
    listing_memberships,
    newest_items,
    source_items,
    stored_source_ids,
)
from feedsvc.store.related import RelatedLinkRow, inline_related, related_items
from feedsvc.text import clean_title, plain_text

SUMMARY_CHARS = 400


@dataclass(frozen=True, slots=True)
class BuiltFeed:
    body: bytes
    media_type: str
    updated: datetime
    # Items whose entries link to their own related feed (/feeds/items/{id}/related.atom): static publishing
    # must publish those feeds too, or the links 404 on a static host.
    related_feed_ids: tuple[int, ...] = ()

    @property
    def digest(self) -> str:
        """Identifies the content: equal bytes, equal digest (WebSub announces a feed when it changes)."""
        return hashlib.blake2b(self.body, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class _Row:
    item: Item
    entered: datetime | None = None
    rank: int | None = None
    rank_changed: datetime | None = None
    score: float | None = None


class FeedBuilder:
    """Builds any FeedSpec in any format from the current database contents."""

    def __init__(self, cfg: AppConfig, session_factory: sessionmaker[Session]) -> None:
        self.cfg = cfg
        self.session_factory = session_factory
        self.base_url = cfg.server.public_base_url
        self._zones = {s.id: s.zone for s in cfg.sources}
        self._titles = {s.id: s.title for s in cfg.sources}
        self._listing_labels = {
            (s.id, listing.id): listing.heading or listing.id for s in cfg.sources for listing in s.listings
        }

    def build(self, spec: FeedSpec, fmt: str, flt: FeedFilter) -> BuiltFeed:
        with self.session_factory() as session:
            rows = self._rows(session, spec, flt)
            related = self._inline_related(session, [r.item.id for r in rows])
            meta, entries = self._meta(session, spec, fmt), self._entries(session, spec, rows, related)
        body = jsonfeed.render(meta, entries) if fmt == "json" else render(build_feed(meta, entries), fmt)
        linked = tuple(r.item.id for r in rows if related.get(r.item.id))
        return BuiltFeed(body=body, media_type=MEDIA_TYPES[fmt], updated=feed_updated(entries),
                         related_feed_ids=linked)

    def _entries(self, session: Session, spec: FeedSpec, rows: list[_Row],
                 related: dict[int, list[RelatedLinkRow]]) -> list[FeedEntry]:
        listings = listing_memberships(session, [r.item.id for r in rows])
        return [self._entry(r, spec, related.get(r.item.id, []), listings.get(r.item.id, [])) for r in rows]

    # -- rows -------------------------------------------------------------------------------------------
    def _hidden_sources(self, session: Session) -> list[str]:
        return [sid for sid in stored_source_ids(session) if sid not in self._zones]

    def _rows(self, session: Session, spec: FeedSpec, flt: FeedFilter) -> list[_Row]:
        if spec.kind == "new":
            return [_Row(i) for i in newest_items(session, flt, self._hidden_sources(session))]
        if spec.kind == "source":
            assert spec.source is not None
            return [_Row(i) for i in source_items(session, spec.source, flt)]
        if spec.kind == "listing":
            assert spec.source is not None and spec.listing is not None
            listed: list[ListedItem] = listing_entries(session, spec.source, spec.listing, flt)
            return [_Row(x.item, entered=x.entered, rank=x.rank, rank_changed=x.rank_changed) for x in listed]
        if spec.kind == "topic":
            return self._topic_rows(session, spec, flt)
        return self._related_rows(session, spec, flt)

    def _related_rows(self, session: Session, spec: FeedSpec, flt: FeedFilter) -> list[_Row]:
        assert spec.item_id is not None
        item = items_by_ids(session, [spec.item_id]).get(spec.item_id)
        if item is None:
            raise FeedNotFound(f"No item with id {spec.item_id}. Item ids appear in entries' 'Related' links.")
        found = related_items(session, spec.item_id, flt.limit)
        return self._ranked_rows(session, found, flt)

    def _topic_rows(self, session: Session, spec: FeedSpec, flt: FeedFilter) -> list[_Row]:
        topic = self.cfg.topic(spec.topic or "")
        if topic is None:
            return []
        ranked = topic_items(session, topic, self.cfg, flt.limit)
        items = items_by_ids(session, [i for i, _ in ranked])
        return self._ranked_rows(session, [(items[i], s) for i, s in ranked if i in items], flt)

    def _ranked_rows(self, session: Session, found: list[tuple[Item, float]], flt: FeedFilter) -> list[_Row]:
        """Rows ranked elsewhere (related, topics), narrowed by the store with the same rule as other feeds."""
        kept = filter_item_ids(session, [i.id for i, _ in found], flt)
        return [_Row(i, score=s) for i, s in found if i.id in kept and i.source_id in self._zones]

    def _inline_related(self, session: Session, item_ids: Sequence[int]) -> dict[int, list[RelatedLinkRow]]:
        per_item = self.cfg.related.inline_links
        if per_item <= 0 or not item_ids:
            return {}
        return inline_related(session, item_ids, per_item)

    # -- records ----------------------------------------------------------------------------------------
    def _zone(self, source_id: str) -> ZoneInfo:
        return self._zones.get(source_id) or ZoneInfo("UTC")

    def _entry(self, row: _Row, spec: FeedSpec, related: list[RelatedLinkRow],
               listings: list[tuple[str, str]]) -> FeedEntry:
        item = row.item
        zone = self._zone(item.source_id)
        # No known date → no claimed date: an undated item (e.g. a hot list of old stories) stamped with the crawl
        # time reads as today's news. Its `updated` below still starts at first_seen, which never changes.
        published = item.published.astimezone(zone) if item.published is not None else None
        # In a listing feed an entry also "changes" when it enters the listing, so readers and
        # Last-Modified see an old article newly ranked.
        # A new rank is shown in the entry, so it counts as an update too (and moves Last-Modified).
        updated = max(item.updated_at, item.published or item.first_seen, row.entered or item.updated_at,
                      row.rank_changed or item.updated_at)
        summary = clean_title(item.summary or "") or (plain_text(item.content)[:SUMMARY_CHARS] if item.content else "")
        if not summary:
            summary = self._where_listed(item, listings)
        return FeedEntry(
            id=entry_id(item.feed_key or item.url),  # feed_key: the URL before a merge renamed it
            url=item.url,
            title=item.title,
            published=published,
            updated=updated.astimezone(zone),
            summary=summary or None,
            content_html=self._content(item, row, spec, related, summary),
            categories=self._categories(item, listings),
            author=self._titles.get(item.source_id),
            rank=row.rank,
        )

    def _where_listed(self, item: Item, listings: list[tuple[str, str]]) -> str:
        """Text for an entry the site gave no text for (readers and validators flag entries without any): its
        title and where it was listed, e.g. "Budget passes — English News · Latest"."""
        source_title = self._titles.get(item.source_id, item.source_id)
        places = [f"{self._titles.get(sid, sid)} · {self._listing_labels[(sid, lid)]}"
                  for sid, lid in listings if (sid, lid) in self._listing_labels]
        title = clean_title(item.title) or item.url
        return f"{title} — {', '.join(places) or source_title}"

    def _content(self, item: Item, row: _Row, spec: FeedSpec, related: list[RelatedLinkRow], summary: str) -> str:
        parts: list[str] = []
        if row.rank is not None and spec.kind == "listing":
            label = self._listing_labels.get((spec.source or "", spec.listing or ""), spec.listing or "")
            parts.append(f"<p><strong>#{row.rank}</strong> in {html.escape(label)}</p>")
        body = clean_html(item.content or "")
        parts.append(body or (f"<p>{html.escape(summary)}</p>" if summary else ""))
        if related:
            links = "".join(
                f'<li><a href="{html.escape(r.url)}" rel="noopener noreferrer">{html.escape(clean_title(r.title))}</a></li>'
                for r in related
            )
            more = html.escape(f"{self.base_url}/feeds/items/{item.id}/related.atom")
            # The list comes last so readers show it under the article, as the site's own block would be.
            parts.append(f'<h4>Related (<a href="{more}">feed</a>)</h4><ul>{links}</ul>')
        return "".join(p for p in parts if p)

    def _categories(self, item: Item, listings: list[tuple[str, str]]) -> tuple[Category, ...]:
        source_title = self._titles.get(item.source_id, item.source_id)
        cats = [Category(term=item.source_id, label=source_title, scheme=f"{self.base_url}/feeds/")]
        for source_id, listing_id in listings:
            label = self._listing_labels.get((source_id, listing_id))
            if label is not None:
                cats.append(Category(term=f"{source_id}/{listing_id}", label=f"{self._titles[source_id]} · {label}",
                                     scheme=f"{self.base_url}/feeds/"))
        return tuple(cats)

    def _meta(self, session: Session, spec: FeedSpec, fmt: str) -> FeedMeta:
        title, subtitle, alternate = self.describe(spec, session)
        return FeedMeta(id=feed_id(spec.key), title=title, subtitle=subtitle,
                        self_url=self.base_url + spec.path(fmt), alternate_url=alternate,
                        self_type=MEDIA_TYPES[fmt].split(";")[0], hubs=tuple(self.cfg.websub.hubs))

    def describe(self, spec: FeedSpec, session: Session | None = None) -> tuple[str, str, str]:
        """(title, subtitle, alternate URL) of a feed, for the feed itself, OPML and the index page."""
        home = self.base_url + "/"
        if spec.kind == "new":
            return "New items (all sources)", "Items newly seen on every configured site, newest first", home
        if spec.kind in ("source", "listing"):
            source = self.cfg.source(spec.source or "")
            if spec.kind == "source":
                return source.title, f"New items on {source.title}", source.start_urls[0]
            label = self._listing_labels[(source.id, spec.listing or "")]
            return f"{source.title} · {label}", f"Items as they enter '{label}' on {source.title}", source.start_urls[0]
        if spec.kind == "topic":
            topic = self.cfg.topic(spec.topic or "")
            title = topic.title if topic else spec.topic or ""
            return f"Topic: {title}", f"New items about {title}, most similar first", home
        item = items_by_ids(session, [spec.item_id or 0]).get(spec.item_id or 0) if session else None
        name = item.title if item else f"item {spec.item_id}"
        return f"Related to: {name}", f"Items related to '{name}'", item.url if item else home
