"""The config room: its shape (schema), reading it (load), writing it (edit), cron lines (cron), the crawl clock
(clock) and what rendering needs on this machine (probe). Callers import the public names from here."""

from feedsvc.config.clock import parse_now
from feedsvc.config.cron import cron_trigger, effective_jitter, jitter_note
from feedsvc.config.load import (
    CONFIG_ENV,
    DATABASE_URL_ENV,
    DEFAULT_CONFIG_PATH,
    database_setting,
    default_config_path,
    load_config,
    parse_config,
)
from feedsvc.config.probe import INSTALL_HINT, browser_missing, chromium_available
from feedsvc.config.schema import (
    RESERVED_SOURCE_IDS,
    AppConfig,
    ArticleSelectors,
    CrawlConfig,
    DatabaseConfig,
    ListingConfig,
    ListingKind,
    RelatedConfig,
    SchedulerConfig,
    ServerConfig,
    SourceConfig,
    TopicConfig,
    WebsubConfig,
)

__all__ = [
    "CONFIG_ENV", "DATABASE_URL_ENV", "DEFAULT_CONFIG_PATH", "INSTALL_HINT", "RESERVED_SOURCE_IDS", "AppConfig",
    "ArticleSelectors", "CrawlConfig", "DatabaseConfig", "ListingConfig", "ListingKind", "RelatedConfig",
    "SchedulerConfig", "ServerConfig", "SourceConfig", "TopicConfig", "WebsubConfig", "browser_missing",
    "chromium_available", "cron_trigger", "database_setting", "default_config_path", "effective_jitter", "jitter_note", "load_config",
    "parse_config", "parse_now",
]
