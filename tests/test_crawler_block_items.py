"""crawler/block_items.py: a block's repeated items found without an item selector, on real-shaped markup (the
memo per page answers as a fresh search would; category and position classes do not split a list)."""

from __future__ import annotations

import copy

from lxml import etree
from parsel import Selector

from crawler.block_items import detect_items
from crawler.blocks import find_block


def _fresh_items(el: etree._Element) -> list[str]:
    """detect_items on a copy of the page, so no memo of this page can answer."""
    path = el.getroottree().getpath(el)
    clone = copy.deepcopy(el.getroottree().getroot())
    (twin,) = clone.xpath(path)
    return [clone.getroottree().getpath(i) for i in detect_items(twin)]


def test_items_found_for_a_box_serve_every_block_inside_it_as_a_fresh_search_would() -> None:
    # The box is searched first (find_block asks whether the list is one of its items), then the list; and
    # a nested list of cards whose items hold small lists of their own.
    items = "".join(f'<li><a href="/a/{n}.html">第{n}条新闻的标题</a><span>10-{n:02d}</span></li>' for n in range(1, 13))
    cards = "".join(f'<div class="card"><h3><a href="/c/{n}">Card number {n} title</a></h3><ul><li><a href="/t/{n}a">tag a'
                    f'</a></li><li><a href="/t/{n}b">tag b</a></li></ul></div>' for n in range(1, 4))
    page = Selector(text=f'<html><body><div class="box"><h2>最新文稿</h2><ul class="list">{items}</ul></div>'
                         f'<div class="cards"><h2>Cards</h2><div class="row">{cards}</div></div></body></html>')
    for heading in ("最新文稿", "Cards"):
        block = find_block(page, None, heading, None)
        assert block is not None
        for el in [block.root, *block.root.iterancestors(), *block.root.iterdescendants()]:
            assert [el.getroottree().getpath(i) for i in detect_items(el)] == _fresh_items(el)
    latest = find_block(page, None, "最新文稿", None)
    assert latest is not None and len(detect_items(latest.root)) == 12


def test_a_first_item_marked_by_a_suffixed_class_is_still_an_item() -> None:
    # A portal marks its first card `news_first` (the others `data_row news_article` only).
    cards = "".join(f'<div class="data_row news_article{" news_first" if n == 1 else ""}"><h3><a href="/a/{n}">第{n}条国际新闻的标题'
                    f'</a></h3><span class="time">{n}小时前</span></div>' for n in range(1, 5))
    page = Selector(text=f'<html><body><div id="list">{cards}</div></body></html>')
    items = detect_items(page.css("#list")[0].root)
    assert [i.xpath("string(.//a)") for i in items] == [f"第{n}条国际新闻的标题" for n in range(1, 5)]


def test_posts_classed_by_their_category_are_one_list() -> None:
    # A WordPress sidebar (luxuriousmagazine.com): each post's class names its category, 3 in one, 2 in another.
    lis = "".join(f'<li class="post listing post-{n} type-post status-publish hentry category-{cat}">'
                  f'<a href="/c/{cat}/">{cat}</a><a href="/2019/06/p{n}/">Post number {n} of the sidebar</a>'
                  f'<time>June {n}, 2019</time></li>' for n, cat in enumerate(["in-house", "general", "general",
                                                                                "in-house", "general"], 1))
    page = Selector(text=f'<html><body><ul id="side">{lis}</ul><ul id="menu"><li class="menu-item a1"><a href="/x">X</a>'
                         '</li><li class="menu-item b2"><a href="/y">Y</a></li></ul></body></html>')
    assert [a.get("href") for li in detect_items(page.css("#side")[0].root) for a in li.iter("a")][1::2] == [
        f"/2019/06/p{n}/" for n in range(1, 6)]


def test_an_item_with_a_class_word_more_is_one_of_the_items() -> None:
    # A news list marks its audio story `teaser ts-audio` among `teaser` items; a classless list stays strict.
    lis = "".join(f'<li class="teaser{" ts-audio" if n == 3 else ""}"><a href="/a/{n}">第{n}条新闻的标题</a><p>2012年7月{n}日</p></li>'
                  for n in range(1, 5))
    page = Selector(text=f'<html><body><ul id="news">{lis}</ul><ul id="plain"><li><a href="/b/1">第一条普通的标题</a></li>'
                         '<li><a href="/b/2">第二条普通的标题</a></li><li class="ad"><a href="/ad">广告位招租的标题</a></li></ul></body></html>')
    assert len(detect_items(page.css("#news")[0].root)) == 4
    assert len(detect_items(page.css("#plain")[0].root)) == 2


def test_wordpress_posts_tagged_differently_are_one_group_and_a_repeated_share_box_is_not_the_items() -> None:
    # nationnews.com: a hidden share box before each post; each post's classes list its own categories and tags.
    share = ('<div class="overlay_share_icons"><h2>Social Share</h2><a href="http://www.facebook.com/sharer/sharer.php?'
             'u=https://www.nationnews.com/{d}/">f</a></div>')
    post = ('<div class="col-md-12 post-{n} post type-post status-publish hentry {tags}"><a href="/category/news/">News</a>'
            '<a href="https://www.nationnews.com/{d}/">Story number {n} of the day</a><time>January {n}, 2021</time></div>')
    tags = ["category-news tag-covid-19 tag-barbados", "category-business tag-port", "category-news tag-nhc tag-a tag-b tag-c"]
    body = "".join(share.format(d=f"2021/01/0{n}/s{n}") + post.format(n=n, d=f"2021/01/0{n}/s{n}", tags=t)
                   for n, t in enumerate(tags, 1))
    page = Selector(text=f'<html><body><div class="row">{body}</div></body></html>')
    items = detect_items(page.css("div.row")[0].root)
    assert [it.get("class", "").split()[1] for it in items] == ["post-1", "post-2", "post-3"]
