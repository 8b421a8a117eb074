"""Config loading and validation: `load_config(path) -> AppConfig`, the only reader of the config file and env.

Every error names its key path (`sources[1].listings[0].block`) and what is wrong, so an admin can fix the
TOML without reading code. Nothing here writes anywhere.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from feedsvc.errors import ConfigError

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

DEFAULT_CONFIG_PATH = "config.toml"
CONFIG_ENV = "FEEDSVC_CONFIG"
DATABASE_URL_ENV = "FEEDSVC_DATABASE_URL"

ListingKind = Literal["recommended", "ranking", "latest", "related"]
Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
# Path segments the feed routes use for themselves; a source named so would be shadowed.
RESERVED_SOURCE_IDS = frozenset({"new", "items", "topics"})
_SLUG_HINT = "use lowercase letters, digits, '-' or '_' (it appears in feed URLs)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_selector(value: str) -> str:
    """Compile a CSS (or XPath, when it starts with / or '(') selector so typos fail at load time."""
    value = value.strip()
    if not value:
        raise ValueError("selector is empty")
    if value.startswith(("/", "(", "./")):
        from lxml import etree

        try:
            etree.XPath(value)
        except etree.XPathSyntaxError as exc:
            raise ValueError(f"invalid XPath {value!r}: {exc}") from None
        return value
    from parsel.csstranslator import HTMLTranslator

    try:
        HTMLTranslator().css_to_xpath(value)
    except Exception as exc:  # cssselect raises several unrelated types for syntax errors
        raise ValueError(f"invalid CSS selector {value!r}: {exc}") from None
    return value


# crontab counts weekdays from Sunday=0 (7 too); APScheduler 3 counts from Monday=0. Names mean the same to both.
_WEEKDAYS = {"0": "sun", "1": "mon", "2": "tue", "3": "wed", "4": "thu", "5": "fri", "6": "sat", "7": "sun"}


def cron_trigger(expr: str, timezone: str = "UTC", jitter: int = 0) -> CronTrigger:
    """A CronTrigger for a standard 5-field crontab line (Sunday = 0 or 7), in `timezone`, with `jitter` seconds.

    The one cron parser: the config check and the scheduler's jobs both use it, so what loads also runs.
    Raises ValueError naming the expression.
    """
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression {expr!r} needs 5 fields (minute hour day month weekday)")
    minute, hour, day, month, weekday = fields
    # Single weekday digits become names; a step value after '/' stays a number.
    weekday = re.sub(r"(?<![/\d])[0-7](?!\d)", lambda m: _WEEKDAYS[m.group(0)], weekday)
    return CronTrigger(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday,
                       timezone=timezone, jitter=jitter or None)


def _check_cron(value: str) -> str:
    try:
        cron_trigger(value)
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {value!r} ({exc}); e.g. '30 2 * * *' is 02:30 daily") from None
    return value


def parse_now(value: str | None) -> datetime | None:
    """A `--now` / FEEDSVC_NOW crawl clock (ISO 8601) as aware UTC; None when not given. A naive time is UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--now {value!r} is not an ISO 8601 time, e.g. 2026-01-05T08:00:00+08:00") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai' or 'UTC'") from None
    return value


# A host name (letters, digits, '-', dots; IDNs as written) or an IP literal; no scheme, port, path or wildcard.
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?$")


def _check_domain(value: str) -> str:
    """An allowed_domains entry: the crawl fence (crawler/offsite.py) allows it and its subdomains, so an empty
    string, '*' or a URL would silently allow nothing or everything."""
    import ipaddress

    hint = "write a bare host name such as 'example.com' (it allows its subdomains too)"
    if not value.strip():
        raise ValueError(f"allowed_domains entry is empty; {hint}")
    try:
        ipaddress.ip_address(value.strip("[]"))
        return value
    except ValueError:
        pass
    if not _DOMAIN.match(value):
        raise ValueError(f"allowed_domains entry {value!r} is not a host name; {hint}")
    return value


Selector = Annotated[str, AfterValidator(_check_selector)]
Cron = Annotated[str, AfterValidator(_check_cron)]
TimeZone = Annotated[str, AfterValidator(_check_timezone)]


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
            _check_domain(domain)
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

    def topic(self, topic_id: str) -> TopicConfig | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    @property
    def base_dir(self) -> Path:
        return Path(self.path).resolve().parent if self.path else Path.cwd()

    def resolve_path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path


def default_config_path() -> str:
    return os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_PATH


def _format_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part.startswith(("function-after", "function-before", "model")):
            continue  # pydantic's validator wrappers are noise for an admin
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """`sources[2] "gwsite"` style context so an admin finds the block fast."""
    if len(loc) >= 2 and loc[0] in ("sources", "topics") and isinstance(loc[1], int):
        entries = raw.get(str(loc[0]))
        if isinstance(entries, list) and loc[1] < len(entries) and isinstance(entries[loc[1]], dict):
            name = entries[loc[1]].get("id")
            if isinstance(name, str):
                return f' ({loc[0]}[{loc[1]}] is "{name}")'
    return ""


def _message(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is missing"
    if kind == "extra_forbidden":
        return "is not a known key (check its spelling against config.example.toml)"
    if kind == "string_pattern_mismatch":
        return f"{error.get('input')!r} is not a valid id: {_SLUG_HINT}"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


def parse_config(raw: dict[str, Any], path: str = "") -> AppConfig:
    """Validate a parsed TOML document; raises ConfigError listing every problem, one per line."""
    data = dict(raw)
    env_url = os.environ.get(DATABASE_URL_ENV)
    if env_url:
        database = dict(data.get("database") or {})
        database["url"] = env_url
        data["database"] = database
    try:
        return AppConfig.model_validate({**data, "path": path})
    except ValidationError as exc:
        label = path or "config"
        lines = [
            f"{label}: {_format_loc(tuple(err['loc']))}: {_message(err)}{_describe(raw, tuple(err['loc']))}"
            for err in exc.errors()
        ]
        raise ConfigError("\n".join(lines) + "\nSee config.example.toml for every key.") from None


def load_config(path: str | os.PathLike[str] | None = None) -> AppConfig:
    """Read and validate the config at `path` (default: $FEEDSVC_CONFIG, else ./config.toml)."""
    config_path = Path(path if path is not None else default_config_path())
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"Config file {config_path} not found. Copy config.example.toml to {config_path}, "
            f"or pass --config PATH (or set {CONFIG_ENV})."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read config file {config_path}: {exc}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses per nesting level: `a = [[[[…` thousands deep
        raise ConfigError(f"{config_path}: not valid TOML: nested too deeply") from None
    if not raw:
        raise ConfigError(f"{config_path} is empty. Copy config.example.toml to {config_path} and add a "
                          "[[sources]] entry.")
    return parse_config(raw, str(config_path))


# What a machine needs to render pages (a source's `render`): checked by the crawler before it starts a browser
# and by `feedsvc demo` before it promises a rendered ranking, so both say the same thing.
INSTALL_HINT = "apt-get install chromium"


def chromium_available(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def browser_missing(chromium_path: str) -> str | None:
    """What to install so pages can be rendered, or None when Chromium and scrapy-playwright are both there."""
    import importlib.util

    if not chromium_available(chromium_path):
        return f"{INSTALL_HINT} (or set crawl.chromium_path; looked for {chromium_path})"
    if importlib.util.find_spec("scrapy_playwright") is None:
        return "pip install 'feedsvc[browser]' (scrapy-playwright)"
    return None
