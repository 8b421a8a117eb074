"""Blocks that do not look like `<ul><li>`: cards with their own headings, table rows, dl/dt/dd, found by
heading and with the repeated item element detected when `item` is not set."""

from __future__ import annotations

from parsel import Selector

from crawler.extract import ListingEntry, extract_listing
from feedsvc.config import ListingConfig

BASE = "http://s.test/"


def page(body: str) -> Selector:
    return Selector(text=f"<html><body>{body}</body></html>")


def titles(entries: list[ListingEntry] | None) -> list[tuple[str, str, str | None]]:
    assert entries is not None
    return [(e.url.removeprefix(BASE), e.title, e.date_text) for e in entries]


CARDS = (
    '<h2>Featured</h2><div class="cards">'
    '<div class="card"><a href="/p/1"><img src="/1.png"><h3>First post</h3></a><span>2 days ago</span></div>'
    '<div class="card"><a href="/p/2"><h3>Second post</h3></a><span>2024-10-12</span>'
    '<ul class="tags"><li><a href="/t/a">a</a></li><li><a href="/t/b">b</a></li><li><a href="/t/c">c</a></li></ul></div>'
    '<div class="card"><a class="img" href="/p/3"><img src="/3.png"></a><h3><a href="/p/3">Third post</a></h3>'
    '<time>Oct 1, 2024</time></div>'
    '</div><h2>Elsewhere</h2><ul><li><a href="/x">Other box</a></li></ul>'
)


def test_cards_with_their_own_headings_are_found_by_the_heading() -> None:
    entries = extract_listing(page(CARDS), ListingConfig(id="f", heading="Featured"), BASE)
    assert titles(entries) == [
        ("p/1", "First post", "2 days ago"),
        ("p/2", "Second post", "2024-10-12"),
        ("p/3", "Third post", "Oct 1, 2024"),
    ]


def test_next_box_with_one_heading_is_still_not_taken() -> None:
    body = ('<div class="box"><h3>阅读排行</h3></div>'
            '<div class="box"><h3>推荐文稿</h3><ul><li><a href="/1">一</a></li><li><a href="/2">二</a></li></ul></div>')
    assert extract_listing(page(body), ListingConfig(id="r", heading="阅读排行"), BASE) is None


def test_table_rows_are_detected_and_the_header_row_skipped() -> None:
    body = ('<h2>公告</h2><table class="list"><tr><th>标题</th><th>日期</th></tr>'
            '<tr><td><a href="/n/1">关于开展年度检查的通知</a></td><td>2024-10-12</td></tr>'
            '<tr><td><a href="/n/2">关于调整办公时间的公告</a></td><td>2024-10-08</td></tr></table>')
    entries = extract_listing(page(body), ListingConfig(id="n", heading="公告"), BASE)
    assert titles(entries) == [("n/1", "关于开展年度检查的通知", "2024-10-12"),
                               ("n/2", "关于调整办公时间的公告", "2024-10-08")]


def test_dt_items_take_their_date_from_the_dd() -> None:
    body = ('<h3>Archive</h3><dl><dt><a href="/a/1">Winter notes on the garden</a></dt><dd>2024-01-05</dd>'
            '<dt><a href="/a/2">Pruning roses in the rain</a></dt><dd>Posted 2023-12-30</dd></dl>')
    entries = extract_listing(page(body), ListingConfig(id="a", heading="Archive"), BASE)
    assert titles(entries) == [("a/1", "Winter notes on the garden", "2024-01-05"),
                               ("a/2", "Pruning roses in the rain", "2023-12-30")]


def test_article_elements_win_over_pagination_links() -> None:
    body = ('<section id="news"><article><h2><a href="/s/1">Council approves the new bridge</a></h2>'
            '<p>2024-05-01</p></article><article><h2><a href="/s/2">Library reopens after repairs</a></h2>'
            '<p>2024-04-28</p></article><nav class="pages"><a href="?p=1">1</a><a href="?p=2">2</a>'
            '<a href="?p=3">3</a><a href="?p=2">next</a></nav></section>')
    entries = extract_listing(page(body), ListingConfig(id="s", block="#news"), BASE)
    assert [e.title for e in entries or []] == ["Council approves the new bridge", "Library reopens after repairs"]


def test_configured_item_selector_is_still_obeyed() -> None:
    entries = extract_listing(page(CARDS), ListingConfig(id="f", heading="Featured", item="div.card"), BASE)
    assert [e.title for e in entries or []] == ["First post", "Second post", "Third post"]
    # Items named `li` here are the tag lists: the headings are outside them, so this is not the block.
    assert extract_listing(page(CARDS), ListingConfig(id="f", heading="Featured", item="li"), BASE) is None
