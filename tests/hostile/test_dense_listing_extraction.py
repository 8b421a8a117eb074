"""A dense listing (250,000 items, 20 MB) costs what its first few hundred items do: crawler/blocks.py trims the
page and bounds item detection, crawler/extract.py stops at max_items_per_listing (issue 21, item 6)."""

from __future__ import annotations

import time

from parsel import Selector

from crawler.block_items import detect_items
from crawler.blocks import MAX_PAGE_ELEMENTS, trim_dense
from crawler.extract import extract_listing
from feedsvc.config import ListingConfig

BASE = "http://s.test/"


def dense_page(items: int) -> Selector:
    rows = "".join(f'<li><a href="/a/{n}">Article number {n} of the archive</a> <span>2024-10-12</span></li>'
                   for n in range(items))
    return Selector(text=f"<html><body><h2>News</h2><ul class='list'>{rows}</ul><p id='end'>end</p></body></html>")


def test_dense_listing_is_extracted_within_bounded_work() -> None:
    page = dense_page(250_000)
    # Before the bounds, this page did not finish within 300 s of CPU; after, about 1 s (trim + extraction).
    started = time.process_time()
    total = trim_dense(page)
    entries = extract_listing(page, ListingConfig(id="n", heading="News"), BASE, limit=500)
    spent = time.process_time() - started
    assert total == 750_000 + 5  # html, body, h2, ul, p + three elements per item
    assert entries is not None and len(entries) == 501  # one past the cap: the caller sees the listing ran over
    assert [(e.url, e.title, e.date_text, e.rank) for e in entries[:2]] == [
        (BASE + "a/0", "Article number 0 of the archive", "2024-10-12", 1),
        (BASE + "a/1", "Article number 1 of the archive", "2024-10-12", 2)]
    assert [e.url for e in entries] == [f"{BASE}a/{n}" for n in range(501)]
    assert spent < 10, f"{spent:.1f} s of CPU for a dense listing"


def test_trim_keeps_the_first_elements_in_document_order() -> None:
    page = dense_page(100)
    assert trim_dense(page, max_elements=10) == 305
    kept = page.root.xpath("//*")
    assert len(kept) == 10
    assert [e.tag for e in kept[:5]] == ["html", "body", "h2", "ul", "li"]
    assert page.css("li a::attr(href)").getall() == ["/a/0", "/a/1"]  # li a span li a span: the third li goes
    assert page.css("#end") == []


def test_a_page_under_the_bound_is_left_alone() -> None:
    page = dense_page(100)
    assert trim_dense(page) is None and len(page.root.xpath("//li")) == 100
    assert MAX_PAGE_ELEMENTS > 10_000  # far above a real page's few thousand elements


def test_item_detection_samples_a_wide_block_but_lists_every_item() -> None:
    page = dense_page(5_000)
    ul = page.root.xpath("//ul")[0]
    assert len(detect_items(ul)) == 5_000
    assert [li.xpath("string(a/@href)") for li in detect_items(ul, limit=3)] == ["/a/0", "/a/1", "/a/2"]


def test_extraction_without_a_limit_keeps_every_entry() -> None:
    entries = extract_listing(dense_page(1_500), ListingConfig(id="n", heading="News"), BASE)
    assert entries is not None and len(entries) == 1_500 and entries[-1].rank == 1_500
