"""feedsvc/config/probe.py: what rendering needs is named when it is missing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from feedsvc.config import INSTALL_HINT, browser_missing, chromium_available


def test_a_missing_chromium_names_the_package_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "no-chromium"
    assert not chromium_available(str(missing))
    message = browser_missing(str(missing))
    assert message is not None and INSTALL_HINT in message and str(missing) in message


def test_a_file_that_cannot_run_is_not_chromium(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("", encoding="utf-8")
    fake.chmod(0o644)
    assert not chromium_available(str(fake))
    fake.chmod(0o755)
    assert chromium_available(str(fake))


@pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="playwright not installed")
def test_nothing_is_missing_with_chromium_and_playwright(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("", encoding="utf-8")
    fake.chmod(0o755)
    assert browser_missing(str(fake)) is None
