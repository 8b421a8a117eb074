"""crawler/discover/heal.py: healing refuses to guess (a page without the items, two blocks sharing them)."""

from __future__ import annotations

from parsel import Selector

from bench.suggest_quality import CORPUS, load
from crawler.discover.heal import heal_listing


def test_healing_refuses_a_page_without_the_items() -> None:
    menus = load(CORPUS / "menus_tags" / "index.html")
    held = [("http://site.test/t/python", "python"), ("http://site.test/t/rust", "rust"), ("http://site.test/t/go", "go")]
    assert heal_listing(menus, "http://site.test/", held) is None  # a tag cloud holding some of them is not enough


def test_healing_refuses_when_two_blocks_share_the_items() -> None:
    items = "".join(f'<li><a href="/a/{i}">Article number {i} title</a> 2025-12-0{i}</li>' for i in range(1, 6))
    page = Selector(text=f'<div class="x"><ul>{items}</ul></div><div class="y"><ul>{items}</ul></div>')
    held = [(f"http://site.test/a/{i}", f"Article number {i} title") for i in range(1, 6)]
    assert heal_listing(page, "http://site.test/", held) is None
