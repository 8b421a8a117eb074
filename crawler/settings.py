"""`scrapy_settings(cfg, source)`: the only place AppConfig becomes Scrapy settings.

Values specific to feedsvc travel as FEEDSVC_* settings so components read them in `from_crawler`.
"""

from __future__ import annotations

import copy
from typing import Any

from scrapy.settings import BaseSettings, Settings, SettingsAttribute
from scrapy.settings.default_settings import EXTENSIONS_BASE

from crawler.browser import browser_settings
from feedsvc.config import AppConfig, SourceConfig
from feedsvc.store.db import resolve_url

# Rows per database transaction: big enough to amortise commits, small enough that a kill loses little.
STORE_BATCH_SIZE = 200

# Built for every Crawler and unused here: no feed exports, no job directory, no remote control (signals stop a
# crawl child), progress through our own events rather than a log line a minute. They are left out of the base
# list, not set to None: Scrapy imports every listed extension, None or not, to normalise the keys, and
# RemoteControl's import pulls in aiohttp (~130 ms and 10 MiB per crawl child).
UNUSED_EXTENSIONS = frozenset({
    "scrapy.extensions.feedexport.FeedExporter", "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.spiderstate.SpiderState", "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.logstats.LogStats",
})

PIPELINES = {
    "crawler.pipelines.ValidateArticle": 100,
    "crawler.pipelines.NormalizeArticle": 200,
    "crawler.pipelines.StoreArticle": 300,
}


def source_delay(cfg: AppConfig, source: SourceConfig) -> float:
    return cfg.crawl.download_delay if source.download_delay is None else source.download_delay


def source_max_pages(cfg: AppConfig, source: SourceConfig) -> int:
    return source.max_pages or cfg.crawl.max_pages


def source_max_items_per_listing(cfg: AppConfig, source: SourceConfig) -> int:
    return source.max_items_per_listing or cfg.crawl.max_items_per_listing


def source_follows_articles(cfg: AppConfig, source: SourceConfig) -> bool:
    return cfg.crawl.follow_articles if source.follow_articles is None else source.follow_articles


def http_cache_dir(cfg: AppConfig, source: SourceConfig) -> str:
    return str(cfg.resolve_path(cfg.crawl.http_cache_dir) / source.id)


def scrapy_settings(cfg: AppConfig, source: SourceConfig) -> dict[str, Any]:
    crawl = cfg.crawl
    delay = source_delay(cfg, source)
    max_pages = source_max_pages(cfg, source)
    per_domain = crawl.concurrent_requests_per_domain
    return {
        "BOT_NAME": "feedsvc",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "ROBOTSTXT_USER_AGENT": crawl.user_agent,
        # Politeness: a fixed delay per domain, stretched further by AutoThrottle when the site slows down.
        "DOWNLOAD_DELAY": delay,
        "DOWNLOAD_DELAY_JITTER": 0.5 if delay > 0 else 0.0,  # ±50%, so requests do not tick like a clock
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle and delay > 0,
        "AUTOTHROTTLE_START_DELAY": max(delay, 0.1),
        "AUTOTHROTTLE_MAX_DELAY": max(60.0, delay * 10),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(per_domain),
        "CONCURRENT_REQUESTS_PER_DOMAIN": per_domain,
        "DOWNLOADER": "crawler.middlewares.PoliteDownloader",  # holds a slot to its concurrency without a delay
        "CONCURRENT_REQUESTS": max(16, per_domain),
        # Scrapy starts CONCURRENT_ITEMS asyncio tasks for *every* response, however few items it yields (its
        # default, 100, cost ~0.5 ms CPU per page). Our pipelines are CPU-bound and write in batches under one
        # lock, so more than a few items of one page in flight gains nothing.
        "CONCURRENT_ITEMS": 8,
        # Scrapy parses each callback's source (inspect + ast) to warn about `return value` in generators, and
        # caches the answer for only 128 bound methods: with hundreds of sources at once every response paid
        # ~2 ms for it (16% of a 200-source crawl's CPU under cProfile). Our callbacks are ours; no need.
        "WARN_ON_GENERATOR_RETURN_VALUE": False,
        "DOWNLOAD_TIMEOUT": crawl.timeout,
        "DNS_TIMEOUT": min(crawl.timeout, 60.0),
        "DOWNLOAD_MAXSIZE": 20 * 1024 * 1024,  # a listing page is never this big; protects memory
        "DOWNLOAD_WARNSIZE": 5 * 1024 * 1024,
        "REDIRECT_MAX_TIMES": 10,
        # Retries on 5xx and 429 with backoff that honours Retry-After (crawler/middlewares.py).
        "RETRY_ENABLED": crawl.retries > 0,
        "RETRY_TIMES": crawl.retries,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "RETRY_BACKOFF_BASE": 0.5,
        "RETRY_BACKOFF_MAX": 60.0,
        "RETRY_AFTER_MAX": 300.0,
        "RETRY_GIVE_UP_LOG_LEVEL": "WARNING",
        "DOWNLOADER_MIDDLEWARES": {
            # First on the engine side: nothing off the source's hosts is fetched, robots.txt included.
            "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,  # bypassed by dont_filter; ours is not
            "crawler.offsite.FenceMiddleware": 50,
            "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
            "crawler.offsite.SafeMetaRefreshMiddleware": 580,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawler.middlewares.BackoffRetryMiddleware": 550,
            "scrapy.downloadermiddlewares.httpcache.HttpCacheMiddleware": None,
            "crawler.middlewares.RevalidatingCacheMiddleware": 900,
        },
        "SPIDER_MIDDLEWARES": {"crawler.offsite.FenceSpiderMiddleware": 550},
        # Conditional GET: cached pages are revalidated with If-None-Match / If-Modified-Since (304 = cheap).
        "HTTPCACHE_ENABLED": True,
        "HTTPCACHE_POLICY": "crawler.middlewares.RevalidatePolicy",
        "HTTPCACHE_STORAGE": "crawler.middlewares.TolerantCacheStorage",
        "HTTPCACHE_DIR": http_cache_dir(cfg, source),
        "HTTPCACHE_EXPIRATION_SECS": 0,
        "HTTPCACHE_GZIP": True,
        "ITEM_PIPELINES": dict(PIPELINES),
        # max_pages is enforced by the spider's request budget; this is only a backstop (retries count too).
        "CLOSESPIDER_PAGECOUNT": max_pages * (crawl.retries + 1) + 1,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # a crawl child is controlled by signals, not by an open port
        "EXTENSIONS_BASE": {name: order for name, order in EXTENSIONS_BASE.items() if name not in UNUSED_EXTENSIONS},
        "STATS_DUMP": False,  # a pretty-printed stats dict per source, logged at INFO and read by nobody
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        "LOG_STDOUT": False,
        "FEEDSVC_SOURCE_ID": source.id,
        "FEEDSVC_TIMEZONE": source.timezone,
        "FEEDSVC_START_URLS": list(source.start_urls),  # with FEEDSVC_ALLOWED_DOMAINS: the crawl fence
        "FEEDSVC_ALLOWED_DOMAINS": list(source.allowed_domains or ()),
        "FEEDSVC_EXACT_HOSTS": source.exact_hosts,
        "FEEDSVC_DROP_QUERY_PARAMS": list(source.drop_query_params),
        "FEEDSVC_DROP_TRACKING_PARAMS": source.drop_tracking_params,
        "FEEDSVC_DATABASE_URL": resolve_url(cfg.database.url, cfg.base_dir),
        "FEEDSVC_BATCH_SIZE": STORE_BATCH_SIZE,
        "FEEDSVC_MAX_ITEMS_PER_LISTING": source_max_items_per_listing(cfg, source),
        # Only a source that may render gets the browser's download handler (it starts Chromium on first use).
        **browser_settings(cfg, source),
    }


# Values that are never shared mutable state: a Settings copy may keep them as they are.
_ATOMS = (str, bytes, int, float, bool, type(None), frozenset)


def _copy_settings(settings: BaseSettings) -> Any:
    """A copy of `settings` that copies only mutable values (Scrapy's `copy()` deep-copies all ~450 of them,
    nested priority dicts included: ~10 ms a Crawler, which each source of a big crawl pays twice)."""
    clone = copy.copy(settings)
    clone.attributes = {}
    for name, attr in settings.attributes.items():
        value = attr.value
        if isinstance(value, BaseSettings):
            value = _copy_settings(value)
        elif not isinstance(value, _ATOMS):
            value = copy.deepcopy(value)
        twin = SettingsAttribute.__new__(SettingsAttribute)
        twin.value, twin.priority = value, attr.priority
        clone.attributes[name] = twin
    return clone


class CrawlSettings(Settings):
    """Scrapy's Settings with a cheaper `copy()` (Crawler copies the settings it is given)."""

    def copy(self) -> Any:
        return _copy_settings(self)


_DEFAULTS: list[CrawlSettings] = []


def crawler_settings(values: dict[str, Any]) -> CrawlSettings:
    """Scrapy's defaults overlaid with `values` (from scrapy_settings), for one source's Crawler: the defaults
    are read from Scrapy's module once per process, not once per source."""
    if not _DEFAULTS:
        _DEFAULTS.append(CrawlSettings())
    settings: CrawlSettings = _DEFAULTS[0].copy()
    settings.setdict(values, priority="project")
    return settings


# -- many sources in one Crawler (crawler/shared.py) ---------------------------------------------------------------
def shares_crawler(cfg: AppConfig, source: SourceConfig) -> bool:
    """Can the source crawl inside the shared Crawler? Not with a delay other than the crawl's: a slot per host
    carries the shared Crawler's delay."""
    return source_delay(cfg, source) == cfg.crawl.download_delay


def source_values(cfg: AppConfig, source: SourceConfig) -> dict[str, Any]:
    """A source's own settings inside the shared Crawler: its FEEDSVC_* values and its HTTP cache."""
    values = scrapy_settings(cfg, source)
    own = {k: v for k, v in values.items() if k.startswith(("FEEDSVC_", "HTTPCACHE_"))}
    own.setdefault("FEEDSVC_BROWSER", False)  # the shared Crawler may render for others; this one never does
    return own


def shared_settings(cfg: AppConfig, source: SourceConfig, window: int) -> dict[str, Any]:
    """The shared Crawler's settings (`source` is any source it crawls: they share delay and download handlers):
    the routers in place of the per-source components, and room in the downloader for every source of the window."""
    # The browser's download handler whenever a browser is installed, for the sources that may render; it
    # fetches other pages as plain HTTP and starts Chromium only at the first page it renders.
    values = {**scrapy_settings(cfg, source), **browser_settings(cfg, source.model_copy(update={"render": "auto"}))}
    per_domain = cfg.crawl.concurrent_requests_per_domain
    middlewares = dict(values["DOWNLOADER_MIDDLEWARES"])
    middlewares.update({"crawler.offsite.FenceMiddleware": None, "crawler.shared.SourceFenceRouter": 50,
                        "crawler.middlewares.RevalidatingCacheMiddleware": None, "crawler.shared.SourceCacheRouter": 900})
    values.update({
        "DOWNLOADER_MIDDLEWARES": middlewares,
        "SPIDER_MIDDLEWARES": {"crawler.offsite.FenceSpiderMiddleware": None, "crawler.shared.SourceLinkRouter": 550},
        "ITEM_PIPELINES": {"crawler.shared.SourcePipelines": 300},
        "SCHEDULER": "crawler.shared.CountingScheduler",
        "HTTPCACHE_ENABLED": False,  # each source's own cache, through SourceCacheRouter
        # Requests waiting in a slot for their delay count as active: each source of the window needs room.
        "CONCURRENT_REQUESTS": max(16, 2 * window * per_domain),
        "CLOSESPIDER_PAGECOUNT": 0,  # each source's budget is its spider's
        "MEMUSAGE_ENABLED": False,
        # robots.txt is asked for on no source's behalf: one cache for every host's (ids cannot start with "_").
        "FEEDSVC_ROBOTS_CACHE_DIR": str(cfg.resolve_path(cfg.crawl.http_cache_dir) / "_robots"),
    })
    return values
