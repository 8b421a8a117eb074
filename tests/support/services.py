"""Tests that need a service or program this machine may lack (PostgreSQL, Redis, newsboat, Chromium).

On a developer's machine such a test skips and says what to install. Under CI (CI=true, as `.ci/run` runs)
it fails instead: CI installs and starts everything, so a missing service there is a broken CI, not a skip.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

# The Redis the distributed-crawl tests use (.ci/run sets it; database 15 keeps them off anything else).
REDIS_URL = os.environ.get("FEEDSVC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> NoReturn:
    """Skip with `reason`, or fail with it under CI."""
    if in_ci():
        pytest.fail(f"{reason} — CI must run this test (see .ci/run)", pytrace=False)
    pytest.skip(reason)
