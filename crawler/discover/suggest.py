"""`suggest_listings(page, url)`: the dated listings of a page as proposed config (heading or stable selector,
kind, id, pagination), plus lists a script fills (shown empty in the HTML) and an article's "related" block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from parsel import Selector

from crawler.blocks import HEADING_TAGS, find_block
from crawler.discover.candidates import find_candidates, is_chrome, rankish
from crawler.discover.naming import (
    guess_kind,
    heading_text,
    heading_that_finds,
    listing_id,
    nearby_heading,
    pagination_selector,
    stable_selector,
)
from crawler.extract import ListingEntry, extract_items
from crawler.vocabulary import RELATED_WORDS


@dataclass
class Suggestion:
    id: str
    kind: str
    heading: str | None  # preferred: survives redesigns
    block: str | None  # else a stable selector
    entries: list[ListingEntry] = field(default_factory=list)
    pagination: str | None = None
    note: str | None = None  # e.g. "filled by script: needs the browser"


def suggest_listings(page: Selector, url: str, now: datetime, tz: ZoneInfo, taken: set[str] | None = None) -> list[Suggestion]:
    """Every dated listing on the page that can be named so the crawler finds it again, in page order."""
    taken = set() if taken is None else taken
    out: list[Suggestion] = []
    for cand in find_candidates(page, url):
        heading = heading_that_finds(page, cand.element, cand.entries, url)
        block = None if heading else stable_selector(page, cand.element, cand.entries, url)
        if heading is None and block is None:
            continue  # nothing stable names it; a positional selector would break on the next redesign
        shown = heading or nearby_heading(cand.element)
        kind = guess_kind(cand.element, shown, cand.entries, cand.ordered, rankish(cand.element, shown), now, tz)
        out.append(Suggestion(listing_id(shown, kind, taken), kind, heading, block, cand.entries,
                              pagination_selector(page, cand.element)))
    out += script_filled(page, url, taken, {s.heading for s in out if s.heading})
    return out


def script_filled(page: Selector, url: str, taken: set[str], known: set[str | None]) -> list[Suggestion]:
    """Headed blocks that are empty in the HTML of a page with scripts: lists the browser fills."""
    root = page.root
    if not isinstance(root, etree._Element) or not root.xpath("//script[normalize-space(.) or @src]"):
        return []
    out: list[Suggestion] = []
    for el in root.iter(*HEADING_TAGS, "div", "span", "strong"):
        text = heading_text(el)
        if not text or text in known or is_chrome(el) or (el.tag not in HEADING_TAGS and len(el) > 2):
            continue
        block = find_block(page, None, text, None)
        if block is None or extract_items(block, None, url) or block.root.xpath(".//a[@href]"):
            continue
        if not block.root.xpath("self::ul or self::ol or self::tbody or self::table or self::dl or @id"):
            continue
        known.add(text)
        kind = "ranking" if rankish(block.root, text) else "latest"
        out.append(Suggestion(listing_id(text, kind, taken), kind, text, None,
                              note="empty in the page's HTML and the page runs scripts: filled by script, "
                                   "so it needs the browser (render = \"auto\" fetches it through Chromium)"))
    return out


def suggest_related(page: Selector, url: str, taken: set[str]) -> Suggestion | None:
    """The article page's "related" block (相关文章, You may also like), by its heading."""
    root = page.root
    if not isinstance(root, etree._Element):
        return None
    host = urlsplit(url).hostname
    for el in root.iter():
        text = heading_text(el) if isinstance(el.tag, str) else None
        if not text or not RELATED_WORDS.search(text) or is_chrome(el):
            continue
        block = find_block(page, None, text, None)
        if block is None:
            continue
        entries = [e for e in extract_items(block, None, url) if urlsplit(e.url).hostname == host]
        if len(entries) >= 2:
            return Suggestion(listing_id(text, "related", taken), "related", text, None, entries)
    return None
