"""Candidate listing blocks on a page: repeated items linking to this site's articles, most of them dated.

A candidate is kept only when it looks like a list of articles, so menus, breadcrumbs, footers, tag clouds and
undated link farms are dropped: see `_REJECT_WHY` for the rules and why each holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree
from parsel import Selector

from crawler.block_items import detect_items, item_box
from crawler.discover.naming import nearby_heading
from crawler.extract import ListingEntry, extract_items
from crawler.item_text import landing_url, visible_text
from crawler.urls import site_of
from crawler.vocabulary import CHROME_WORDS, RANKING_CLASS, RANKING_WORDS
from feedsvc.text import normalize_space

# Ancestors that hold site chrome, never article lists (by tag, or by a class/id word).
_CHROME_TAGS = frozenset({"nav", "header", "footer", "menu", "aside-nav"})
_MIN_ITEMS = 3
MIN_DATED = 0.6  # share of items showing a date for a dated list; glued and year-less dates count
_MIN_SAME_SITE = 0.8  # share of items linking to this site: link farms and partner boxes point away
_MIN_UNDATED_TITLE = 8  # characters: an undated ranking must read like article titles, not menu labels
# Share of items linking a page no other item links: a comment thread links its authors again and again, or
# each comment's anchor on the article's own page.
_MIN_DISTINCT = 0.8
_MAX_HEADLINES = 2.0  # per item: a "column" of a front page holds several headlines; an item (a card too) holds one

_REJECT_WHY = {
    "chrome": "inside nav/header/footer or a menu/tag/breadcrumb box",
    "few": f"fewer than {_MIN_ITEMS} items",
    "offsite": "links mostly leave the site",
    "undated": "items carry no dates and do not read like a ranking of articles",
    "columns": "each item holds several lists (a page column, not an item)",
    "repeats": "items link the same pages again and again (comments: their authors, or anchors on one page)",
}


@dataclass
class Candidate:
    element: etree._Element  # the block: the items' common parent
    entries: list[ListingEntry]
    dated: float  # share of entries with a date
    ordered: bool  # <ol>, or every title starts with its rank


def find_candidates(page: Selector, url: str, strict: bool = True) -> list[Candidate]:
    """Every block of repeated, same-site, article-like items on the page, in page order, each block once.
    `strict=False` keeps every block of two or more linked items (healing judges them by content instead)."""
    host = urlsplit(url).hostname or ""
    body = page.root
    if not isinstance(body, etree._Element):
        return []
    found: list[Candidate] = []
    seen: set[frozenset[str]] = set()
    for parent in body.iter():
        if not isinstance(parent.tag, str) or not _has_repeats(parent):
            continue
        items = detect_items(parent)
        if not items or item_box(parent) is not parent:
            continue  # the items sit deeper: that inner element is the block, visited on its own
        entries = extract_items(Selector(root=parent, type="html"), None, url)
        urls = frozenset(e.url for e in entries)
        # Healing keeps twin blocks (same items twice on the page): two equal answers mean "not sure".
        if len(entries) < (_MIN_ITEMS if strict else 2) or (strict and urls in seen):
            continue
        candidate = _judge(parent, entries, host) if strict else Candidate(parent, entries, 0.0, False)
        if candidate is not None:
            seen.add(urls)
            found.append(candidate)
    return found


def why_rejected(element: etree._Element, entries: list[ListingEntry], host: str) -> str | None:
    """The reason a block is not an article listing (a key of _REJECT_WHY), or None when it is one."""
    if len(entries) < _MIN_ITEMS:
        return "few"
    dated = sum(1 for e in entries if e.date_text) / len(entries)
    if is_chrome(element, dated >= MIN_DATED):
        return "chrome"
    site = site_of(host)
    # On the site by its own host and by where it lands: a share button carrying our URL is facebook's.
    on_site = sum(1 for e in entries if site_of(urlsplit(e.url).hostname or "") == site == site_of(landing_host(e.url)))
    same = on_site / len(entries)
    if same < _MIN_SAME_SITE:
        return "offsite"
    if len({e.url.split("#", 1)[0] for e in entries}) < _MIN_DISTINCT * len(entries):  # comment permalinks: one page
        return "repeats"
    items = detect_items(element)
    headlines = sum(_headline_links(it) for it in items) / max(len(items), 1)
    if headlines >= _MAX_HEADLINES:
        return "columns"
    if dated < MIN_DATED:
        long_titles = sum(1 for e in entries if len(e.title) >= _MIN_UNDATED_TITLE) / len(entries)
        if not (rankish(element, nearby_heading(element)) and long_titles >= 0.8):
            return "undated"
    return None


def landing_host(url: str) -> str:
    """The host a link lands on: the URL a click-counting redirect carries (`cn.rd.yahoo.com/…/*http://www.kb78.com/`,
    `…/click?url=https%3A%2F%2Fad.example%2F`), else the link's own host. Ad boxes served through the portal's own
    redirector point off the site all the same."""
    try:
        return urlsplit(landing_url(url)).hostname or ""
    except ValueError:
        return ""


def _headline_links(item: etree._Element) -> int:
    """Distinct targets of an item's headline-length links. A card links its image, channel, tags, author and
    comments too, but only one headline; a page column holds several headlines."""
    texts: dict[str, int] = {}
    for a in item.iter("a"):
        href = a.get("href")
        if href:
            texts[href] = max(texts.get(href, 0), len(normalize_space(visible_text(a))))
    longest = max(texts.values(), default=0)
    return sum(1 for n in texts.values() if n >= max(_MIN_UNDATED_TITLE, longest / 2))


def _judge(element: etree._Element, entries: list[ListingEntry], host: str) -> Candidate | None:
    if why_rejected(element, entries, host) is not None:
        return None
    dated = sum(1 for e in entries if e.date_text) / len(entries)
    return Candidate(element, entries, dated, _ordered(element, entries))


def _has_repeats(parent: etree._Element) -> bool:
    """Cheap pre-check: at least _MIN_ITEMS element children share a tag (the block is their parent)."""
    tags: dict[str, int] = {}
    for child in parent:
        if isinstance(child.tag, str):
            tags[child.tag] = tags.get(child.tag, 0) + 1
    return any(n >= _MIN_ITEMS for n in tags.values()) or (parent.tag == "table" and len(parent) > 0)


def is_chrome(element: etree._Element, dated: bool = False) -> bool:
    """True inside site chrome: a nav/header/footer/menu element (outside an article), or, for an undated block,
    a box whose own class/id (or its parent's) says menu, tags, breadcrumb...

    Class words count only close by and only for undated blocks: portals put words like `post_header`,
    `contextual-links` or `blq-nav` on wrappers of whole articles and dated columns, never on a menu's dates.
    """
    el: etree._Element | None = element
    depth = 0
    while el is not None and isinstance(el.tag, str) and el.tag not in ("body", "html"):
        if el.tag == "article":
            return False  # a <header>/<footer> outside this article is page chrome; inside it, it is the article's
        if el.tag in _CHROME_TAGS and not el.xpath("ancestor::article"):
            return True
        if not dated and depth <= 1 and CHROME_WORDS.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
            return True
        el, depth = el.getparent(), depth + 1
    return False


def rankish(element: etree._Element, heading: str | None) -> bool:
    """A ranking: an ordered list, or a box whose heading or class/id reads 排行, 热门, Most read, rank..."""
    if element.tag == "ol" or (heading and RANKING_WORDS.search(heading)):
        return True
    el: etree._Element | None = element
    for _ in range(3):
        if el is None or not isinstance(el.tag, str):
            break
        if RANKING_CLASS.search(f"{el.get('class') or ''} {el.get('id') or ''}"):
            return True
        el = el.getparent()
    return False


def _ordered(element: etree._Element, entries: list[ListingEntry]) -> bool:
    if element.tag == "ol":
        return True
    numbers = [re.match(r"\s*(\d{1,2})[.、\s]", "".join(it.itertext())) for it in detect_items(element)]
    return bool(numbers) and all(m is not None and int(m.group(1)) == i for i, m in enumerate(numbers, 1))
