"""The index page (`/`) and the OPML document: what exists, where to subscribe, how each source is doing.

Reads through the repository (no SQL here), renders with Jinja2 (autoescaped, feedsvc/templates/). Shared by
the HTTP app and static publishing so both produce the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from feedsvc import store as repository
from feedsvc.feeds.builder import FeedBuilder
from feedsvc.feeds.opml import OpmlFeed, render_opml
from feedsvc.feeds.render import FORMATS, MEDIA_TYPES
from feedsvc.feeds.spec import FeedSpec, all_specs

HTML_MEDIA_TYPE = "text/html; charset=utf-8"
SITE_TITLE = "feedsvc feeds"
_env = Environment(loader=PackageLoader("feedsvc.http", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class FeedLink:
    title: str
    subtitle: str
    urls: dict[str, str]  # format → absolute URL
    media_types: dict[str, str] = field(default_factory=lambda: {f: MEDIA_TYPES[f].split(";")[0] for f in FORMATS})


@dataclass(frozen=True)
class SourceView:
    id: str
    title: str
    site_url: str
    feed: FeedLink
    listings: list[FeedLink]
    last_crawl: datetime | None
    status: str
    health: str
    healthy: bool
    items: int


def feed_link(builder: FeedBuilder, spec: FeedSpec) -> FeedLink:
    title, subtitle, _ = builder.describe(spec)
    return FeedLink(title=title, subtitle=subtitle, urls={f: builder.base_url + spec.path(f) for f in FORMATS})


def _health(h: repository.SourceHealth | None) -> tuple[str, str, bool, datetime | None]:
    """(status, one-line health, healthy?, last crawl time)."""
    if h is None or h.last_run is None:
        return "never crawled", "waiting for its first crawl", True, None
    run = h.last_run
    when = run.finished_at or run.started_at
    if run.status == "running":
        return "running", "crawl in progress", True, when
    if h.source.error_count:
        error = (h.source.last_error or run.message or "see `feedsvc status`").splitlines()[0]
        return run.status, f"failing ({h.source.error_count} in a row): {error}", False, when
    if h.broken_listings:
        return run.status, f"listing(s) {', '.join(h.broken_listings)} yielded nothing; selector may be broken", False, when
    return run.status, "ok", True, when


def index_context(builder: FeedBuilder, session: Session) -> dict[str, Any]:
    cfg = builder.cfg
    health = {h.source.id: h for h in repository.source_health(session, [s.id for s in cfg.sources])}
    counts = repository.feeds.source_item_counts(session, [s.id for s in cfg.sources])
    sources: list[SourceView] = []
    for source in cfg.sources:
        status, text, healthy, when = _health(health.get(source.id))
        sources.append(SourceView(
            id=source.id, title=source.title, site_url=source.start_urls[0],
            feed=feed_link(builder, FeedSpec("source", source=source.id)),
            listings=[feed_link(builder, FeedSpec("listing", source=source.id, listing=lst.id)) for lst in source.listings],
            last_crawl=when, status=status, health=text, healthy=healthy, items=counts.get(source.id, 0),
        ))
    topics = [feed_link(builder, FeedSpec("topic", topic=t.id)) for t in cfg.topics]
    return {"title": SITE_TITLE, "base_url": builder.base_url, "new": feed_link(builder, FeedSpec("new")),
            "sources": sources, "topics": topics, "opml_url": builder.base_url + "/opml"}


def render_index(builder: FeedBuilder, session: Session) -> bytes:
    return _env.get_template("index.html").render(index_context(builder, session)).encode("utf-8")


def render_opml_document(builder: FeedBuilder) -> bytes:
    """Every listed feed (Atom URLs: one subscription per feed, not three)."""
    feeds: list[OpmlFeed] = []
    for spec in all_specs(builder.cfg):
        title, subtitle, alternate = builder.describe(spec)
        group = None
        if spec.kind in ("source", "listing"):
            group = builder.cfg.source(spec.source or "").title
        elif spec.kind == "topic":
            group = "Topics"
        feeds.append(OpmlFeed(title=title, xml_url=builder.base_url + spec.path("atom"), html_url=alternate,
                              description=subtitle, group=group))
    return render_opml(SITE_TITLE, builder.base_url + "/", feeds)
