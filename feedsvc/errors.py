"""Domain errors, and the one policy for retrying what may pass. Entry points print `error: <message>` and exit 2
for these errors, with no traceback.

The retry policy (tenacity's exponential wait: base, 2×base, 4×base…, honouring a server's Retry-After) is used
by the WebSub hub client and the scheduler's crawl retries alike; Scrapy keeps its own for page fetches.
"""

from __future__ import annotations

import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from enum import IntEnum

from tenacity import RetryCallState, wait_exponential

from feedsvc.text import whole_number


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
    """Exit codes of `python -m crawler.run`; the crawler sets them, feedsvc.scheduling.child reads them."""

    OK = 0  # every source ok or partial
    FAILED = 1  # a source failed or was aborted
    CONFIG = 2  # config or database error: nothing was crawled
    LEASE_HELD = 3  # another process holds a source's lease


def backoff(base: float, cap: float = 86400.0) -> wait_exponential:
    """The one backoff: wait `base` s after the first failed attempt, then twice as long each time, up to `cap`."""
    return wait_exponential(multiplier=base, min=0, max=cap)


def backoff_delay(attempt: int, base: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based), by `backoff(base)` (for retries that are
    stored jobs, not a loop)."""
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = max(1, attempt)
    return float(backoff(base)(state))


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (ASCII delta-seconds or an HTTP date; `now` a Unix time) for
    every client here (the crawler's retries, WebSub hubs); None when absent or garbled. Callers cap it."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    seconds = whole_number(text, 10**9, clamp=True)  # the one digit rule; longer than 31 years all mean "give up"
    if seconds is not None:
        return float(seconds)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
