"""SQLAlchemy 2.x tables and the status values stored in them. Every datetime column holds timezone-aware UTC
(stored naive-UTC on SQLite).

Holds table definitions only; queries live in feedsvc/store/.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The columns' values live apart so that launchers import them without SQLAlchemy; re-exported for the store.
from feedsvc.status import ErrorKind as ErrorKind
from feedsvc.status import RunStatus as RunStatus

# Integer on SQLite so the column aliases ROWID (autoincrement); 64-bit elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Refuses naive datetimes on the way in and always hands back aware UTC, whatever the backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass timezone-aware UTC")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Source(Base):
    """One configured site. Rows outlive their config entry (active=False) so items keep their source."""

    __tablename__ = "sources"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    site_url: Mapped[str] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(16))
    last_error: Mapped[str | None] = mapped_column(Text)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    next_run_at: Mapped[datetime | None]


class Item(Base):
    """An article, unique by canonical URL. `first_seen` never changes once set."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_first_seen", "first_seen"),
        Index("ix_items_source_first_seen", "source_id", "first_seen"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(Text)
    published: Mapped[datetime | None]
    date_text: Mapped[str | None] = mapped_column(String(200))
    # 'listing' (a month-day we placed in a year) or 'article' (the page's own, fuller date, which wins).
    date_source: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text)
    content: Mapped[str | None] = mapped_column(Text)
    article_fetched_at: Mapped[datetime | None]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Set when this item is a near-duplicate of an earlier one; feeds show only the earlier one.
    duplicate_of: Mapped[int | None] = mapped_column(BigId, ForeignKey("items.id", ondelete="SET NULL"))
    # The URL the feed entry id was made from, when `url` changed since (a merge onto the canonical URL):
    # readers keep the entry they already have.
    feed_key: Mapped[str | None] = mapped_column(String(2048))


class ItemAlias(Base):
    """Another URL of an item (the link a listing gave before redirects, a variant its canonical replaced)."""

    __tablename__ = "item_aliases"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"), index=True)


class ListingPage(Base):
    """A listing page a listing was found on, so a later crawl knows a block missing there is a problem."""

    __tablename__ = "listing_pages"

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    listing_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    page_url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    last_found: Mapped[datetime]


class ListingItem(Base):
    """Current state of an item in one listing: when it entered, when last seen there, its latest rank."""

    __tablename__ = "listing_items"
    __table_args__ = (
        Index("ix_listing_items_feed", "source_id", "listing_id", "first_seen"),
        # Which listings an item is in (feed entry categories): the primary key starts with source_id.
        Index("ix_listing_items_item", "item_id"),
    )

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    listing_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int | None] = mapped_column(Integer)
    # When `rank` last took a different value: a re-ranking changes the entry, so it moves its `updated`.
    rank_changed_at: Mapped[datetime | None]
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    last_run_id: Mapped[int | None] = mapped_column(BigId)


class Appearance(Base):
    """History: each time a crawl run saw an item in a listing, with its rank then."""

    __tablename__ = "appearances"
    __table_args__ = (Index("ix_appearances_listing", "source_id", "listing_id", "seen_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    listing_id: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int | None] = mapped_column(Integer)
    seen_at: Mapped[datetime]


class RelatedLink(Base):
    """from_item → to_item. origin 'site' is the page's own "you may also like"; 'computed' is ours."""

    __tablename__ = "related_links"
    __table_args__ = (Index("ix_related_links_to", "to_item_id"),)

    from_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    to_item_id: Mapped[int] = mapped_column(BigId, ForeignKey("items.id", ondelete="CASCADE"), primary_key=True)
    origin: Mapped[str] = mapped_column(String(16), primary_key=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    rank: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime]


class RelatedTerm(Base):
    """A relatedness term (feedsvc/related/tokens.py key): how many items hold it, and the items whose signature
    (heaviest TF-IDF terms) includes it, with their weights (feedsvc/related/postings.py: packed records).

    Written by `feedsvc related --rebuild` and appended to after every crawl, so a crawl's refresh reads only
    its new items' terms instead of rebuilding the collection's statistics. The row with key -1 holds the
    number of items counted (its df).
    """

    __tablename__ = "related_terms"

    key: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    df: Mapped[int] = mapped_column(BigInteger)
    postings: Mapped[bytes] = mapped_column(LargeBinary)


class CrawlRun(Base):
    """One crawl of one source. status: running | ok | partial | failed | aborted."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.RUNNING.value)
    trigger: Mapped[str] = mapped_column(String(16), default="manual")
    pid: Mapped[int | None] = mapped_column(Integer)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    not_modified: Mapped[int] = mapped_column(Integer, default=0)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    items_new: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str | None] = mapped_column(Text)
    # listing id → items extracted in this run; how `status` spots a listing whose selector broke.
    listing_counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CrawlErrorRecord(Base):
    """One problem met during a run (HTTP error, timeout, selector matched nothing...)."""

    __tablename__ = "crawl_errors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime]


class Lease(Base):
    """A time-limited lock (e.g. 'crawl:gwsite') shared by every process using this database."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    owner: Mapped[str] = mapped_column(String(255))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class MetaValue(Base):
    """Small key/value facts, e.g. 'data_version' bumped whenever a crawl changes what feeds show."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class WebsubAnnouncement(Base):
    """The latest announcement of one feed URL (topic) to one WebSub hub. `digest` is the content last
    announced successfully: a feed is announced again only when its content digest differs (or the last try
    failed, which leaves `digest` as it was)."""

    __tablename__ = "websub_announcements"

    hub: Mapped[str] = mapped_column(String(1024), primary_key=True)
    topic: Mapped[str] = mapped_column(String(1024), primary_key=True)
    digest: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # ok | failed
    http_status: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ok_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
