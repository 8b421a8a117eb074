"""feedsvc/config/edit.py: config.toml edits keep comments, are validated before writing, and leave a backup."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedsvc.config import load_config
from feedsvc.config.edit import append_source, set_listing_block
from feedsvc.errors import ConfigError
from tests.crawlutil import write_config

CONFIG = """# my feeds
[database]
url = "sqlite:///feeds.db"

[[sources]]
id = "a"  # the first one
title = "A"
start_urls = ["http://a.test/"]
[[sources.listings]]
id = "latest"
heading = "Latest"
"""
BLOCK = """[[sources]]
id = "b"
title = "B"
start_urls = ["http://b.test/"]
[[sources.listings]]
id = "news"
block = "ul.news"
"""


def test_append_source_keeps_comments_and_adds_the_block(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    cfg = append_source(path, BLOCK)
    assert [s.id for s in cfg.sources] == ["a", "b"]
    text = path.read_text()
    assert text.startswith("# my feeds") and '# the first one' in text
    assert [s.id for s in load_config(str(path)).sources] == ["a", "b"]


def test_an_edit_that_would_break_the_config_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    with pytest.raises(ConfigError, match="nothing was written"):
        append_source(path, BLOCK.replace('id = "b"', 'id = "a"'))  # a duplicate source id
    with pytest.raises(ConfigError, match="not valid TOML"):
        append_source(path, "[[sources]\n")
    with pytest.raises(ConfigError, match="no listing 'nope'"):
        set_listing_block(path, "a", "nope", "ul", datetime(2026, 1, 5, tzinfo=UTC))
    with pytest.raises(ConfigError, match="not found"):
        append_source(tmp_path / "missing.toml", BLOCK)
    assert path.read_text() == CONFIG


def test_set_listing_block_replaces_the_heading_and_keeps_a_backup(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    backup = set_listing_block(path, "a", "latest", "div.posts", datetime(2026, 1, 5, 9, 30, tzinfo=UTC))
    assert backup.name == "config.toml.20260105093000.bak" and backup.read_text() == CONFIG
    listing = load_config(str(path)).source("a").listing("latest")
    assert listing is not None and listing.block == "div.posts" and listing.heading is None
    assert '# healed 2026-01-05: was heading = "Latest"' in path.read_text()


def test_set_listing_block_keeps_the_comments_around_the_listing(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///x.db", [
        '[[sources]]\nid = "s"\ntitle = "S"\nstart_urls = ["http://s.test/"]\n  # the ranking box\n'
        '  [[sources.listings]]\n  id = "ranking"\n  block = "div.rank"\n'])
    before = config.read_text(encoding="utf-8")
    backup = set_listing_block(config, "s", "ranking", "div.rank-box", datetime(2026, 1, 5, tzinfo=UTC))
    assert backup.read_text(encoding="utf-8") == before
    text = config.read_text(encoding="utf-8")
    assert "# the ranking box" in text and 'block = "div.rank-box"' in text and 'was block = "div.rank"' in text
    assert load_config(config).source("s").listings[0].block == "div.rank-box"
