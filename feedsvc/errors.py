"""Domain errors. Entry points print `error: <message>` and exit 2 for these, with no traceback."""

from __future__ import annotations

from enum import IntEnum


class FeedsvcError(Exception):
    """Base for every error a user can act on; the message says what failed and what to do."""

    exit_code = 2


class ConfigError(FeedsvcError):
    """The config file is missing, unreadable or invalid."""


class StorageError(FeedsvcError):
    """The database could not be opened, migrated, read or written."""


class FeedNotFound(FeedsvcError):
    """No feed (source, listing, topic or item) matches the requested path."""


class BadRequest(FeedsvcError):
    """A query parameter has a value we cannot use."""


class CrawlExit(IntEnum):
    """Exit codes of `python -m crawler.run`; the crawler sets them, the launcher reads them."""

    OK = 0  # every source ok or partial
    FAILED = 1  # a source failed or was aborted
    CONFIG = 2  # config or database error: nothing was crawled
    LEASE_HELD = 3  # another process holds a source's lease
