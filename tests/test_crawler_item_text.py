"""crawler/item_text.py: which text of a listing item's link is its headline, and where a link lands (real shapes)."""

from __future__ import annotations

import pytest
from lxml import html

from crawler.item_text import headline_text, landing_url, only_date, visible_text
from feedsvc.text import normalize_space


def _link(markup: str) -> html.HtmlElement:
    return html.fragment_fromstring(markup)


@pytest.mark.parametrize(
    ("markup", "headline"),
    [
        # bbc.com: an off-screen "Video" label, then the headline, then its date in a block of its own.
        ('<a href="/1"><div><div><span class="off-screen">Video</span> <span>Mass graves</span></div>'
         '<div class="date">10 April 2020</div></div></a>', "Mass graves"),
        # bbc.com Top Stories: headline, summary paragraph, date.
        ('<a href="/2"><strong>Record new cases</strong><p>Several states see a surge.</p><div>8 July 2020</div></a>',
         "Record new cases"),
        # metrotimes.com: a <p> headline over a byline and a <time>.
        ('<a href="/3"><div><p>Talking turkey</p><div><p>By Robert Stempkowski</p><time>Nov 8, 2023</time></div></div>'
         '<div><img src="x.jpg"></div></a>', "Talking turkey"),
        # telegraph.co.uk: a "Live" badge before the headline.
        ('<a href="/4"><span><span class="label-live"><span class="label-live__copy">Live</span></span>'
         '<span>Russia-Ukraine latest</span></span></a>', "Russia-Ukraine latest"),
        # A relative date opening running text is its dateline.
        ('<a href="/5"><span>6小时前</span> 标题文字在这里</a>', "标题文字在这里"),
        # nikkei.com's quote row: figures in blocks stay one line, the date amid them with it.
        ('<a href="/6"><ul><li><span>日経平均</span><br><span>6/19 大引</span></li><li>22,278.48</li></ul></a>',
         "日経平均6/19 大引22,278.48"),  # (no spaces in the markup between the parts)
    ],
)
def test_headline_text(markup: str, headline: str) -> None:
    assert normalize_space(headline_text(_link(markup))) == headline


def test_hidden_and_screen_reader_text_is_not_visible() -> None:
    link = _link('<a href="/x"><span hidden>copy</span><span class="sr-only">skip</span><span style="display:none">'
                 'none</span>Shown</a>')
    assert normalize_space(visible_text(link)) == "Shown"


@pytest.mark.parametrize(
    ("url", "lands"),
    [
        ("http://cn.rd.yahoo.com/home/articlepage/relatedarticle/news/*http://cn.news.yahoo.com/050403/72/2aji2.html",
         "http://cn.news.yahoo.com/050403/72/2aji2.html"),
        ("https://t.example.com/click?u=1&url=https%3A%2F%2Fnews.example.com%2Fa%2F1.html&x=2",
         "https://news.example.com/a/1.html"),
        ("https://news.example.com/2024/story.html", "https://news.example.com/2024/story.html"),
    ],
)
def test_landing_url(url: str, lands: str) -> None:
    assert landing_url(url) == lands


def test_only_date_is_a_date_with_little_else() -> None:
    assert only_date("10 April 2020") and only_date("6/19 大引")
    assert not only_date("Five new Steam games you probably missed (March 18, 2024)")
