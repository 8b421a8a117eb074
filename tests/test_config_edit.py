"""feedsvc/config/edit.py: config.toml edits keep comments, are validated before writing, and leave a backup."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedsvc.config import load_config
from feedsvc.config.edit import append_source, set_listing_block
from feedsvc.errors import ConfigError
from tests.support.crawls import write_config

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
    with pytest.raises(ConfigError, match="not found"):  # only appending a source can start a config
        set_listing_block(tmp_path / "missing.toml", "a", "latest", "ul", datetime(2026, 1, 5, tzinfo=UTC))
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


@pytest.mark.parametrize("existing", [None, "", "\n  \n", "# my feeds, to be filled\n"])
def test_append_source_starts_a_config_from_a_missing_or_empty_file(tmp_path: Path, existing: str | None) -> None:
    path = tmp_path / "new" / "config.toml"
    if existing is not None:
        path.parent.mkdir()
        path.write_text(existing, encoding="utf-8")
    append_source(path, BLOCK)
    cfg = load_config(path)
    assert [s.id for s in cfg.sources] == ["b"] and cfg.database.url == "sqlite:///feedsvc.db"
    text = path.read_text(encoding="utf-8")
    assert "config.example.toml" in text or "# my feeds, to be filled" in text


def test_a_file_with_keys_or_broken_toml_is_not_blank(tmp_path: Path) -> None:
    from feedsvc.config.edit import is_blank

    path = tmp_path / "config.toml"
    assert is_blank(path)
    path.write_text("# only a comment\n", encoding="utf-8")
    assert is_blank(path)
    path.write_text("[crawl\n", encoding="utf-8")
    assert not is_blank(path)
    with pytest.raises(ConfigError, match="Cannot read config file"):
        append_source(path, BLOCK)
    assert path.read_text(encoding="utf-8") == "[crawl\n"
