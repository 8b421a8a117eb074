"""`feedsvc suggest` against a fixture server: robots obeyed, the block printed, appended with the config's
comments kept, then crawled; a second --write that would break the config writes nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from bench.suggest_quality import CORPUS
from feedsvc.config import load_config
from tests.support.crawls import FIXED_NOW, child_env, run_crawler, write_config


def feedsvc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feedsvc", *args], capture_output=True, text=True, timeout=120,
                          env=child_env())


def test_suggest_prints_writes_and_crawls_a_blog(make_site_server, tmp_path: Path) -> None:
    server = make_site_server(CORPUS / "blog_cards")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [])
    config.write_text("# my feeds\n" + config.read_text(), encoding="utf-8")
    done = feedsvc("suggest", server.base_url + "/", "--id", "blog", "--write", "--config", str(config))
    assert done.returncode == 0, done.stderr
    assert 'heading = "Featured"' in done.stdout and "Notes from a winter garden" in done.stdout
    assert any(r.path == "/robots.txt" for r in server.log)
    assert any("feedsvc-test" in (r.header("User-Agent") or "") for r in server.log)
    text = config.read_text(encoding="utf-8")
    assert text.startswith("# my feeds\n") and "# 6 items, first ones:" in text
    assert [lst.heading for lst in load_config(config).source("blog").listings] == ["Featured"]

    crawl = run_crawler(config, "blog", "--now", FIXED_NOW)
    assert crawl.returncode == 0, crawl.stderr
    with sqlite3.connect(tmp_path / "feeds.db") as db:
        rows = db.execute("SELECT i.url, i.title FROM items i JOIN listing_items l ON l.item_id = i.id "
                          "WHERE l.listing_id = 'recommended' ORDER BY l.rank").fetchall()
    assert [t for _, t in rows][:2] == ["Notes from a winter garden", "Pruning roses in the rain"]

    again = feedsvc("suggest", server.base_url + "/", "--id", "blog", "--write", "--config", str(config))
    errors = [line for line in again.stderr.splitlines() if line.startswith("error:")]
    assert again.returncode == 2 and len(errors) == 1 and "'blog' is used twice" in errors[0]
    assert config.read_text(encoding="utf-8") == text  # the failed check wrote nothing


def test_suggest_on_a_menus_page_finds_nothing(make_site_server, tmp_path: Path) -> None:
    server = make_site_server(CORPUS / "menus_tags")
    done = feedsvc("suggest", server.base_url + "/", "--config", str(tmp_path / "none.toml"))
    assert done.returncode == 1 and "[[sources" not in done.stdout and "no dated listing" in done.stderr


def test_suggest_write_starts_a_config_that_does_not_exist_yet(make_site_server, tmp_path: Path) -> None:
    server = make_site_server(CORPUS / "blog_cards")
    config = tmp_path / "config.toml"
    done = feedsvc("suggest", server.base_url + "/", "--id", "blog", "--write", "--config", str(config))
    assert done.returncode == 0, done.stderr
    cfg = load_config(config)
    assert [s.id for s in cfg.sources] == ["blog"] and cfg.source("blog").listings
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    again = feedsvc("suggest", server.base_url + "/", "--id", "blog", "--write", "--config", str(empty))
    assert again.returncode == 0, again.stderr
    assert [s.id for s in load_config(empty).sources] == ["blog"]
