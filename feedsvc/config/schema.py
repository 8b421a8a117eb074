"""The config's shape: one pydantic model per TOML table (`AppConfig` and its parts), with the rules that span
keys (unique ids, heading-or-block). Plain data: nothing here reads files or the environment.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from feedsvc.config.cron import jitter_note
from feedsvc.config.fields import Cron, Selector, Slug, TimeZone, check_domain
from feedsvc.errors import ConfigError

ListingKind = Literal["recommended", "ranking", "latest", "related"]
# Path segments the feed routes use for themselves; a source named so would be shadowed.
RESERVED_SOURCE_IDS = frozenset({"new", "items", "topics"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = "sqlite:///feedsvc.db"  # as documented (the restructure renamed it by mistake)

    @field_validator("url")
    @classmethod
    def _printable(cls, value: str) -> str:
        # A NUL or other control character cannot be in a file name or a host; the drivers fail on it obscurely.
        if not value.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError(f"{value!r} is not a database URL (empty, or holds control characters); "
                             "e.g. 'sqlite:///feedsvc.db'")
        return value


class CrawlConfig(_Strict):
    user_agent: str = "feedsvc/0.1 (+https://github.com/feedsvc/feedsvc)"
    obey_robots: bool = True
    download_delay: float = Field(1.0, ge=0)
    autothrottle: bool = True
    concurrent_requests_per_domain: int = Field(2, ge=1, le=64)
    # Sources one crawler process crawls at once (each keeps its own per-site politeness); the rest wait.
    concurrent_sources: int = Field(100, ge=1, le=2000)
    follow_articles: bool = True
    max_pages: int = Field(200, ge=1)
    # Entries kept per listing page: one hostile 19 MB page once gave 170,000 items and +130 MB of database.
    max_items_per_listing: int = Field(500, ge=1)
    timeout: float = Field(30.0, gt=0)
    retries: int = Field(3, ge=0, le=20)
    http_cache_dir: str = ".feedsvc/httpcache"
    # Chromium for pages whose lists are filled by script (sources' `render`); Debian's `chromium` package.
    chromium_path: str = "/usr/bin/chromium"
    browser_pages: int = Field(2, ge=1, le=16)
    # Crawl nodes' Redis: scheduled crawls go on its list for `feedsvc worker` nodes (feedsvc.scheduling.queue).
    redis: str | None = None


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    base_url: str = ""
    cache_max_age: int = Field(300, ge=0)
    workers: int = Field(1, ge=1, le=64)
    publish_dir: str | None = None

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an absolute http(s) URL, e.g. 'https://feeds.example.org'")
        return value.rstrip("/")

    @property
    def public_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"


class SchedulerConfig(_Strict):
    timezone: TimeZone = "UTC"
    default_schedule: Cron = "0 3 * * *"
    jitter: int = Field(600, ge=0)
    misfire_grace_time: int = Field(6 * 3600, ge=1)
    max_tries: int = Field(3, ge=1)
    retry_backoff: int = Field(300, ge=0)
    crawl_timeout: int = Field(3600, ge=1)
    lease_ttl: int = Field(2 * 3600, ge=1)
    watch_config: bool = True



class RelatedConfig(_Strict):
    limit: int = Field(10, ge=1, le=100)
    inline_links: int = Field(5, ge=0, le=20)
    min_score: float = Field(0.08, ge=0, le=1)
    topic_threshold: float = Field(0.12, ge=0, le=1)


class WebsubConfig(_Strict):
    """WebSub (W3C): hubs that feeds advertise and that are told when a feed's content changed."""

    hubs: list[str] = []
    timeout: float = Field(5.0, gt=0, le=60)
    retries: int = Field(3, ge=0, le=10)
    backoff: float = Field(1.0, ge=0, le=60)
    batch_size: int = Field(20, ge=1, le=100)

    @field_validator("hubs")
    @classmethod
    def _hubs(cls, value: list[str]) -> list[str]:
        for hub in value:
            if not re.match(r"^https?://[^/\s]+", hub):
                raise ValueError(f"hub {hub!r} is not an absolute http(s) URL, e.g. 'https://pubsubhubbub.appspot.com/'")
        return list(dict.fromkeys(value))


class ArticleSelectors(_Strict):
    """Selectors for article pages; each left out falls back to a heuristic (h1, <article>, <time>...)."""

    title: Selector | None = None
    body: Selector | None = None
    date: Selector | None = None
    summary: Selector | None = None



class ListingConfig(_Strict):
    id: Slug
    kind: ListingKind = "latest"
    heading: str | None = None
    block: Selector | None = None
    item: Selector | None = None  # None: the repeated item element is detected (li, article, div cards, tr, dt)
    link: Selector | None = None
    title: Selector | None = None
    date: Selector | None = None
    pagination: Selector | None = None
    # URL patterns of the pages this list lives on (`/`, `/list/*`); None: wherever it has been found.
    pages: list[str] | None = None

    @field_validator("pages")
    @classmethod
    def _page_patterns(cls, patterns: list[str] | None) -> list[str] | None:
        for pattern in patterns or []:
            if not pattern.startswith(("/", "http://", "https://")):
                raise ValueError(f"{pattern!r} is not a URL pattern: start it with '/' (a path, '*' for any "
                                 "text) or http(s)://")
        return patterns

    @model_validator(mode="after")
    def _heading_or_block(self) -> ListingConfig:
        if bool(self.heading) == bool(self.block):
            raise ValueError("set exactly one of 'heading' (the block's heading text) or 'block' (a CSS/XPath selector)")
        return self


class SourceConfig(_Strict):
    id: Slug
    title: str = Field(min_length=1)
    start_urls: list[str] = Field(min_length=1)
    timezone: TimeZone = "UTC"
    drop_query_params: list[str] = []
    drop_tracking_params: bool = True
    render: Literal["auto", "browser", "never"] = "auto"
    schedule: Cron | None = None
    enabled: bool = True
    allowed_domains: list[str] | None = None
    # The crawl fence and suggest take a start URL's whole site (news. and war.example.com: one registrable
    # domain); true narrows them to the start URLs' exact hosts (plus allowed_domains).
    exact_hosts: bool = False
    download_delay: float | None = Field(None, ge=0)
    follow_articles: bool | None = None
    max_pages: int | None = Field(None, ge=1)
    max_items_per_listing: int | None = Field(None, ge=1)
    article_links: str | None = None
    article: ArticleSelectors = ArticleSelectors()
    listings: list[ListingConfig] = Field(min_length=1)


    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_SOURCE_IDS:
            raise ValueError(f"{value!r} is reserved (it names the feed route /feeds/{value}/...); choose another id")
        return value

    @field_validator("start_urls")
    @classmethod
    def _urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an absolute http(s) URL")
        return urls

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, domains: list[str] | None) -> list[str] | None:
        for domain in domains or []:
            check_domain(domain)
        return domains

    @field_validator("article_links")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _unique_listing_ids(self) -> SourceConfig:
        seen: set[str] = set()
        for listing in self.listings:
            if listing.id in seen:
                raise ValueError(f"listing id {listing.id!r} is used twice in source {self.id!r}")
            seen.add(listing.id)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def listing(self, listing_id: str) -> ListingConfig | None:
        return next((item for item in self.listings if item.id == listing_id), None)


class TopicConfig(_Strict):
    id: Slug
    title: str = Field(min_length=1)
    keywords: list[str] = []
    seed_urls: list[str] = []
    threshold: float | None = Field(None, ge=0, le=1)

    @model_validator(mode="after")
    def _has_definition(self) -> TopicConfig:
        if not self.keywords and not self.seed_urls:
            raise ValueError("a topic needs 'keywords' or 'seed_urls' (or both)")
        return self


class AppConfig(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    crawl: CrawlConfig = CrawlConfig()
    server: ServerConfig = ServerConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    related: RelatedConfig = RelatedConfig()
    websub: WebsubConfig = WebsubConfig()
    sources: list[SourceConfig] = []
    topics: list[TopicConfig] = []
    # Where the config came from; relative paths in it (sqlite files, cache dirs) resolve against its folder.
    path: str = Field("", exclude=True)

    @model_validator(mode="after")
    def _unique_ids(self) -> AppConfig:
        for kind, entries in (("source", self.sources), ("topic", self.topics)):
            seen: set[str] = set()
            for entry in entries:
                if entry.id in seen:
                    raise ValueError(f"{kind} id {entry.id!r} is used twice; ids must be unique")
                seen.add(entry.id)
        return self

    def source(self, source_id: str) -> SourceConfig:
        for source in self.sources:
            if source.id == source_id:
                return source
        known = ", ".join(s.id for s in self.sources) or "none"
        raise ConfigError(f"No source named {source_id!r} in {self.path or 'the config'}. Known sources: {known}.")

    def jitter_notes(self) -> list[str]:
        """One line per schedule in use that `[scheduler] jitter` would shift by a large part of its interval."""
        sched = self.scheduler
        schedules = dict.fromkeys(s.schedule or sched.default_schedule for s in self.sources if s.enabled)
        return [note for expr in schedules if (note := jitter_note(expr, sched.timezone, sched.jitter))]

    def topic(self, topic_id: str) -> TopicConfig | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    @property
    def base_dir(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def resolve_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path
