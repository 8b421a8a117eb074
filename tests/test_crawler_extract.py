"""Listing and article extraction on the fixture pages (golden files) and on small hostile snippets."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import pytest
from parsel import Selector

from crawler.dates import parse_date
from crawler.encoding import decode_html
from crawler.extract import (
    ArticleContent,
    ListingEntry,
    extract_article,
    extract_items,
    extract_listing,
    join_url,
    pagination_urls,
)
from feedsvc.config import ArticleSelectors, ListingConfig

DATA = Path(__file__).parent / "data"
GOLDEN = sorted((DATA / "expected").glob("*.json"))
RELATED = "您可能感兴趣的文稿"
CRAWL = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def load_page(site: str, page: str, charset: str | None = None) -> Selector:
    text, _ = decode_html((DATA / site / page).read_bytes(), charset)
    return Selector(text=text)


def listing(**kwargs: Any) -> ListingConfig:
    return ListingConfig(**{"id": "x", **kwargs})


def snippet(html: str) -> Selector:
    return Selector(text=f"<html><body>{html}</body></html>")


@pytest.mark.parametrize("golden", GOLDEN, ids=[path.stem for path in GOLDEN])
def test_golden_listings(golden: Path) -> None:
    case = json.loads(golden.read_text(encoding="utf-8"))
    page = load_page(case["site"], case["page"], case["http_charset"])
    entries = extract_listing(page, ListingConfig(**case["listing"]), case["base_url"])
    assert entries is not None
    # date_value (a machine-readable date) is in a golden file only where the page has one.
    found = [{k: v for k, v in asdict(entry).items() if k != "date_value" or v is not None} for entry in entries]
    assert found == case["entries"]


def test_golden_files_cover_the_home_page_blocks() -> None:
    names = {path.stem for path in GOLDEN}
    assert {"site_index_recommended", "site_index_ranking", "site_index_latest"} <= names


def test_script_filled_ranking_is_empty_not_missing() -> None:
    page = load_page("site", "index.html")
    assert extract_listing(page, listing(heading="阅读排行"), "http://site.test/") == []
    assert extract_listing(page, listing(block="#phb"), "http://site.test/") == []


@pytest.mark.parametrize(
    "config",
    [listing(heading="热门标签"), listing(block="div.no-such-block"), listing(block="//div[@id='nope']")],
)
def test_block_not_on_page_is_none(config: ListingConfig) -> None:
    assert extract_listing(load_page("site", "index.html"), config, "http://site.test/") is None


def test_nav_link_with_heading_text_is_not_the_heading() -> None:
    # list_2 and index both have <a>最新文稿</a> in the nav; on a page without the h2 nothing matches.
    page = snippet('<ul class="nav"><li><a href="/list_2.html">最新文稿</a></li><li><a href="/">首页</a></li></ul>')
    assert extract_listing(page, listing(heading="最新文稿"), "http://site.test/") is None


def test_heading_without_a_list_does_not_take_the_next_box() -> None:
    page = snippet(
        '<div class="box"><h3>阅读排行</h3></div>'
        '<div class="box"><h3>推荐文稿</h3><ul><li><a href="/1">一</a></li></ul></div>'
    )
    assert extract_listing(page, listing(heading="阅读排行"), "http://s.test/") is None
    assert extract_listing(page, listing(heading="推荐文稿"), "http://s.test/") == [
        ListingEntry("http://s.test/1", "一", None, 1)
    ]


def test_year_boundary_dates_of_the_home_page() -> None:
    entries = extract_listing(load_page("site", "index.html"), listing(heading="推荐文稿"), "http://site.test/")
    assert entries is not None
    published = {e.url.rsplit("/", 1)[-1]: parse_date(e.date_text or "", CRAWL, SHANGHAI) for e in entries}
    local = {name: value.astimezone(SHANGHAI).date().isoformat() for name, value in published.items() if value}
    assert local["1005.html"] == "2025-02-06"
    assert local["1004.html"] == "2025-12-30"
    assert local["1006.html"] == "2026-01-04"
    assert local["1007.html"] == "2026-01-06"
    assert local["1001.html"] == "2025-10-12"


@pytest.mark.parametrize(
    ("html", "config", "expected"),
    [
        pytest.param(
            '<div class="box"><h3>推荐文稿</h3><li><a href="/1">一</a></li><li><a href="/2">二</a></li></div>',
            listing(heading="推荐文稿"),
            [ListingEntry("http://s.test/1", "一", None, 1), ListingEntry("http://s.test/2", "二", None, 2)],
            id="heading-inside-the-box",
        ),
        pytest.param(
            '<h3><a href="/tj/">推荐文稿</a></h3><ul><li><a href="/1">一</a> 2024-10-12</li></ul>',
            listing(heading="推荐文稿"),
            [ListingEntry("http://s.test/1", "一", "2024-10-12", 1)],
            id="heading-is-a-link-inside-h3",
        ),
        pytest.param(
            '<section><h2><b>Latest</b> posts:</h2><ol><li><a href="/p">Post</a> <i>3 days ago</i></li></ol></section>',
            listing(heading="Latest Posts"),
            [ListingEntry("http://s.test/p", "Post", "3 days ago", 1)],
            id="heading-split-over-children-case-insensitive",
        ),
        pytest.param(
            '<ul class="l"><li><a href="/1" title="关于加强党风廉政建设的实施意见">关于加强党风...</a></li></ul>',
            listing(block="ul.l"),
            [ListingEntry("http://s.test/1", "关于加强党风廉政建设的实施意见", None, 1)],
            id="truncated-text-uses-title-attribute",
        ),
        pytest.param(
            '<table id="t"><tr><td><a href="x/1">Row one</a></td><td>2026-01-04</td></tr>'
            '<tr><td>header only</td></tr></table>',
            listing(block="//table[@id='t']", item="tr"),
            [ListingEntry("http://s.test/base/x/1", "Row one", "2026-01-04", 1)],
            id="xpath-block-table-rows",
        ),
        pytest.param(
            '<div id="b"><p><span class="d">10-12</span><a class="t" href="/1">标题一</a>'
            '<a class="c" href="/cat">分类</a></p></div>',
            listing(block="#b", item="p", link="a.t::attr(href)", title="a.t::text", date="span.d::text"),
            [ListingEntry("http://s.test/1", "标题一", "10-12", 1)],
            id="configured-css-selectors",
        ),
        pytest.param(
            '<ul id="b"><li><a href="/1">One</a><em>2024-10-12</em></li></ul>',
            listing(block="#b", link="//a/@href", title="//a", date="//em"),
            [ListingEntry("http://s.test/1", "One", "2024-10-12", 1)],
            id="configured-xpath-selectors-are-relative-to-the-item",
        ),
        pytest.param(
            '<ul id="b"><li><a href="javascript:void(0)">更多</a></li><li><a href="mailto:a@b.c">信</a></li>'
            '<li>无链接</li><li><a href="#top">顶部</a></li><li><a href="/ok">好</a></li></ul>',
            listing(block="#b"),
            [ListingEntry("http://s.test/ok", "好", None, 1)],
            id="unusable-links-skipped-rank-counts-kept-items",
        ),
        pytest.param(
            '<ul id="b"><li><a href="/1">&amp;lt;b&amp;gt;粗&amp;lt;/b&amp;gt;\x01 标题\u3000一</a></li></ul>',
            listing(block="#b"),
            [ListingEntry("http://s.test/1", "<b>粗</b> 标题 一", None, 1)],
            id="hostile-title",
        ),
        pytest.param(
            '<ul id="b"><li><a href="/1">3-5年发展规划</a></li><li><a href="/2">2024年度总结</a><span>12-30</span></li></ul>',
            listing(block="#b"),
            [ListingEntry("http://s.test/1", "3-5年发展规划", None, 1),
             ListingEntry("http://s.test/2", "2024年度总结", "12-30", 2)],
            id="titles-starting-with-digits-are-not-split",
        ),
    ],
)
def test_listing_snippets(html: str, config: ListingConfig, expected: list[ListingEntry]) -> None:
    assert extract_listing(snippet(html), config, "http://s.test/base/") == expected


def test_pagination_urls() -> None:
    page = load_page("site", "index.html")
    assert pagination_urls(page, "div.pages a.next", "http://site.test/index.html") == ["http://site.test/list_2.html"]
    assert pagination_urls(page, "div.pages a::attr(href)", "http://site.test/") == [
        "http://site.test/list_2.html",
        "http://site.test/list_3.gbk.html",
    ]
    assert pagination_urls(page, "div.pages", "http://site.test/") == [
        "http://site.test/list_2.html",
        "http://site.test/list_3.gbk.html",
    ]
    last = load_page("site", "list_3.gbk.html", "gbk")
    assert pagination_urls(last, "div.pages a.next", "http://site.test/list_3.gbk.html") == []


# --- articles -------------------------------------------------------------------------------------------------

ARTICLE_DATES = {
    "1001.html": "2024-10-12 09:30",
    "1002.html": "2024年10月12日",
    "1003.html": "2025-12-30 08:00",
    "1004.html": "2025年12月30日 10:15",
    "1005.html": "2025-02-06",
    "1006.html": "2026-01-04T09:30:00+08:00",
    "1007.html": "2026-01-06 07:00",
    "1008.html": "3 days ago",
    "1009.html": "2026/01/04",
    "1010.html": "2025.10.12",
    "1011.gbk.html": "2025年10月12日",
    "1012.html": "2024-06-04 16:20",
}


def article(name: str, **kwargs: Any) -> ArticleContent:
    page = load_page("site", f"a/{name}", "gbk" if ".gbk." in name else None)
    return extract_article(page, ArticleSelectors(**kwargs), f"http://site.test/a/{name}", [RELATED])


@pytest.mark.parametrize(("name", "date_text"), sorted(ARTICLE_DATES.items()))
def test_fixture_articles(name: str, date_text: str) -> None:
    content = article(name)
    assert content.date_text == date_text
    assert parse_date(date_text, CRAWL, SHANGHAI) is not None
    assert content.title and "某公文网" not in content.title
    assert content.summary and len(content.summary) <= 201
    body = content.content_html or ""
    assert "<p>" in body
    for junk in ("<script", "<style", "<form", "textarea", "分享到", "console.log", RELATED, "首页", "Copyright", "tracker"):
        assert junk not in body, junk
    if name != "1009.html":  # its stray </div> closes the body before the image paragraph
        assert 'src="http://site.test/img/' in body


def test_related_block_inside_the_body_is_cut() -> None:
    body = article("1003.html").content_html or ""
    assert RELATED not in body
    assert "党委书记参加培训班" not in body  # one of its ten items
    assert "办公室是党委、政府的服务部" in body


def test_article_details() -> None:
    first = article("1001.html")
    assert first.title == "2024年廉政谈话记录"
    assert first.summary is not None and first.summary.startswith("办公室是党委、政府的服务部,服务是工作主旋律。")
    assert 'href="http://site.test/files/1001.doc"' in (first.content_html or "")
    english = article("1008.html")
    assert english.title == "Office Work in the New Era: Six Kinds of Awareness"
    assert 'href="http://site.test/a/1001.html"' in (english.content_html or "")  # ../a/1001.html made absolute
    assert 'src="http://site.test/a/img/chart.png"' in (english.content_html or "")
    dirty = article("1009.html")
    assert dirty.title == "对标对表 接续奋斗——研讨交流提纲"
    assert article("1012.html").title == "县总工会庆祝2024年“五一”八项举措"  # undeclared GBK, decoded first


def test_article_configured_selectors() -> None:
    content = article("1001.html", title="div.crumb", body="div.info", date="div.info", summary="h1")
    assert content.title == "首页 > 最新文稿 > 正文"
    assert content.date_text == "2024-10-12 09:30"
    assert content.summary == "2024年廉政谈话记录"
    assert content.content_html is not None and "来源:某公文网" in content.content_html


def test_article_heuristics_without_h1_or_content_class() -> None:
    html = """<html><head><title>Plain page - Some Blog</title>
    <meta name="description" content="Meta description."></head><body>
    <div id="menu"><a href="/">Home</a></div>
    <div id="main"><p>First paragraph with enough text to count as the article body here.</p>
    <p>Second paragraph, also <a href="/x" onclick="evil()">long</a> enough to win.</p>
    <p><img data-src="/lazy.png" style="width:1px"></p></div>
    <div id="side"><p>short</p></div></body></html>"""
    content = extract_article(Selector(text=html), ArticleSelectors(), "http://b.test/post/1", ())
    assert content.title == "Plain page"
    assert content.date_text is None
    assert content.summary is not None and content.summary.startswith("First paragraph")
    body = content.content_html or ""
    assert "short" not in body and "Home" not in body
    assert 'href="http://b.test/x"' in body and "onclick" not in body
    assert 'src="http://b.test/lazy.png"' in body and "style=" not in body


def test_article_tag_with_related_heading_inside() -> None:
    html = """<html><body><article><h1>Post</h1><time datetime="2026-11-03T10:00:00Z">Nov 3</time>
    <p>Body text long enough to be the article, with several words in it for the summary.</p>
    <div class="more"><h3>You may also like</h3><ul><li><a href="/o">Other post</a></li></ul></div>
    <!-- a comment --></article></body></html>"""
    content = extract_article(Selector(text=html), ArticleSelectors(), "http://b.test/", ["You may also like"])
    assert content.title == "Post"
    assert content.date_text == "2026-11-03T10:00:00Z"
    body = content.content_html or ""
    assert "Other post" not in body and "You may also like" not in body and "comment" not in body
    assert "<h1>" not in body  # the title is not repeated in the body


def test_long_summary_is_cut_at_a_boundary() -> None:
    text = " ".join(["word"] * 100)
    html = f"<html><body><article><p>{text}</p></article></body></html>"
    summary = extract_article(Selector(text=html), ArticleSelectors(), "http://b.test/", ()).summary or ""
    assert summary.endswith("…") and len(summary) <= 201 and not summary[:-1].endswith(" ")


def test_page_without_body_falls_back_to_meta_description() -> None:
    html = '<html><head><meta name="description" content="Only a description."></head><body></body></html>'
    content = extract_article(Selector(text=html), ArticleSelectors(), "http://b.test/", ())
    assert content == ArticleContent(title=None, date_text=None, summary="Only a description.", content_html=None)


@pytest.mark.parametrize("base", ["http://s.test/", "http://s.test/a/b.html?x=1#f", "https://s.test:8080", "http://s.test?q"])
@pytest.mark.parametrize("href", ["/a/1.html", "/a/1.html?from=home#top", "a/1.html", "../x", "//o/x", "http://o/x", "/a/./b", "?p=2"])
def test_join_url_matches_urljoin(base: str, href: str) -> None:
    assert join_url(base, href) == urljoin(base, href)


def test_body_cleaning_on_the_lxml_tree() -> None:
    html = """<html><body><div class="content"><p>Lead paragraph long enough to be the body of this article here.</p>
    <p>Before<script>track()</script> after the script, <!-- note -->kept tail &amp; text.</p>
    <div class="share-box">分享到</div><nav>menu</nav><span id="comments">3 comments</span> tail of the junk.
    <p><a href="javascript:void(0)">js</a> <a href=" /files/a b.doc ">doc</a> <a href="//cdn.test/x">cdn</a>
    <img data-original="/img/lazy.png" onload="x()"> <img src="/img/s.png" srcset="/img/s2.png 2x, /img/s3.png 3x">
    <video src="v.mp4" poster="/p.jpg"></video></p><form><input name="q"></form></div></body></html>"""
    # A configured body selector: the page's own element is cleaned (the automatic choice rebuilds the body).
    content = extract_article(Selector(text=html), ArticleSelectors(body="div.content"), "http://b.test/post/1.html", ())
    body = content.content_html or ""
    for junk in ("track()", "<script", "note", "分享到", "menu", "3 comments", "<form", "<input", "onload", "javascript"):
        assert junk not in body, junk
    assert "Before after the script, kept tail &amp; text." in body  # tails of removed elements stay in place
    assert "tail of the junk." in body
    assert 'href="http://b.test/files/ab.doc"' in body and 'href="http://cdn.test/x"' in body
    assert 'src="http://b.test/img/lazy.png"' in body
    assert 'srcset="http://b.test/img/s2.png 2x, http://b.test/img/s3.png 3x"' in body
    assert 'src="http://b.test/post/v.mp4"' in body and 'poster="http://b.test/p.jpg"' in body
    assert content.summary is not None and "kept tail & text." in content.summary and "track" not in content.summary


def test_a_card_s_title_is_its_headline_link_not_its_image_channel_or_hidden_text() -> None:
    block = Selector(text="""<ul>
    <li><a href="/p/1.html"><img src="1.jpg"></a><a href="/c/world">World</a>
        <a href="/p/1.html"><span style="display:none">Hidden copy</span>Leaders meet in Geneva for talks</a>
        <a href="/u/ann">Ann</a><span>2020-07-01</span></li>
    <li><a href="/p/2.html"><img src="2.jpg" alt="Image for it"></a><a href="/c/tech">Tech</a>
        <a href="/p/2.html">New chips ship to phone makers<b hidden>again</b></a><span>2020-06-30</span></li>
    </ul>""")
    entries = extract_items(block, None, "http://site.example/")
    assert [(e.title, e.url, e.date_text) for e in entries] == [
        ("Leaders meet in Geneva for talks", "http://site.example/p/1.html", "2020-07-01"),
        ("New chips ship to phone makers", "http://site.example/p/2.html", "2020-06-30"),
    ]


def test_a_relative_date_inside_the_link_is_the_date_not_title_text() -> None:
    block = Selector(text="""<ul><li><a href="/1"><span>6小时前</span> 第一条新闻标题</a></li>
    <li><a href="/2"><span>昨天</span> 第二条新闻标题</a></li></ul>""")
    assert [(e.title, e.date_text) for e in extract_items(block, None, "http://site.example/")] == [
        ("第一条新闻标题", "6小时前"), ("第二条新闻标题", "昨天")]


def test_items_that_are_links_take_the_date_shown_inside_the_link() -> None:
    block = Selector(text="""<div id="more">
    <a href="/n/1.html"><article><figure><img src="1.jpg" alt=""></figure>
      <h5>Climate shaped early forests of New England</h5><div><p>1 hour ago</p></div></article></a>
    <a href="/n/2.html"><article><h5>Physics shows that imperfections make perfect</h5><p>Jan 17, 2020</p></article></a>
    </div>""")
    assert [(e.title, e.date_text) for e in extract_items(block, None, "http://site.example/")] == [
        ("Climate shaped early forests of New England", "1 hour ago"),
        ("Physics shows that imperfections make perfect", "Jan 17, 2020")]


def test_two_columns_of_link_items_are_lists_not_a_card_s_links() -> None:
    block = Selector(text="""<ul><li><div class="col"><a href="/1">Neanderthal tool-making was simpler</a>
    <a href="/2">Dig site in Tuscany reveals fire use</a><a href="/3">Early Melanesian DNA helped survival</a></div>
    <div class="col"><a href="/4">How Neanderthals made the first glue</a><a href="/5">Denisovan fingers looked modern</a>
    <a href="/6">Capuchin monkeys used tools long ago</a></div></li></ul>""")
    column = Selector(root=block.css("div.col")[0].root, type="html")
    assert [e.url for e in extract_items(column, None, "http://site.example/")] == [
        "http://site.example/1", "http://site.example/2", "http://site.example/3"]


# Blocks that do not look like `<ul><li>`: cards with their own headings, table rows, dl/dt/dd, found by
# heading and with the repeated item element detected when `item` is not set.
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


def test_forum_threads_one_tbody_each_are_the_items_with_their_dates() -> None:
    # Discuz-style: one <tbody> per thread; each carries an icon link, a type link, the title, author, reply
    # count and last-post links. Today's thread shows only its time, another a relative date.
    page = load_page("forum", "threads.html")
    entries = extract_listing(page, listing(block="#threadlisttableid"), "https://bbs.example.com/forum-2-1.html")
    assert entries is not None
    assert [(e.url.rsplit("/", 1)[1], e.title, e.date_text) for e in entries] == [
        ("thread-8101-1-1.html", "周末去哪里骑行比较好？求推荐路线", "08:52"),
        ("thread-8099-1-1.html", "新手请教：二手车过户需要准备哪些材料", "半小时前"),
        ("thread-8095-1-1.html", "本地老街改造方案公示，大家怎么看", "2019-8-5"),
        ("thread-8090-1-1.html", "分享一组夏天的荷花照片（多图）", "2019-8-4"),
        ("thread-8088-1-1.html", "小区停车位收费标准有变化吗", "2019-8-3"),
    ]
    now = datetime(2019, 8, 6, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    assert parse_date("08:52", now, SHANGHAI) == datetime(2019, 8, 6, 0, 52, tzinfo=UTC)


@pytest.mark.parametrize(("cell", "date_text"), [
    ("<span>08:52</span>", "08:52"),  # a time alone in a cell of its own: today
    ("<em>[2019-07]</em>", "2019-07"),  # a month alone
    ("<span>收看01:49</span>", None),  # in other words it is a video's length, not a date
    ("<span>3 hrs ago</span>", "3 hrs ago"),
    ("<span>两天前</span>", "两天前"),
])
def test_a_time_or_month_alone_outside_the_link_is_the_item_s_date(cell: str, date_text: str | None) -> None:
    block = Selector(text=f'<ul><li><a href="/1">第一条新闻的标题</a>{cell}</li><li><a href="/2">第二条新闻的标题</a>{cell}</li></ul>')
    assert [e.date_text for e in extract_items(block, None, "http://site.example/")] == [date_text] * 2


def test_a_heading_s_bracketed_date_and_marks_are_not_its_title() -> None:
    # A real Japanese news layout: the card heading holds the title link, its date in full-width brackets and a
    # members-only mark; a heading that adds words of its own keeps them.
    block = Selector(text="""<ul>
    <li><h4><a href="/a/1"><span>[FT]米朝首脳会談、クシュナー氏が橋渡し</span></a> <span>（2018/6/18 14:10）</span>
        <span>［有料会員限定］</span></h4></li>
    <li><h4><a href="/a/2"><span>米、北朝鮮非核化まで制裁継続</span></a> <span>（2018/6/15付）</span></h4></li>
    <li><h4><a href="/c/world">World</a>: Leaders meet in Geneva</h4><span>2018-06-14</span></li></ul>""")
    assert [(e.title, e.date_text) for e in extract_items(block, None, "http://site.example/")] == [
        ("[FT]米朝首脳会談、クシュナー氏が橋渡し", "2018/6/18 14:10"), ("米、北朝鮮非核化まで制裁継続", "2018/6/15"),
        ("World: Leaders meet in Geneva", "2018-06-14")]


def test_a_card_links_dateline_screen_reader_label_and_summary_are_not_its_title() -> None:
    # bbc.com: `<a><span class="off-screen">Video</span><span>Title</span><div class="date">10 April 2020</div></a>`
    # and `<a><strong>Title</strong><p>Summary…</p><div class="date">8 July 2020</div></a>`.
    html = """<html><body><ul id="more">
      <li><a href="/news/av/1"><div><div><span class="off-screen"> Video</span> <span class="cta"> Mass graves ramp up </span>
        </div><div class="date date--v1" data-seconds="1586511090" data-datetime="10 April 2020">10 April 2020</div></div></a></li>
      <li><a href="/news/2"><strong>Record new cases in US</strong><p>Several states see a surge.</p>
        <div class="date date--v2" data-datetime="8 July 2020">8 July 2020</div></a></li>
      <li><a href="/markets/kabu/"><span>日経平均</span><br><span>6/19 大引</span><span>22,278.48</span></a></li>
    </ul></body></html>"""
    entries = extract_listing(Selector(text=html), ListingConfig(id="more", block="#more"), "https://www.bbc.com/news/x")
    assert entries is not None
    assert [(e.title, e.date_text) for e in entries] == [
        ("Mass graves ramp up", "10 April 2020"), ("Record new cases in US", "8 July 2020"),
        ("日経平均6/19 大引22,278.48", None)]  # a date amid a quote's figures is not its dateline


def test_an_item_through_the_sites_own_click_counter_links_the_article_it_carries() -> None:
    # cn.news.yahoo.com, 2005: related stories go through cn.rd.yahoo.com; an ad through it carries another site.
    html = """<html><body><td class="yghd" id="rel">
      ·<a href="http://cn.rd.yahoo.com/home/articlepage/relatedarticle/news/*http://cn.news.yahoo.com/050403/72/2aji2.html">
      富夫妻望子成龙假离婚</a><span>（2005-04-03 17:19PM）</span><br>
      ·<a href="http://cn.rd.yahoo.com/SIG=12d/M=5441/*http://www.kb78.com/index.php?id=274">和爱人接吻口臭怎么办</a><br>
      ·<a href="https://t.example.com/click?u=1&amp;url=https%3A%2F%2Fnews.example.com%2Fa%2F1.html&amp;x=2">点击计数</a><br>
    </td></body></html>"""
    entries = extract_listing(Selector(text=html), ListingConfig(id="rel", block="#rel"), "http://cn.news.yahoo.com/050404/346/2al02.html")
    assert entries is not None
    assert [e.url for e in entries] == ["http://cn.news.yahoo.com/050403/72/2aji2.html",
                                        "http://cn.rd.yahoo.com/SIG=12d/M=5441/*http://www.kb78.com/index.php?id=274",
                                        "https://news.example.com/a/1.html"]


def test_a_card_link_laid_out_in_blocks_gives_its_headline_block_and_its_date() -> None:
    # metrotimes.com: `<a><div><p class="headline">Title</p><div><p>By …</p><time>Nov 8, 2023</time></div></div>
    # <div><img></div></a>`; nikkei.com's quote rows (figures in blocks) stay one line of text.
    card = ('<div class="tile"><a href="/food-drink/talking-turkey-{n}"><div><p class="headline">Talking turkey number {n}</p>'
            '<div class="infoline"><p>By Robert Stempkowski</p><time>Nov {n}, 2023</time></div></div><div><img src="x.jpg"></div></a></div>')
    quote = '<a href="/markets/kabu/"><ul><li><span>日経平均</span><br><span>6/19 大引</span></li><li>22,278.48</li><li>-1.77%</li></ul></a>'
    html = f'<html><body><div id="tiles">{"".join(card.format(n=n) for n in (8, 2))}</div><div id="q">{quote}</div></body></html>'
    entries = extract_listing(Selector(text=html), ListingConfig(id="t", block="#tiles"), "https://www.metrotimes.com/x")
    assert [(e.title, e.date_text) for e in entries or []] == [("Talking turkey number 8", "Nov 8, 2023"),
                                                                ("Talking turkey number 2", "Nov 2, 2023")]
    (row,) = extract_listing(Selector(text=html), ListingConfig(id="q", block="#q", item="a"), "https://www.nikkei.com/") or []
    assert row.date_text is None and "22,278.48" in row.title


def test_a_live_badge_before_the_headline_is_not_title_text() -> None:
    # telegraph.co.uk: `<a><span><span class="label-live"><span class="label-live__copy">Live</span></span>
    # <span>Headline</span></span></a>`; a short word that is simply the title's first word stays.
    item = ('<li><h2><a href="/world-news/2022/05/12/{n}/"><span class="list-headline__text">{badge}<span>{title}</span>'
            '</span></a></h2><time datetime="2022-05-12T15:18:53.105Z">12 May 2022, 4:18pm</time></li>')
    live = '<span class="label-live label-live--small"><span class="label-live__wrapper"><span class="label-live__copy">Live</span></span></span>'
    html = ('<html><body><ul id="more">' + item.format(n=1, badge=live, title="Russia-Ukraine latest news")
            + item.format(n=2, badge="<span>Live</span> ", title="music tonight in Leeds") + "</ul></body></html>")
    entries = extract_listing(Selector(text=html), ListingConfig(id="more", block="#more"), "https://www.telegraph.co.uk/news/x")
    assert [e.title for e in entries or []] == ["Russia-Ukraine latest news", "Live music tonight in Leeds"]
