"""`suggest_listings(page, url)`: the dated listings of a page as proposed config (heading or stable selector,
kind, id, pagination), plus lists a script fills (shown empty in the HTML) and an article's "related" block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from lxml import etree
from parsel import Selector

from crawler.blocks import find_block
from crawler.discover.candidates import MIN_DATED, find_candidates, is_chrome, rankish
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
from crawler.urls import same_site
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
    """Every dated listing on the page that can be named so the crawler finds it again, in page order. Only
    listings with items: a box that is empty in the HTML is `script_filled`'s, and never proposed as a listing."""
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
    return out


def script_filled(page: Selector, url: str, taken: set[str], known: set[str | None]) -> list[Suggestion]:
    """Headed lists (a title bar above an empty ul/ol/table/dl) that are empty in the HTML of a page with scripts:
    lists a script may fill. Shown to the user as a note, never written as a listing: nothing proves they hold
    dated items until a rendered page shows them."""
    root = page.root
    if not isinstance(root, etree._Element) or not root.xpath("//script[normalize-space(.) or @src]"):
        return []
    out: list[Suggestion] = []
    # From the empty lists up to their title bar: walking every element of a portal and looking each one's text
    # up as a heading cost seconds per page.
    for box in root.xpath("//ul[not(*[normalize-space(.)])] | //ol[not(*[normalize-space(.)])] | "
                          "//dl[not(*[normalize-space(.)])] | //tbody[not(*[normalize-space(.)])]"):
        text = next((t for el in _bars_before(box) if (t := heading_text(el))), None)
        if not text or text in known or is_chrome(box):
            continue
        block = find_block(page, None, text, None)
        if block is None or block.root is not box or extract_items(block, None, url):
            continue
        known.add(text)
        kind = "ranking" if rankish(box, text) else "latest"
        out.append(Suggestion(listing_id(text, kind, taken), kind, text, None,
                              note="empty in the page's HTML and the page runs scripts: filled by script?"))
    return out


def rendered_fills(rendered: list[Suggestion], boxes: list[Suggestion]) -> list[Suggestion]:
    """The empty boxes (`script_filled`) that the rendered page shows as dated listings, as proposals: only a box
    whose rendered items are mostly dated, as a candidate list must be, so nothing itemless or undated is
    proposed on the strength of a script alone."""
    out = []
    for box in boxes:
        shown = next((s for s in rendered if s.heading == box.heading and s.entries), None)
        if shown is None or sum(bool(e.date_text or e.date_value) for e in shown.entries) < MIN_DATED * len(shown.entries):
            continue
        out.append(Suggestion(box.id, shown.kind, box.heading, None, shown.entries, shown.pagination,
                              note="filled by script: found by rendering the page in Chromium, so the crawl renders "
                                   "it too (render = \"auto\", Chromium on the crawling machine)"))
    return out


def _bars_before(box: etree._Element) -> list[etree._Element]:
    """The element right before `box` (or before its parent, for a list wrapped in a div): its title bar."""
    found = []
    for el in (box, box.getparent()):
        prev = el.getprevious() if el is not None else None
        while prev is not None and not isinstance(prev.tag, str):
            prev = prev.getprevious()
        if prev is not None:
            found.append(prev)
    return found


def suggest_related(page: Selector, url: str, taken: set[str]) -> Suggestion | None:
    """The article page's "related" block (相关文章, You may also like), by its heading."""
    root = page.root
    if not isinstance(root, etree._Element):
        return None
    for el in root.iter():
        text = heading_text(el) if isinstance(el.tag, str) else None
        if not text or not RELATED_WORDS.search(text) or is_chrome(el):
            continue
        block = find_block(page, None, text, None)
        if block is None:
            continue
        entries = [e for e in extract_items(block, None, url) if same_site(e.url, url)]
        if len(entries) >= 2:
            return Suggestion(listing_id(text, "related", taken), "related", text, None, entries)
    return None
