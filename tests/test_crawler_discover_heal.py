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


def test_a_small_ranking_of_known_items_does_not_stop_the_redesigned_list_from_healing() -> None:
    # Real-shaped: an article page's 为您推荐 cards (10, relative dates) and, beside them, a ranking box showing
    # three of the same stories; the redesign renamed every class.
    url = "https://news.example.com/20/0704/a.html"
    items = [(f"https://news.example.com/20/0704/{n}.html", f"第{n}条推荐新闻的标题文字") for n in range(10)]
    cards = "".join(f'<div class="x-card"><h3><a href="{u}">{t}</a></h3><a href="/c/news">新闻</a>'
                    f'<div class="x-time">{n + 1}小时前</div></div>' for n, (u, t) in enumerate(items))
    ranking = "".join(f'<li><a href="{u}">{t}</a></li>' for u, t in items[:3])
    page = Selector(text=f'<html><body><div class="x-recommend">{cards}</div>'
                         f'<div class="x-side"><h3>热门排行</h3><ul class="x-rank">{ranking}</ul></div></body></html>')
    healing = heal_listing(page, url, items)
    assert healing is not None and [e.url for e in healing.entries] == [u for u, _ in items]
