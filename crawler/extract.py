"""Listing extraction: a page (parsel Selector) + a ListingConfig → ListingEntry list. Pure; no Scrapy, no DB.

Article pages live in crawler/article.py and are re-exported here, so callers import both from one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from urllib.parse import urljoin

from lxml import etree
from parsel import Selector, SelectorList

from crawler.article import ArticleContent, extract_article, join_url
from crawler.block_items import HEADING_TAGS, iter_items
from crawler.blocks import find_block, select
from crawler.dates import (
    bare_date_text,
    find_date_text,
    machine_date_value,
    split_leading_date,
    split_trailing_date,
)
from crawler.item_text import NO_TEXT, headline_text, landing_url, visible_text
from crawler.urls import same_site
from crawler.vocabulary import NEXT_LABELS, PAGE_NUMBER
from feedsvc.config import ListingConfig
from feedsvc.text import clean_scraped_title, normalize_space

__all__ = [
    "ArticleContent",
    "ListingEntry",
    "extract_article",
    "extract_items",
    "extract_listing",
    "is_followable",
    "join_url",
    "PageLinks",
    "pagination_pages",
    "pagination_urls",
]

_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "#")
_ELLIPSIS = ("...", "…", "..")
_NO_TEXT = NO_TEXT  # also where an item shows its date: outside links, scripts and styles


@dataclass(frozen=True, slots=True)
class ListingEntry:
    url: str  # absolute (joined to base_url), not canonicalised yet
    title: str  # cleaned; a glued leading/trailing date removed
    date_text: str | None  # the raw date text as shown ("10-12"), None when the item shows none
    rank: int  # 1-based position within the block (among the items kept)
    date_value: str | None = None  # a machine-readable date (`<time datetime>`, data-* timestamp), preferred to the text


def is_followable(href: str | None) -> bool:
    """False for empty, fragment-only, javascript:, mailto: and similar links that name no page."""
    if not href:
        return False
    value = href.strip().lower()
    return bool(value) and not value.startswith(_SKIP_SCHEMES)


def extract_listing(page: Selector, listing: ListingConfig, base_url: str,
                    limit: int | None = None) -> list[ListingEntry] | None:
    """Entries of one listing block; None when the block is not on the page, [] when it is there but empty."""
    block = find_block(page, listing.block, listing.heading, listing.item)
    if block is None:
        return None
    return extract_items(block, listing, base_url, limit)


def extract_items(block: Selector, listing: ListingConfig | None, base_url: str,
                  limit: int | None = None) -> list[ListingEntry]:
    """Entries of a block already found; `listing` None (or its `item` unset) detects the item element.

    With a `limit` (max_items_per_listing) the work stops at limit + 1 entries, so the caller still sees the
    listing ran over, and at most _LOOK_AHEAD items per entry kept are looked at: a dense page of 250,000
    items costs what its first few hundred do."""
    listing = listing or _DETECT
    entries: list[ListingEntry] = []
    items: Iterator[etree._Element]
    items = (hit.root for hit in select(block, listing.item)) if listing.item else iter_items(block.root)
    if limit is not None:
        items = islice(items, (limit + 1) * _LOOK_AHEAD)
    for item in items:
        entry = _entry(item, listing, base_url, len(entries) + 1)
        if entry is not None:
            entries.append(entry)
            if limit is not None and len(entries) > limit:
                break
    return entries


# Items per entry kept that a capped extraction looks at: linkless rows (ads, spacers) are skipped, not counted.
_LOOK_AHEAD = 4
_DETECT = ListingConfig(id="detected", block="*")  # defaults only: item detected, first link, its text


def _entry(element: etree._Element, listing: ListingConfig, base_url: str, rank: int) -> ListingEntry | None:
    # The default path walks lxml elements directly: a parsel query per item costs more than the rest together,
    # and so does wrapping each item in a Selector only the configured selectors need.
    item = Selector(root=element, type="html") if listing.link or listing.title or listing.date else None
    # Held for the rest of this call: lxml makes a Python object (through lxml.html's Python-level class lookup)
    # each time an element is reached with none alive, and the steps below walk the item's elements five times.
    alive = list(element.iter())
    link: etree._Element | None = None
    heading = _item_heading(element) if not listing.title else None
    if listing.link:
        assert item is not None
        href = _first_href(select(item, listing.link))
    else:
        link = _heading_link(heading, element) if heading is not None else None
        if link is None:
            link = title_link(element)
        href = link.get("href") if link is not None else None
    if href is None or not is_followable(href):
        return None
    if listing.title:
        assert item is not None
        title = clean_scraped_title(_joined_text(select(item, listing.title)))
    else:  # a card's own heading is its title (the link may be an image or "read more")
        title = _heading_title(heading, link) if heading is not None else ""
    if not title:
        if link is None:
            link = next((a for a in element.iter("a") if a.get("href") is not None), None)
        title = _link_title(link)
    date_value: str | None = None
    if listing.date:
        assert item is not None
        dated = select(item, listing.date)
        date_text = normalize_space(_joined_text(dated)) or None
        date_value = next((v for hit in dated if not isinstance(hit.root, str)
                           if (v := machine_date_value(hit.attrib))), None)
    else:
        date_text, date_value = None, _machine_date(element)
    # A date in the item outside the link (`<span>10-12</span>`) is the date as the site lays it out.
    if date_text is None:
        date_text = _outside_date(list(_text_outside_links(element)))
    if date_text is None and date_value is None and link is not None:
        date_text = _date_inside(link, title)
    if date_text is None and element.tag == "dt":  # `<dt><a>title</a></dt><dd>2024-10-12</dd>`
        date_text = _outside_date([t for dd in _dds(element) for t in _text_outside_links(dd)])
    if date_text is None and element.tag == "a":  # `<a>title</a><font>2005-07-13</font><br>`: a run, no element
        date_text = _outside_date(list(_run_texts(element)))
    glued, title = split_leading_date(title)
    if glued is None:
        glued, title = split_trailing_date(title)
    if not title:
        return None
    url = join_url(base_url, "".join(href.split()))  # CMSs wrap long hrefs over lines
    if (carried := landing_url(url)) != url and same_site(carried, url):
        url = carried  # the portal's own click counter: the article is what it carries
    date_text = date_text or glued
    del alive
    return ListingEntry(url=url, title=title, date_text=date_text or date_value, rank=rank, date_value=date_value)


def title_link(item: etree._Element) -> etree._Element | None:
    """The link carrying an item's title: a card also links its image, channel, tags, author and comments, so the
    first link with headline-length visible text (at least half the longest's), else the first link at all."""
    links = [a for a in ([item] if item.tag == "a" else item.iter("a")) if is_followable(a.get("href"))]
    if not links:
        return None
    if len(links) == 1:
        return links[0]  # the one link is the title link whatever its text
    lengths = [len(normalize_space(visible_text(a))) for a in links]
    longest = max(lengths)
    if longest == 0:
        return links[0]  # image links only: the title comes from the image's alt text
    return next(a for a, n in zip(links, lengths, strict=True) if n >= longest / 2)


_BRACKETED = re.compile(r"[(\[【（［「『〔〈《][^)\]】）］」』〕〉》]*[)\]】）］」』〕〉》]")


def _heading_title(heading: etree._Element, link: etree._Element | None) -> str:
    """A card heading's text; the title link's own text when the heading adds only a date and bracketed marks to it
    (`<h4><a>見出し</a> （2018/6/18 14:10） ［有料会員限定］</h4>`): those are not the headline."""
    if link is not None and any(el is link for el in heading.iter("a")):
        rest = _BRACKETED.sub(" ", normalize_space(" ".join(_text_outside_links(heading))))
        while found := find_date_text(rest):
            rest = rest.replace(found, " ")
        if not re.sub(r"[\W_]", "", rest) and (text := _link_title(link)):
            return text
    return clean_scraped_title(visible_text(heading))


def _outside_date(texts: list[str]) -> str | None:
    """The date among an item's texts outside its links: searched for in them all, else a text that is only a time
    (`08:52`, today) or a month (`2019-07`), as forum and news lists show today's items."""
    return find_date_text(normalize_space(" ".join(texts))) or next(
        (found for text in texts if (found := bare_date_text(text))), None)


def _date_inside(link: etree._Element, title: str) -> str | None:
    """A date in an element of its own inside the title link (`<a><h5>Title</h5><p>3 hours ago</p></a>`)."""
    for el in link.iterdescendants():
        if not isinstance(el.tag, str) or el.tag in HEADING_TAGS or len(el):
            continue
        text = normalize_space(visible_text(el))
        found = find_date_text(text) if text and text not in title and len(text) <= 40 else None
        if found and len(found) >= len(text) - 8:
            return found
    return None


def _machine_date(element: etree._Element) -> str | None:
    """A machine-readable date inside a listing item: <time datetime>, <meta content>, data-* timestamps."""
    for el in element.iter():
        if not isinstance(el.tag, str) or not el.attrib:
            continue
        attrs = el.attrib if el.tag in ("time", "meta") else {k: v for k, v in el.attrib.items() if k.startswith("data-")}
        if attrs:
            value = machine_date_value(attrs)
            if value:
                return value
    return None


def _item_heading(element: etree._Element) -> etree._Element | None:
    """The first h1–h6 inside an item that shows text, for card layouts."""
    for el in element.iter(*HEADING_TAGS):
        if normalize_space("".join(el.itertext())):
            return el
    return None


def _heading_link(heading: etree._Element, item: etree._Element) -> etree._Element | None:
    """The link a card heading sits in (within the item) or holds."""
    el: etree._Element | None = heading
    while el is not None:
        if el.tag == "a" and is_followable(el.get("href")):
            return el
        el = None if el is item else el.getparent()
    return next((a for a in heading.iter("a") if is_followable(a.get("href"))), None)


def _dds(dt: etree._Element) -> Iterator[etree._Element]:
    """The `<dd>` elements after a `<dt>`, up to the next `<dt>`."""
    sibling = dt.getnext()
    while sibling is not None and sibling.tag != "dt":
        if sibling.tag == "dd":
            yield sibling
        sibling = sibling.getnext()


def _run_texts(link: etree._Element) -> Iterator[str]:
    """Text after a bare item link up to the next link or line break: old portals list `<a>title</a>&nbsp;<font>date
    </font><br>` runs in one cell, with no element per item, so the link and what follows it on its line are one."""
    if link.tail:
        yield link.tail
    for sibling in link.itersiblings():
        if not isinstance(sibling.tag, str):
            continue
        if sibling.tag in ("br", "p", "div", "li", "tr") or (sibling.tag == "a" and sibling.get("href")):
            return
        yield from _text_outside_links(sibling)
        if sibling.tail:
            yield sibling.tail


def _text_outside_links(element: etree._Element) -> Iterator[str]:
    """Text of `element` that is not inside a link, script or style (where a listing item shows its date)."""
    if not isinstance(element.tag, str) or element.tag in _NO_TEXT:
        return
    if element.text:
        yield element.text
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _NO_TEXT:
            yield from _text_outside_links(child)
        if child.tail:
            yield child.tail


def _first_href(found: SelectorList[Selector]) -> str | None:
    """A link selector may yield strings (`a::attr(href)`) or elements (`a`); take the first usable href."""
    for hit in found:
        value = hit.get() if isinstance(hit.root, str) else hit.attrib.get("href") or hit.xpath(".//a/@href").get()
        if is_followable(value):
            return value
    return None


def _joined_text(found: SelectorList[Selector]) -> str:
    parts = [hit.get() if isinstance(hit.root, str) else hit.xpath("string(.)").get("") for hit in found]
    return " ".join(part for part in parts if part)


def _link_title(link: etree._Element | None) -> str:
    """The link's text, or its title attribute when the text is empty or a truncated form of it (`关于…`)."""
    if link is None:
        return ""
    text = clean_scraped_title(headline_text(link))
    raw = link.get("title") if not text or text.endswith(_ELLIPSIS) else None  # cleaned only when it may serve
    attr = clean_scraped_title(raw) if raw else ""
    if attr and (not text or attr.startswith(text.rstrip(".…"))):
        return attr
    if text:
        return text
    return clean_scraped_title(next((img.get("alt") or "" for img in link.iter("img") if img.get("alt")), ""))


def pagination_urls(page: Selector, selector: str, base_url: str) -> list[str]:
    """Absolute URLs of the pages a pagination selector points to (elements or href strings), in order, once each."""
    return list(_pagination_links(page, selector, base_url))


@dataclass(frozen=True, slots=True)
class PageLinks:
    current: int | None  # this page's number, when known or read off its links
    links: list[tuple[str, int | None]]  # (absolute URL, the page number it leads to when known), in page order


def pagination_pages(page: Selector, selector: str, base_url: str, current: int | None) -> PageLinks:
    """The pagination links with the page number each leads to: from a number label (`3`, `[3]`, `第3页`), or
    current + 1 for a "next" link (`下一页`, `next`, `»`) or a lone unlabelled link. A "next" link that is also a
    numbered one tells the current page's number when the caller does not know it."""
    links = _pagination_links(page, selector, base_url)
    numbers: dict[str, int] = {}
    nexts: list[str] = []
    for url, labels in links.items():
        for label in labels:
            found = PAGE_NUMBER.fullmatch(label)
            if found:
                numbers.setdefault(url, int(found.group(1)))
            elif label.casefold() in NEXT_LABELS:
                nexts.append(url)
    if len(links) == 1 and not numbers and not nexts:
        nexts = list(links)
    if current is None and len(nexts) == 1 and nexts[0] in numbers:
        current = numbers[nexts[0]] - 1
    if current is not None:
        for url in nexts:
            numbers.setdefault(url, current + 1)
    return PageLinks(current, [(url, numbers.get(url)) for url in links])


def _pagination_links(page: Selector, selector: str, base_url: str) -> dict[str, list[str]]:
    """Absolute URL → the link texts shown for it (none for href strings), in page order."""
    links: dict[str, list[str]] = {}
    for hit in select(page, selector):
        if isinstance(hit.root, str):
            found = [(hit.get(), "")]
        elif hit.attrib.get("href") is not None:
            found = [(hit.attrib["href"], hit.xpath("string(.)").get(""))]
        else:
            found = [(a.attrib.get("href"), a.xpath("string(.)").get("")) for a in hit.xpath(".//a[@href]")]
        for href, label in found:
            if is_followable(href):
                assert href is not None
                labels = links.setdefault(urljoin(base_url, "".join(href.split())), [])
                label = normalize_space(label)
                if label:
                    labels.append(label)
    return links


def empty_reason(page: Selector, listing: ListingConfig) -> tuple[str, bool]:
    """Why a listing whose block is on the page gave no entries, in the words of its config: the item selector
    matched nothing, the items hold no usable link, or the block itself is empty. The flag is True when the block
    is empty on a page with scripts, which may fill it."""
    block = find_block(page, listing.block, listing.heading, listing.item)
    if block is None:
        return "its block is not on the page", False
    if listing.item:
        items = select(block, listing.item)
        if not items:
            return f"its item selector {listing.item!r} matched nothing inside the block", False
        link = f"its link selector {listing.link!r} found" if listing.link else "they hold"
        return f"the block has {len(items)} item(s) ({listing.item!r}) but {link} no followable link in them", False
    if not any(is_followable(a.get("href")) for a in block.root.iter("a")):
        if page.xpath("//script"):
            return "the block is there but holds no links (the page has scripts: it may be filled by one)", True
        return "the block is there but holds no links", False
    return "the block has links but no item was recognised in it; set `item` to the element of one entry", False
