"""feedsvc/config/load.py: the config file and its environment variables are read in one place, and every
reading problem is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import load_config, parse_config
from feedsvc.errors import ConfigError


def test_database_url_env_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDSVC_DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert parse_config({"database": {"url": "sqlite:///x.db"}}).database.url == "postgresql+psycopg://u@h/db"


def test_config_path_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text('[server]\nport = 9999\n', encoding="utf-8")
    monkeypatch.setenv("FEEDSVC_CONFIG", str(path))
    assert load_config().server.port == 9999


def test_toml_syntax_error_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[crawl\nx = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not valid TOML"):
        load_config(path)
