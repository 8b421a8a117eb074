"""crawler/discover/suggest.py `rendered_fills`: an empty box becomes a proposal only when the rendered page shows
it with mostly dated items; a forum's thread list (one <tbody> per thread) is proposed (the rest of the module is
measured by tests/test_suggest.py's layouts and the fetch tests)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from parsel import Selector

from crawler.discover.suggest import Suggestion, rendered_fills, suggest_listings
from crawler.extract import ListingEntry
from tests.support.site_server import DATA


def _entries(dated: int, undated: int) -> list[ListingEntry]:
    return [ListingEntry(f"http://s.example/a/{n}.html", f"Story number {n}", "01-0" + str(n % 9 + 1) if n < dated else None,
                         n + 1) for n in range(dated + undated)]


def test_only_boxes_shown_dated_after_rendering_are_proposed() -> None:
    boxes = [Suggestion("ranking", "ranking", "阅读排行", None), Suggestion("hot", "ranking", "热门", None),
             Suggestion("news", "latest", "要闻", None)]
    rendered = [Suggestion("ranking-2", "ranking", "阅读排行", None, _entries(3, 1), "div.pages a"),
                Suggestion("hot-2", "ranking", "热门", None, _entries(1, 3)),  # filled, but mostly undated
                Suggestion("other", "latest", "其他", None, _entries(4, 0))]  # not an empty box of the HTML
    (proposed,) = rendered_fills(rendered, boxes)
    assert (proposed.id, proposed.heading, proposed.pagination, len(proposed.entries)) == ("ranking", "阅读排行", "div.pages a", 4)
    assert proposed.note and "filled by script" in proposed.note
    assert rendered_fills([], boxes) == []  # the script filled nothing


def test_a_forum_thread_list_with_one_tbody_per_thread_is_proposed() -> None:
    page = Selector(text=(DATA / "forum" / "threads.html").read_text(encoding="utf-8"))
    (found,) = suggest_listings(page, "https://bbs.example.com/forum-2-1.html", datetime(2019, 8, 6, 4, tzinfo=UTC),
                                ZoneInfo("Asia/Shanghai"))
    assert found.block == "#threadlisttableid"
    assert [e.url.rsplit("/", 1)[1] for e in found.entries] == [f"thread-{n}-1-1.html" for n in (8101, 8099, 8095, 8090, 8088)]
    assert [e.date_text for e in found.entries][:2] == ["08:52", "半小时前"]


_NOW = datetime(2005, 7, 18, 4, tzinfo=UTC)
_SH = ZoneInfo("Asia/Shanghai")


def test_bare_link_and_date_runs_in_one_cell_are_a_listing() -> None:
    # qianlong.com, 2005: no element per item, each a link, its date in a <font> after it, then <br>.
    runs = "".join(f"<font>v</font>&nbsp;<a href='http://auto.example.com/36/2005/07/{d:02d}/{d}.htm'>第{d}条相关报道的标题文字"
                   f"</a>&nbsp;<FONT color='gray' size='1'>2005-07-{d:02d} 09:00:04</font><br>" for d in (13, 11, 4))
    page = Selector(text=f"<html><body><p>正文</p><table class='relbox'><tr><td><table><tr><td class='relgroup'>相关报道</td></tr>"
                         f"<tr><td class='relcontent'>{runs}</td></tr></table></td></tr></table></body></html>")
    (found,) = suggest_listings(page, "http://auto.example.com/36/2005/07/18/1.htm", _NOW, _SH)
    assert found.heading == "相关报道"
    assert [(e.title, e.date_text) for e in found.entries] == [
        (f"第{d}条相关报道的标题文字", f"2005-07-{d:02d} 09:00:04") for d in (13, 11, 4)]


def test_a_list_nested_rows_below_its_bulleted_title_row_is_named_by_it() -> None:
    # sohu.com, 2004: `■相关链接` in one row; the list in the next row, two tables deep, in a CMS's namespaced tag.
    lis = "".join(f"<li class=relationNews><A href='http://business.example.com/2004071{d}/n{d}.shtml'>第{d}条相关链接的新闻标题</A>"
                  f"<FONT color=#828282 size=1>(07/1{d} 08:41)</FONT></li>" for d in (3, 2, 1))
    page = Selector(text="<html><body><p>正文</p><table id='r1'><tr><td>■<span class='main'><strong>相关链接</strong></span></td></tr>"
                         "<tr><td><table><tr><td width=45><img src='/cc.gif'></td><td><!-- ArticleRelative -->"
                         f"<sohu_cms_include:relativeArticle>{lis}</sohu_cms_include:relativeArticle></td></tr></table>"
                         "</td></tr></table></body></html>")
    (found,) = suggest_listings(page, "http://business.example.com/20040716/n1.shtml", _NOW, _SH)
    assert (found.heading, found.block) == ("相关链接", None)
    assert [e.date_text for e in found.entries] == ["07/13 08:41", "07/12 08:41", "07/11 08:41"]


def test_cards_in_two_side_by_side_columns_are_one_listing_named_by_the_title_bar_opening_the_box() -> None:
    # phys.org: `<li class="row"><div class="col-12"><h2>Related Stories</h2></div><div class="col-6">3 cards</div>
    # <div class="col-6">3 cards</div></li>`; a card is a link around an image, an <h5> title and a date.
    def cards(days: range) -> str:
        return "".join(f'<a href="https://phys.org/news/2019-08-story-{d}.html" class="news-link"><article><figure>'
                       f'<img src="x.jpg" alt=""><figcaption><h5>Story number {d} about early tool making</h5>'
                       f'<p class="text-low">Aug {d:02d}, 2019</p></figcaption></figure></article></a>' for d in days)
    box = (f'<li class="row no-gutters"><div class="col-12 mb-5"><h2>Related Stories</h2></div>'
           f'<div class="col-6">{cards(range(1, 4))}</div><div class="col-6">{cards(range(4, 7))}</div></li>')
    page = Selector(text=f'<html><body><article><p>Text of the article.</p></article><ul id="slider">{box}</ul></body></html>')
    (found,) = suggest_listings(page, "https://phys.org/news/2019-10-tool.html", datetime(2020, 1, 17, tzinfo=UTC),
                                ZoneInfo("UTC"))
    assert found.heading == "Related Stories"
    assert [(e.title, e.date_text) for e in found.entries] == [
        (f"Story number {d} about early tool making", f"Aug {d:02d}, 2019") for d in range(1, 7)]


def test_columns_with_their_own_headings_stay_separate_lists() -> None:
    def column(name: str) -> str:
        links = "".join(f'<li><a href="/{name}/{d}.html">{name} story number {d} of the day</a> 2019-08-0{d}</li>' for d in (1, 2, 3))
        return f'<div class="col-6"><h2>{name}</h2><ul>{links}</ul></div>'
    page = Selector(text=f'<html><body><div class="row">{column("World")}{column("Sports")}</div></body></html>')
    found = suggest_listings(page, "https://news.example.com/", datetime(2019, 8, 6, tzinfo=UTC), ZoneInfo("UTC"))
    assert [(s.heading, len(s.entries)) for s in found] == [("World", 3), ("Sports", 3)]


def test_a_heading_with_a_bracketed_see_all_link_names_its_list() -> None:
    # californiaglobe.com: `<div class="abh_name">Latest posts by Evan Symon <span>(<a>see all</a>)</span></div>`.
    lis = "".join(f'<li><a href="https://californiaglobe.com/section-2/story-{d}/">Story number {d} of the author</a>'
                  f'<span> - October {d}, 2020</span></li>' for d in (10, 9, 8))
    page = Selector(text='<html><body><div class="abh_text"><div class="abh_name">Latest posts by Evan Symon <span>'
                         '(<a href="https://californiaglobe.com/author/evan-symon/">see all</a>)</span></div>'
                         f'<div class="abh_description"><ul>{lis}</ul></div></div></body></html>')
    (found,) = suggest_listings(page, "https://californiaglobe.com/section-2/amazon/", datetime(2020, 10, 12, tzinfo=UTC),
                                ZoneInfo("UTC"))
    assert found.heading == "Latest posts by Evan Symon"
    assert [e.date_text for e in found.entries] == ["October 10, 2020", "October 9, 2020", "October 8, 2020"]
