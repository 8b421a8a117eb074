"""crawler/article.py: title, date, summary and a cleaned body from real article markup."""

from __future__ import annotations

from parsel import Selector

from crawler.article import extract_article, join_url
from feedsvc.config import ArticleSelectors

PAGE = """<html><head><meta name="description" content="Fallback description"></head><body>
<nav class="breadcrumb"><a href="/">Home</a></nav>
<article>
  <h1>  A &amp; B\u200b report </h1><time datetime="2026-10-12T08:00:00+08:00">2026年10月12日 08:00</time>
  <p onclick="x()">First paragraph with a <a href="../b/c.html">relative link</a> and <img src="i.png">.</p>
  <script>track()</script>
  <div class="share-box"><a href="http://social.test/">Share</a></div>
  <h3>Related reading</h3><ul><li><a href="/a/9">Nine</a></li><li><a href="/a/8">Eight</a></li></ul>
</article></body></html>"""
BASE = "http://gw.test/news/a/1.html"


def test_heuristics_find_title_date_and_a_clean_body() -> None:
    article = extract_article(Selector(text=PAGE), ArticleSelectors(), BASE, exclude_headings=["Related reading"])
    assert article.title == "A & B report"
    assert article.date_text is not None and "2026" in article.date_text
    body = article.content_html or ""
    assert 'href="http://gw.test/news/b/c.html"' in body and 'src="http://gw.test/news/a/i.png"' in body
    assert "track()" not in body and "onclick" not in body and "Share" not in body
    assert "Nine" not in body and "Related reading" not in body  # the excluded block is cut
    assert article.summary is not None and "First paragraph with a relative link" in article.summary


def test_configured_selectors_win_and_description_is_the_last_resort() -> None:
    page = Selector(text='<html><head><meta name="description" content="Only this"></head>'
                         '<body><div class="t">Set title</div><h1>Other</h1></body></html>')
    article = extract_article(page, ArticleSelectors(title="div.t"), BASE)
    assert article.title == "Set title" and article.summary == "Only this"


def test_join_url() -> None:
    assert join_url(BASE, "../x.html") == "http://gw.test/news/x.html"
    assert join_url(BASE, "https://o.test/y") == "https://o.test/y"
