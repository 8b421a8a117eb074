"""Healing end to end: a listing configured by its class selector, crawled, then the site renamed its classes.
The next crawl finds the block again from what the listing held (warning recorded, items still stored), and
`feedsvc heal` writes the new block into the config with a backup. A page without those items heals nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.support.crawls import FIXED_NOW, child_env, run_crawler, write_config
from tests.support.site_server import Page

NEWS = Path(__file__).parent / "data" / "suggest" / "news_front"
SOURCE = """[[sources]]
id = "gazette"
title = "Gazette"
start_urls = ["{url}/"]
follow_articles = false
  # the "Most read" box
  [[sources.listings]]
  id = "most-read"
  kind = "ranking"
  block = "div.rank-list"
"""


def feedsvc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feedsvc", *args], capture_output=True, text=True, timeout=120,
                          env=child_env())


def ranking(db: Path, run: int) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT i.title FROM items i JOIN listing_items l ON l.item_id = i.id "
                            "WHERE l.listing_id = 'most-read' AND l.last_run_id = ? ORDER BY l.rank", (run,))
        return [title for (title,) in rows]


def errors(db: Path, run: int) -> list[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute("SELECT kind, message FROM crawl_errors WHERE run_id = ?", (run,)))


def test_renamed_block_is_healed_then_written(make_site_server, tmp_path: Path) -> None:
    server = make_site_server(NEWS)
    db = tmp_path / "feeds.db"
    config = write_config(tmp_path, f"sqlite:///{db}", [SOURCE.format(url=server.base_url)])
    first = run_crawler(config, "gazette", "--now", FIXED_NOW)
    assert first.returncode == 0, first.stderr
    most_read = ranking(db, 1)
    assert most_read[:2] == ["Port traffic hits record in December", "Council approves new bridge budget"]

    server.pages["/"] = Page((NEWS / "renamed.html").read_bytes(), "text/html; charset=utf-8")
    second = run_crawler(config, "gazette", "--now", FIXED_NOW)
    assert second.returncode == 0, second.stderr
    assert ranking(db, 2) == most_read  # found again for this run
    kinds = errors(db, 2)
    assert [k for k, _ in kinds] == ["healed"]
    assert "listing 'most-read' healed: block now `div.popular-box`" in kinds[0][1]

    status = feedsvc("status", "--config", str(config))
    assert "healed: block now `div.popular-box`" in " ".join(status.stdout.split())  # the proposal, shown

    before = config.read_text(encoding="utf-8")
    healed = feedsvc("heal", "gazette", "--config", str(config))
    assert healed.returncode == 0, healed.stderr
    assert "block now `div.popular-box`" in healed.stdout
    text = config.read_text(encoding="utf-8")
    assert 'block = "div.popular-box"' in text and '# the "Most read" box' in text
    (backup,) = tmp_path.glob("config.toml.*.bak")
    assert backup.read_text(encoding="utf-8") == before

    third = run_crawler(config, "gazette", "--now", FIXED_NOW)
    assert third.returncode == 0 and errors(db, 3) == [] and ranking(db, 3) == most_read


def test_page_without_the_items_heals_nothing(make_site_server, tmp_path: Path) -> None:
    server = make_site_server(NEWS)
    db = tmp_path / "feeds.db"
    config = write_config(tmp_path, f"sqlite:///{db}", [SOURCE.format(url=server.base_url)])
    assert run_crawler(config, "gazette", "--now", FIXED_NOW).returncode == 0
    menus = Path(__file__).parent / "data" / "suggest" / "menus_tags" / "index.html"
    server.pages["/"] = Page(menus.read_bytes(), "text/html; charset=utf-8")
    assert run_crawler(config, "gazette", "--now", FIXED_NOW).returncode == 0
    assert [k for k, _ in errors(db, 2)] == ["selector"]  # today's "block not found" warning stands
    status = " ".join(feedsvc("status", "--config", str(config)).stdout.split())
    assert "warning gazette: listing 'most-read' yielded items before but none in the last run" in status
    before = config.read_text(encoding="utf-8")
    healed = feedsvc("heal", "gazette", "--config", str(config))
    assert healed.returncode == 1 and "nothing healed" in healed.stdout
    assert config.read_text(encoding="utf-8") == before and not list(tmp_path.glob("*.bak"))
