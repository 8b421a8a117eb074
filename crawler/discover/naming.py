"""What to call a discovered block and how to find it again: its heading text, else a stable selector (an id or
a meaningful class, never a positional chain), its kind, a listing id and its pagination links.

Every proposal is checked against the page: a heading or selector is kept only when the crawler's own
`find_block` + extraction lead back to the same items.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree
from parsel import Selector

from crawler.block_items import HEADING_TAGS, detect_items
from crawler.blocks import find_block
from crawler.dates import parse_date
from crawler.extract import ListingEntry, extract_items
from crawler.vocabulary import DECOR, LATEST_WORDS, NEXT_LABELS, PAGE_NUMBER, heading_kind
from feedsvc.text import normalize_space

_CONFIRMED_LEVELS = 6  # wrappers climbed looking for a heading that find_block then confirms
_MAX_HEADING = 30  # characters; longer text above a block is prose, not its title
_TITLE_CLASS = re.compile(r"tit|head|hd|caption|label|name|bar", re.I)
_SIMPLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
# Class words that say how a box looks, not what it holds: they recur on other boxes and change with themes.
_GENERIC = re.compile(
    r"^(clearfix|clear|cf|row|col(-\w+)*|left|right|fl|fr|pull-\w+|container|wrap(per)?|inner|outer|box|list|"
    r"item|items|main|content|section|block|module|mod|panel|card|cards|grid|flex|mt\d*|mb\d*|ml\d*|mr\d*|"
    r"p[xytblr]?-?\d+|m[xytblr]?-?\d+|w\d+|span\d+|hidden|active|show|d-\w+|[a-z]{1,2}\d*)$",
    re.I,
)
def _clean(text: str) -> str:
    return normalize_space(text).strip(DECOR)


# Brackets left empty once a link's text is set aside: `Latest posts by Evan Symon (<a>see all</a>)`.
_EMPTY_BRACKETS = re.compile(r"[(\[【（［]\s*[)\]】）］]")


def _text_outside_links(el: etree._Element) -> str:
    text = " ".join(el.xpath(".//text()[not(ancestor::a) and not(ancestor::script) and not(ancestor::style)]"))
    return _clean(_EMPTY_BRACKETS.sub(" ", text))


def heading_text(el: etree._Element) -> str | None:
    """The title an element shows when it is a heading-like bar above a block, else None."""
    if not isinstance(el.tag, str) or el.tag in ("script", "style", "ul", "ol", "table", "dl"):
        return None
    if el.tag in HEADING_TAGS:
        text = _clean("".join(el.itertext()))
    elif next(iter(el.iter("ul", "ol", "dl", "table")), None) is not None:
        return None  # a whole box (a heading and its own list), not the title bar of the block after it
    else:
        inner = next(iter(el.iter(*HEADING_TAGS)), None)
        if inner is not None:
            text = _clean("".join(inner.itertext()))
        elif len(el.xpath(".//a[@href]")) > 2:
            return None
        else:
            # `<div class="title"><span>阅读排行</span><a class="more">更多>></a></div>`
            text = _text_outside_links(el) or _clean("".join(el.itertext()))
            titled = _TITLE_CLASS.search(el.get("class") or "") or el.tag in ("caption", "legend", "strong", "b", "span")
            if not titled and len(text) > 12:  # a plain box with a sentence in it is not a title bar
                return None
    return text if 0 < len(text) <= _MAX_HEADING else None


def nearby_heading(element: etree._Element, levels: int = 3) -> str | None:
    """The text shown as the title of `element`'s box: a heading just before it, climbing out of `levels` wrappers."""
    el: etree._Element | None = element
    for _ in range(levels):
        if el is None or not isinstance(el.tag, str) or el.tag in ("body", "html"):
            return None
        if el.tag == "table":
            caption = el.find("caption")
            if caption is not None and heading_text(caption):
                return heading_text(caption)
        sibling = el.getprevious()
        for _ in range(2):
            while sibling is not None and not isinstance(sibling.tag, str):
                sibling = sibling.getprevious()
            if sibling is None:
                break
            text = heading_text(sibling)
            if text:
                return text
            if normalize_space("".join(sibling.itertext())):
                break  # real content in between: what is above belongs to something else
            sibling = sibling.getprevious()
        el = el.getparent()
    return None


def _same(found: list[ListingEntry] | None, want: list[ListingEntry]) -> bool:
    return found is not None and [e.url for e in found] == [e.url for e in want]


def heading_that_finds(page: Selector, element: etree._Element, entries: list[ListingEntry], url: str) -> str | None:
    """The block's heading text when `heading = "…"` leads the crawler back to exactly these entries.

    Table layouts put the title in the row above the list's row, with the list nested cells and tables deep in
    the next one (sohu.com's 相关链接): the climb goes further than for a guess, since find_block must confirm it."""
    for heading in (nearby_heading(element, _CONFIRMED_LEVELS), _leading_heading(element)):
        if not heading:
            continue
        block = find_block(page, None, heading, None)
        if block is not None and _same(extract_items(block, None, url), entries):
            return heading
    return None


def _leading_heading(element: etree._Element) -> str | None:
    """The title bar that opens the box itself, before its items (`<li><div><h2>Related Stories</h2></div><div>cards
    </div><div>cards</div></li>`)."""
    first = next((child for child in element if isinstance(child.tag, str)), None)
    if first is None or any(first is it for it in detect_items(element)):
        return None
    return heading_text(first)


def stable_selector(page: Selector, element: etree._Element, entries: list[ListingEntry], url: str) -> str | None:
    """`#id` or `tag.class` naming the block (or a wrapper up to two levels out), unique on the page and
    leading back to these entries; meaningful names first. None when the page offers no such name."""
    el: etree._Element | None = element
    tried: list[str] = []
    for _ in range(3):
        if el is None or not isinstance(el.tag, str) or el.tag in ("body", "html"):
            break
        ident = el.get("id") or ""
        if _SIMPLE_NAME.match(ident) and not re.search(r"\d{3,}", ident):
            tried.append(f"#{ident}")
        classes = [c for c in (el.get("class") or "").split() if _SIMPLE_NAME.match(c) and not re.search(r"\d{3,}", c)]
        tried += [f"{el.tag}.{c}" for c in classes if not _GENERIC.match(c)]
        if len(classes) > 1:
            tried.append(el.tag + "".join(f".{c}" for c in classes))
        tried += [f"{el.tag}.{c}" for c in classes if _GENERIC.match(c)]
        el = el.getparent()
    for selector in tried:
        hits = page.css(selector)
        if len(hits) == 1 and _same(extract_items(hits[0], None, url), entries):
            return selector
    return None


def guess_kind(element: etree._Element, heading: str | None, entries: list[ListingEntry], ordered: bool,
               ranking: bool, now: datetime, tz: ZoneInfo) -> str:
    """`ranking` when numbered or headed like one, `latest` when dates run newest first, else `recommended`."""
    if ranking or ordered:
        return "ranking"
    if heading and LATEST_WORDS.search(heading):
        return "latest"
    dates = [d for d in (parse_date(e.date_text, now, tz) for e in entries if e.date_text) if d is not None]
    if len(dates) >= 3 and len(dates) >= 0.8 * len(entries) and all(a >= b for a, b in zip(dates, dates[1:], strict=False)):
        return "latest"
    return "recommended"


def listing_id(heading: str | None, kind: str, taken: set[str]) -> str:
    """A slug for the listing: a known word for known headings (排行 → ranking), else the heading in ASCII."""
    base = (heading_kind(heading) if heading else None) or ""
    if not base and heading:
        base = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")[:40]
    base = base or kind
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def pagination_selector(page: Selector, element: etree._Element) -> str | None:
    """`div.pages a`: the page-number / next links right after the block, when a unique name reaches them."""
    el: etree._Element | None = element
    for _ in range(3):
        if el is None or not isinstance(el.tag, str) or el.tag in ("body", "html"):
            return None
        sibling = el.getnext()
        for _ in range(2):
            while sibling is not None and not isinstance(sibling.tag, str):
                sibling = sibling.getnext()
            if sibling is None:
                break
            if _looks_like_pages(sibling):
                return _name_links(page, sibling)
            sibling = sibling.getnext()
        el = el.getparent()
    return None


def _looks_like_pages(el: etree._Element) -> bool:
    labels = [_clean("".join(a.itertext())) for a in el.iter("a") if a.get("href")]
    if not labels:
        return False
    paging = sum(1 for t in labels if PAGE_NUMBER.fullmatch(t) or t.casefold() in NEXT_LABELS)
    return paging >= max(1, len(labels) * 0.6)


def _name_links(page: Selector, container: etree._Element) -> str | None:
    names = []
    ident = container.get("id") or ""
    if _SIMPLE_NAME.match(ident):
        names.append(f"#{ident}")
    names += [f"{container.tag}.{c}" for c in (container.get("class") or "").split() if _SIMPLE_NAME.match(c)]
    for name in names:
        if len(page.css(name)) == 1:
            return f"{name} a"
    return None
