"""crawler/discover/naming.py: a discovered block's heading, stable selector, kind, listing id and pagination,
each checked against a real parsel Selector of a fixture page (the crawler's own find_block must lead back)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from parsel import Selector

from crawler.discover.naming import (
    guess_kind,
    heading_that_finds,
    listing_id,
    nearby_heading,
    pagination_selector,
    stable_selector,
)
from crawler.extract import ListingEntry, extract_items

URL = "http://site.example/"
NOW = datetime(2026, 1, 5, 12, tzinfo=ZoneInfo("UTC"))
TZ = ZoneInfo("UTC")
PAGE = """<html><body>
<div class="box"><p>Some long sentence of prose that is no title at all, really.</p><ul class="list">
  <li><a href="/q/1.html">Unheaded one</a> 2026-01-01</li><li><a href="/q/2.html">Unheaded two</a> 2026-01-03</li>
  <li><a href="/q/3.html">Unheaded three</a> 2026-01-02</li></ul></div>
<div class="box"><h2>Latest posts »</h2><ul class="latest-news list">
  <li><a href="/p/3.html">Third post about gardens</a> <span>2026-01-03</span></li>
  <li><a href="/p/2.html">Second post about roses</a> <span>2026-01-02</span></li>
  <li><a href="/p/1.html">First post about winter</a> <span>2026-01-01</span></li></ul>
  <div class="pages"><a href="/list_2.html">2</a><a href="/list_3.html">3</a><a href="/list_2.html">Next</a></div>
</div>
<div class="box"><ul class="list">
  <li><a href="/r/1.html">Nameless one</a></li><li><a href="/r/2.html">Nameless two</a></li>
  <li><a href="/r/3.html">Nameless three</a></li></ul></div>
<table><caption>【Notices】</caption><tr><td><a href="/n/1.html">Notice one</a></td></tr></table>
</body></html>"""

UNHEADED, LATEST, NAMELESS = (f"(//div[@class='box'])[{n}]/ul" for n in (1, 2, 3))


def _block(xpath: str) -> tuple[Selector, Any, list[ListingEntry]]:
    page = Selector(text=PAGE, base_url=URL)
    block = page.xpath(xpath)[0]
    return page, block.root, extract_items(block, None, URL)


def test_heading_is_preferred_and_checked_against_the_crawler() -> None:
    page, element, entries = _block(LATEST)
    assert nearby_heading(element) == "Latest posts"  # decoration stripped
    assert heading_that_finds(page, element, entries, URL) == "Latest posts"
    assert heading_that_finds(page, element, entries[:2], URL) is None  # leads to other entries: not proposed
    assert nearby_heading(page.css("table")[0].root) == "Notices"  # a table's caption names it


def test_prose_above_a_block_is_no_heading() -> None:
    page, element, entries = _block(UNHEADED)
    assert nearby_heading(element) is None
    assert heading_that_finds(page, element, entries, URL) is None


def test_stable_selector_is_a_meaningful_unique_name_or_nothing() -> None:
    page, element, entries = _block(LATEST)
    assert stable_selector(page, element, entries, URL) == "ul.latest-news"  # not the generic, repeated "list"
    page, element, entries = _block(NAMELESS)
    assert stable_selector(page, element, entries, URL) is None  # only generic names, none unique: no positions


def test_pagination_is_named_from_the_links_after_the_block() -> None:
    page, element, _ = _block(LATEST)
    assert pagination_selector(page, element) == "div.pages a"
    page, element, _ = _block(UNHEADED)
    assert pagination_selector(page, element) is None


def test_kind_and_id() -> None:
    page, element, entries = _block(LATEST)
    assert guess_kind(element, "Latest posts", entries, False, False, NOW, TZ) == "latest"
    assert guess_kind(element, None, entries, False, False, NOW, TZ) == "latest"  # dates run newest first
    assert guess_kind(element, None, entries, True, False, NOW, TZ) == "ranking"
    page, element, entries = _block(UNHEADED)
    assert guess_kind(element, None, entries, False, False, NOW, TZ) == "recommended"  # dates out of order
    taken: set[str] = set()
    assert [listing_id(h, k, taken) for h, k in (("阅读排行", "ranking"), ("最新文稿", "latest"),
                                                   ("Latest news", "latest"), ("Garden Notes!", "recommended"),
                                                   (None, "recommended"))] == [
        "ranking", "latest", "latest-2", "garden-notes", "recommended"]
    assert taken == {"ranking", "latest", "latest-2", "garden-notes", "recommended"}


def test_a_previous_box_does_not_lend_its_heading() -> None:
    page = Selector(text=(
        "<body><div class='box'><h2>推荐文稿</h2><ul><li><a href='/a/1'>一</a></li><li><a href='/a/2'>二</a></li></ul>"
        "</div><div class='box'><ul id='plain'><li><a href='/a/3'>三</a> 10-12</li></ul></div></body>"))
    plain = page.css("#plain")[0].root
    assert nearby_heading(plain) is None  # the 推荐文稿 above belongs to the first box
    headed = page.css("div.box ul")[0].root
    assert nearby_heading(headed) == "推荐文稿"
