"""The front page (`/`) and the OPML document: how each source is doing, what each listing shows, where to subscribe.

Reads through the store (feedsvc/store/overview.py, health from feedsvc/store/health.py; no SQL here), renders with Jinja2 (autoescaped,
feedsvc/feeds/templates/). Shared by the HTTP app and static publishing so both produce the same bytes; the page
depends on stored data only (the clock only decides whether a run still marked running is alive), so the
same database renders the same page.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy.orm import Session

from feedsvc.config import AppConfig, SourceConfig
from feedsvc.feeds.builder import FeedBuilder
from feedsvc.feeds.chart import Chart, health_chart
from feedsvc.feeds.opml import OpmlFeed, render_opml
from feedsvc.feeds.render import FORMATS, MEDIA_TYPES
from feedsvc.feeds.spec import FeedSpec, all_specs
from feedsvc.models import ErrorKind
from feedsvc.store.health import health
from feedsvc.store.overview import (
    LISTING_KINDS,
    CurrentItem,
    ListingNow,
    RunWarning,
    listings_now,
    recent_run_points,
    run_warnings,
)
from feedsvc.store.related import RelatedLinkRow, inline_related

HTML_MEDIA_TYPE = "text/html; charset=utf-8"
SITE_TITLE = "feedsvc feeds"
SOURCES_PER_PAGE = 20  # a page stays short, small and fast however many sources there are
ITEMS_PER_LISTING = 10
RELATED_PER_ITEM = 3
CHART_RUNS = 30
_env = Environment(loader=PackageLoader("feedsvc.feeds", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)


@dataclass(frozen=True)
class FeedLink:
    title: str
    subtitle: str
    urls: dict[str, str]  # format → absolute URL
    media_types: dict[str, str] = field(default_factory=lambda: {f: MEDIA_TYPES[f].split(";")[0] for f in FORMATS})


@dataclass(frozen=True)
class ItemView:
    item: CurrentItem
    lang: str | None
    date_iso: str | None  # machine-readable, in the source's time zone
    date_shown: str | None  # the date as the site wrote it, else ours in the source's time zone
    movement: str  # up | down | same | new | ""
    delta: int
    related: list[RelatedLinkRow]
    related_feed: str


@dataclass(frozen=True)
class ListingView:
    id: str
    label: str
    kind: str
    feed: FeedLink
    items: list[ItemView]
    total: int
    seen_at: datetime | None


@dataclass(frozen=True)
class SourceView:
    id: str
    title: str
    lang: str | None
    tz: str
    site_url: str
    feed: FeedLink | None  # None for sources on other pages
    listings: list[ListingView]
    last_crawl: datetime | None
    status: str
    health: str
    healthy: bool
    items: int
    chart: Chart
    warnings: list[str]
    page: int


def feed_link(builder: FeedBuilder, spec: FeedSpec) -> FeedLink:
    title, subtitle, _ = builder.describe(spec)
    return FeedLink(title=title, subtitle=subtitle, urls={f: builder.base_url + spec.path(f) for f in FORMATS})


# A date the site gave only in machine form (a <time datetime> value): shown in the source's zone instead.
_MACHINE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_HAN = re.compile(r"[\u3400-\u9fff]")
_TRADITIONAL_ZONES = {"Asia/Taipei": "zh-Hant-TW", "Asia/Hong_Kong": "zh-Hant-HK", "Asia/Macau": "zh-Hant-MO"}


def content_lang(text: str, timezone: str) -> str | None:
    """BCP 47 tag for site text written in a CJK script (so browsers pick CJK fonts and line breaking); None
    for anything else, which keeps the page's own language. The source's time zone picks the Chinese variant."""
    if _KANA.search(text):
        return "ja"
    if _HANGUL.search(text):
        return "ko"
    if _HAN.search(text):
        return _TRADITIONAL_ZONES.get(timezone, "zh-Hans")
    return None


def _warnings(source_id: str, broken: list[str], found: list[RunWarning]) -> list[str]:
    listing_problems = [w.message for w in found if w.kind in LISTING_KINDS]
    out = [f"Listing '{lid}' found no items in the last crawl but did before: its selector probably broke. "
           f"Check it with `feedsvc preview {source_id}`." for lid in broken
           if not any(f"listing '{lid}'" in message for message in listing_problems)]  # said below, with why
    out += [message[:1].upper() + message[1:] for message in listing_problems]
    out += [w.message if "feedsvc heal" in w.message else f"{w.message} Keep it with `feedsvc heal {source_id}`."
            for w in found if w.kind == ErrorKind.HEALED]
    robots = [w for w in found if w.kind == ErrorKind.ROBOTS]
    if robots:
        example = robots[0].url or robots[0].message
        out.append(f"robots.txt kept the last crawl from {len(robots)} page(s), e.g. {example}")
    return out


def _date(item: CurrentItem, zone: ZoneInfo) -> tuple[str | None, str | None]:
    if item.published is None:
        return None, item.date_text
    local = item.published.astimezone(zone)
    written = item.date_text if item.date_text and not _MACHINE_DATE.match(item.date_text) else None
    shown = written or (local.strftime("%Y-%m-%d %H:%M") if (local.hour, local.minute) != (0, 0)
                               else local.strftime("%Y-%m-%d"))
    return local.isoformat(), shown


def _movement(item: CurrentItem, ranked: bool) -> tuple[str, int]:
    if item.is_new:
        return "new", 0
    if not ranked or item.rank is None or item.previous_rank is None:
        return "", 0
    delta = item.previous_rank - item.rank
    return ("up" if delta > 0 else "down" if delta < 0 else "same"), abs(delta)


def _listing_views(builder: FeedBuilder, source: SourceConfig, now: dict[str, ListingNow],
                   related: dict[int, list[RelatedLinkRow]]) -> list[ListingView]:
    ranked = frozenset(lst.id for lst in source.listings if lst.kind == "ranking")
    zone = source.zone
    views: list[ListingView] = []
    for lst in source.listings:
        link = feed_link(builder, FeedSpec("listing", source=source.id, listing=lst.id))
        shown = now[lst.id]
        items = []
        for item in shown.items:
            iso, text = _date(item, zone)
            movement, delta = _movement(item, lst.id in ranked)
            items.append(ItemView(item=item, lang=content_lang(item.title, source.timezone), date_iso=iso,
                                  date_shown=text, movement=movement, delta=delta, related=related.get(item.id, []),
                                  related_feed=builder.base_url + FeedSpec("related", item_id=item.id).path("atom")))
        views.append(ListingView(id=lst.id, label=link.title.split(" · ", 1)[-1], kind=lst.kind, feed=link,
                                 items=items, total=shown.total,
                                 seen_at=shown.run.started_at if shown.run else None))
    return views


def index_context(builder: FeedBuilder, session: Session, page: int = 1, *,
                  now: datetime | None = None) -> dict[str, Any]:
    """What index.html shows. `now` (default: the clock) only decides whether a run still marked running has a
    live crawl."""
    cfg: AppConfig = builder.cfg
    ids = [s.id for s in cfg.sources]
    pages = max(1, math.ceil(len(ids) / SOURCES_PER_PAGE))
    page = min(max(page, 1), pages)
    first, end = (page - 1) * SOURCES_PER_PAGE, page * SOURCES_PER_PAGE
    verdicts = health(session, now or datetime.now(UTC), ids)  # the same verdict `feedsvc status` shows
    # Sources on this page also get the chart's 30 runs (the listings show what the newest of them saw).
    runs = recent_run_points(session, ids[first:end], per_source=CHART_RUNS)
    latest = {sid: h.last_finished for sid, h in verdicts.items()}
    found = run_warnings(session, [r.id for r in latest.values() if r is not None])
    now_shown = {s.id: listings_now(session, s.id, [lst.id for lst in s.listings], runs.get(s.id, []),
                                    limit=ITEMS_PER_LISTING) for s in cfg.sources[first:end]}
    related = inline_related(session, [i.id for n in now_shown.values() for lst in n.values() for i in lst.items],
                             RELATED_PER_ITEM)
    sources: list[SourceView] = []
    problems: list[SourceView] = []
    for n, source in enumerate(cfg.sources):
        verdict = verdicts[source.id]
        last = latest.get(source.id)
        warnings = _warnings(source.id, verdict.broken_listings, found.get(last.id, []) if last else [])
        shown = first <= n < end
        listings = _listing_views(builder, source, now_shown[source.id], related) if shown else []
        view = SourceView(
            id=source.id, title=source.title, lang=content_lang(source.title, source.timezone),
            tz=source.timezone, site_url=source.start_urls[0],
            feed=feed_link(builder, FeedSpec("source", source=source.id)) if shown else None,
            listings=listings, last_crawl=verdict.last_crawl, status=verdict.state, health=verdict.summary,
            healthy=verdict.healthy, items=verdict.item_count if shown else 0,
            chart=health_chart(runs.get(source.id, []) if shown else []), warnings=warnings,
            page=n // SOURCES_PER_PAGE + 1)
        if shown:
            sources.append(view)
        if not verdict.healthy or warnings:
            problems.append(view)
    topics = [feed_link(builder, FeedSpec("topic", topic=t.id)) for t in cfg.topics]
    return {"title": SITE_TITLE, "base_url": builder.base_url, "new": feed_link(builder, FeedSpec("new")),
            "sources": sources, "problems": problems, "source_count": len(ids), "topics": topics,
            "opml_url": builder.base_url + "/opml", "search_url": builder.base_url + FeedSpec("new").path("atom"),
            "page": page, "pages": pages, "hubs": cfg.websub.hubs}


def render_index(builder: FeedBuilder, session: Session, page: int = 1, *, now: datetime | None = None) -> bytes:
    return _env.get_template("index.html").render(index_context(builder, session, page, now=now)).encode("utf-8")


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


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


_env.filters["utc"] = utc_text
_env.filters["lang"] = content_lang
