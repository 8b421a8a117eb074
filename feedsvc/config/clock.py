"""The crawl clock: `--now` / FEEDSVC_NOW, the time a crawl pretends it is (reproducible runs and tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from feedsvc.errors import ConfigError


def parse_now(value: str | None) -> datetime | None:
    """A `--now` / FEEDSVC_NOW crawl clock (ISO 8601) as aware UTC; None when not given. A naive time is UTC."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--now {value!r} is not an ISO 8601 time, e.g. 2026-01-05T08:00:00+08:00") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
