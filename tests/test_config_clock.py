"""feedsvc/config/clock.py: the crawl clock is aware UTC, and a bad value is a ConfigError."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from feedsvc.config import parse_now
from feedsvc.errors import ConfigError


def test_parse_now_is_aware_utc() -> None:
    assert parse_now(None) is None and parse_now("") is None
    assert parse_now("2026-01-05T08:00:00+08:00") == datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
    assert parse_now("2026-01-05T08:00:00") == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    with pytest.raises(ConfigError, match="not an ISO 8601 time"):
        parse_now("yesterday")
