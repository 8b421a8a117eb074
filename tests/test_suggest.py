"""`feedsvc suggest` and healing: the corpus benchmark's smoke run (targets as asserts), the real command against
a fixture server (robots obeyed, block appended with its comments kept, then crawled), and healing decisions."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from parsel import Selector

from bench.suggest_quality import CORPUS, load, run
from crawler.discover.heal import heal_listing
from feedsvc.config import load_config
from feedsvc.config_edit import set_listing_block
from tests.crawlutil import FIXED_NOW, child_env, run_crawler, write_config

LAYOUTS = sorted(p for p in CORPUS.iterdir() if (p / "truth.json").exists())


def feedsvc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "feedsvc", *args], capture_output=True, text=True, timeout=120,
                          env=child_env())


def test_corpus_has_the_layouts_the_issue_names() -> None:
    assert {p.name for p in LAYOUTS} >= {"gbk_portal", "blog_cards", "table_rows", "dl_archive", "news_front",
                                         "menus_tags", "script_ranking"}


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda p: p.name)
def test_suggest_quality_targets(layout: Path) -> None:
    (result,) = run([layout])
    assert result.found == result.real
    assert result.right >= 0.95 * result.items
    assert result.wrong_blocks == []  # no navigation, tag cloud or link farm suggested
    assert result.script_flagged == result.script_real
    assert result.healed_wrong == 0
    renamed = (layout / "truth.json").read_text().count('"renamed"')
    assert result.healed + result.flagged + result.still_found == (result.real if renamed else 0)


def test_healing_refuses_a_page_without_the_items() -> None:
    menus = load(CORPUS / "menus_tags" / "index.html")
    held = [("http://site.test/t/python", "python"), ("http://site.test/t/rust", "rust"), ("http://site.test/t/go", "go")]
    assert heal_listing(menus, "http://site.test/", held) is None  # a tag cloud holding some of them is not enough


def test_healing_refuses_when_two_blocks_share_the_items() -> None:
    items = "".join(f'<li><a href="/a/{i}">Article number {i} title</a> 2025-12-0{i}</li>' for i in range(1, 6))
    page = Selector(text=f'<div class="x"><ul>{items}</ul></div><div class="y"><ul>{items}</ul></div>')
    held = [(f"http://site.test/a/{i}", f"Article number {i} title") for i in range(1, 6)]
    assert heal_listing(page, "http://site.test/", held) is None


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


def test_heal_writes_the_block_and_keeps_a_backup(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///x.db", [
        '[[sources]]\nid = "s"\ntitle = "S"\nstart_urls = ["http://s.test/"]\n  # the ranking box\n'
        '  [[sources.listings]]\n  id = "ranking"\n  block = "div.rank"\n'])
    before = config.read_text(encoding="utf-8")
    from datetime import UTC, datetime

    backup = set_listing_block(config, "s", "ranking", "div.rank-box", datetime(2026, 1, 5, tzinfo=UTC))
    assert backup.read_text(encoding="utf-8") == before
    text = config.read_text(encoding="utf-8")
    assert "# the ranking box" in text and 'block = "div.rank-box"' in text and 'was block = "div.rank"' in text
    assert load_config(config).source("s").listings[0].block == "div.rank-box"
