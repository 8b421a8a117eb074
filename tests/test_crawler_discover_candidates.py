"""crawler/discover/candidates.py: which blocks of a page look like lists of articles, on real parsel Selectors.
Menus, link farms, undated boxes and page columns are dropped, each for its named reason."""

from __future__ import annotations

from parsel import Selector

from crawler.discover.candidates import find_candidates, is_chrome, landing_host, rankish, why_rejected
from crawler.extract import extract_items

URL = "http://site.example/"
PAGE = """<html><body>
<nav class="menu"><ul>
  <li><a href="/a">Home page link</a> 2026-01-01</li><li><a href="/b">About us page</a> 2026-01-02</li>
  <li><a href="/c">Contact us page</a> 2026-01-03</li></ul></nav>
<div class="box"><h2>Latest posts</h2><ul class="latest-news">
  <li><a href="/p/3.html">Third post about gardens</a> <span>2026-01-03</span></li>
  <li><a href="/p/2.html">Second post about roses</a> <span>2026-01-02</span></li>
  <li><a href="/p/1.html">First post about winter</a> <span>2026-01-01</span></li></ul>
  <div class="pages"><a href="/list_2.html">2</a><a href="/list_3.html">3</a><a href="/list_2.html">Next</a></div>
</div>
<div id="partners"><ul>
  <li><a href="http://other.example/x">Partner one site</a> 2026-01-01</li>
  <li><a href="http://other.example/y">Partner two site</a> 2026-01-02</li>
  <li><a href="http://other.example/z">Partner three site</a> 2026-01-03</li></ul></div>
<div class="side"><h3>阅读排行</h3><ol>
  <li><a href="/p/9.html">A much read article on pruning</a></li>
  <li><a href="/p/8.html">Another much read article here</a></li>
  <li><a href="/p/7.html">Third much read article of all</a></li></ol></div>
<div class="links-box"><ul>
  <li><a href="/t/1">Tag</a></li><li><a href="/t/2">Tag two</a></li><li><a href="/t/3">Tag 3</a></li></ul></div>
<div class="cols">
  <div><a href="/p/20.html">Col A one</a> 2026-01-01 <a href="/p/21.html">Col A two</a> <a href="/p/22.html">A3</a></div>
  <div><a href="/p/30.html">Col B one</a> 2026-01-01 <a href="/p/31.html">Col B two</a> <a href="/p/32.html">B3</a></div>
  <div><a href="/p/40.html">Col C one</a> 2026-01-01 <a href="/p/41.html">Col C two</a> <a href="/p/42.html">C3</a></div>
</div>
</body></html>"""


def _page() -> Selector:
    return Selector(text=PAGE, base_url=URL)


def test_only_article_lists_are_candidates() -> None:
    found = find_candidates(_page(), URL)
    assert [(c.element.tag, c.element.get("class")) for c in found] == [("ul", "latest-news"), ("ol", None)]
    latest, ranking = found
    assert [e.url for e in latest.entries] == [f"{URL}p/{n}.html" for n in (3, 2, 1)]
    assert latest.dated == 1.0 and not latest.ordered
    assert ranking.dated == 0.0 and ranking.ordered  # undated, but an <ol> of article-like titles under 阅读排行


def test_each_rejected_block_names_its_reason() -> None:
    page = _page()
    host = "site.example"
    reasons = {}
    for cand in find_candidates(page, URL, strict=False):
        key = cand.element.get("class") or cand.element.getparent().get("class") or cand.element.getparent().get("id")
        reasons[key] = why_rejected(cand.element, cand.entries, host)
    assert reasons["menu"] == "chrome"
    assert reasons["partners"] == "offsite"
    assert reasons["latest-news"] is None and reasons["side"] is None
    assert reasons["links-box"] == "chrome"  # a "links" box is site chrome by its class word
    cols = page.css("div.cols")[0].root
    entries = [e for c in find_candidates(page, URL, strict=False) if c.element is cols for e in c.entries]
    assert entries and why_rejected(cols, entries, host) == "columns"
    assert why_rejected(cols, entries[:2], host) == "few"


def test_an_undated_list_without_a_ranking_look_is_rejected() -> None:
    html = ("<html><body><div class='box'><h2>Things</h2><ul>"
            + "".join(f"<li><a href='/p/{n}.html'>An article title number {n}</a></li>" for n in range(4))
            + "</ul></div></body></html>")
    page = Selector(text=html, base_url=URL)
    assert find_candidates(page, URL) == []
    (loose,) = find_candidates(page, URL, strict=False)
    assert why_rejected(loose.element, loose.entries, "site.example") == "undated"
    assert not rankish(loose.element, "Things") and rankish(loose.element, "Most read")


def test_chrome_is_found_through_ancestors() -> None:
    page = _page()
    assert is_chrome(page.css("nav li")[0].root)
    assert not is_chrome(page.css("ul.latest-news li")[0].root)
    assert is_chrome(page.css("div.pages a")[0].root)  # pagination boxes are chrome, never a listing


_PORTAL = """<html><body>
<div class="blq-int-nav"><div class="story-body contextual-links"><p>Article text.</p>
  <div class="box"><h3>相关新闻</h3><ul>
    <li><a href="https://news.site.example/1.html">第一条相关新闻标题</a> 2012年12月6日</li>
    <li><a href="https://war.site.example/2.html">第二条相关新闻标题</a> 2012年11月27日</li>
    <li><a href="/3.html">第三条相关新闻标题</a> 2012年11月20日</li></ul></div></div></div>
<ul class="cards">
  <li><a href="/p/1.html"><img src="1.jpg"></a><a href="/c/a">频道</a><a href="/p/1.html">卡片一的新闻标题文字</a>
      <a href="/t/x">标签</a><a href="/u/1">作者</a><span>2020-07-01</span></li>
  <li><a href="/p/2.html"><img src="2.jpg"></a><a href="/c/b">频道</a><a href="/p/2.html">卡片二的新闻标题文字</a>
      <a href="/t/y">标签</a><a href="/u/2">作者</a><span>2020-06-30</span></li>
  <li><a href="/p/3.html"><img src="3.jpg"></a><a href="/c/c">频道</a><a href="/p/3.html">卡片三的新闻标题文字</a>
      <a href="/t/z">标签</a><a href="/u/3">作者</a><span>2020-06-29</span></li>
</ul></body></html>"""


def test_cards_chrome_words_on_far_wrappers_and_sibling_hosts_do_not_hide_dated_lists() -> None:
    found = find_candidates(Selector(text=_PORTAL), "https://www.site.example/a.html")
    assert [(c.element.tag, c.element.get("class"), len(c.entries)) for c in found] == [(
        "ul", None, 3), ("ul", "cards", 3)]
    assert [e.title for e in found[1].entries] == ["卡片一的新闻标题文字", "卡片二的新闻标题文字", "卡片三的新闻标题文字"]


def test_ads_served_through_the_sites_own_redirector_are_off_site() -> None:
    # cn.ent.yahoo.com, 2005: a 消费热点 ad box whose links go through cn.rd.yahoo.com to other sites.
    ads = "".join(f'<tr><td><nobr><a href="http://cn.rd.yahoo.com/SIG=12d{n}/M=544151/D=cn_ent/S=9649:ST{n}/*http://www.ad{n}.example.com/'
                  f'index.php?id={n}">第{n}个治脱发白发的特效广告</a></nobr></td></tr>' for n in range(1, 6))
    page = Selector(text=f'<html><body><div class="bg_lt"><b>消费热点</b></div><div class="pad1"><table>{ads}</table></div></body></html>')
    table = page.css("table")[0].root
    entries = extract_items(Selector(root=table, type="html"), None, "http://cn.ent.yahoo.com/050427/347/26pbv.html")
    assert len(entries) == 5
    assert why_rejected(table, entries, "cn.ent.yahoo.com") == "offsite"
    assert landing_host("https://t.example.com/click?u=1&url=https%3A%2F%2Fwww.shop.example%2Fx") == "www.shop.example"
    assert landing_host("https://news.example.com/2024/story.html") == "news.example.com"


def test_a_dated_comment_thread_linking_its_authors_is_not_a_listing() -> None:
    # politico.com, 2010: each comment links its author's profile and shows its date; authors comment more than once.
    authors = ["Dread-neck", "poorsinner101", "American911", "poorsinner101", "Dread-neck", "gopvoter"]
    comments = "".join(f'<li><a href="http://dyn.politico.com/profile_view.cfm?member_id={name}">{name}</a> Oct. 9, 2010'
                       f'<p>A comment of some length by this reader.</p></li>' for name in authors)
    page = Selector(text=f'<html><body><ul id="commentsList">{comments}</ul></body></html>')
    ul = page.css("ul")[0].root
    entries = extract_items(Selector(root=ul, type="html"), None, "http://www.politico.com/news/stories/1010/43352.html")
    assert len(entries) == 6 and all(e.date_text for e in entries)
    assert why_rejected(ul, entries, "www.politico.com") == "repeats"


def test_a_comment_list_linking_anchors_on_the_article_itself_is_not_a_listing() -> None:
    # californiaglobe.com (WordPress): each comment's date links its own anchor on the article's page; an author
    # with a site of their own links it.
    page_url = "https://californiaglobe.com/section-2/amazon-liable/"
    comments = "".join(f'<li><article><footer><b>{"<a href=/r/>Reader 1</a>" if n == 1 else f"Reader {n}"}</b>'
                       f'<a href="{page_url}#comment-{18676 + n}"><time datetime="2020-08-15T0{n}:35:53-07:00">'
                       f'August 15, 2020 at {n}:35 am</time></a></footer><p>A comment.</p></article></li>' for n in range(1, 7))
    page = Selector(text=f'<html><body><ol class="comment-list">{comments}</ol></body></html>')
    ol = page.css("ol")[0].root
    entries = extract_items(Selector(root=ol, type="html"), None, page_url)
    assert why_rejected(ol, entries, "californiaglobe.com") == "repeats"


def test_share_buttons_carrying_our_articles_are_off_site() -> None:
    shares = "".join(f'<li><a href="http://www.facebook.com/sharer/sharer.php?u=https://www.nationnews.com/2021/01/0{n}/story/">'
                     f'Share story number {n} on Facebook</a> January {n}, 2021</li>' for n in range(1, 5))
    page = Selector(text=f'<html><body><ul>{shares}</ul></body></html>')
    ul = page.css("ul")[0].root
    entries = extract_items(Selector(root=ul, type="html"), None, "https://www.nationnews.com/2022/04/22/schools/")
    assert why_rejected(ul, entries, "www.nationnews.com") == "offsite"
