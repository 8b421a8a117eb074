"""What a listing item's link says: its visible text, which part of it is the headline (not a dateline, a byline, a
summary or a badge) and where it lands (through a click counter). Pure functions over lxml elements; extraction
(crawler/extract.py) and discovery (crawler/discover/) read links through them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from lxml import etree

from crawler.dates import find_date_text
from feedsvc.text import normalize_space

# Elements whose text is never an item's visible text (a link's own text is read where the link is the subject).
NO_TEXT = frozenset({"a", "script", "style", "noscript"})


def visible_text(element: etree._Element, skip: Callable[[etree._Element], bool] | None = None) -> str:
    """The element's text without what the page hides (`hidden`, `aria-hidden`, display:none, screen-reader-only
    classes, script, style), nor the descendants `skip` names."""
    if _hidden(element):
        return ""
    parts: list[str] = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in NO_TEXT.difference({"a"}) and not (skip and skip(child)):
            parts.append(visible_text(child, skip))
        parts.append(child.tail or "")
    return "".join(parts)


_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# Text for screen readers only (Bootstrap's sr-only, WordPress's screen-reader-text, BBC's off-screen `Video`).
_SCREEN_READER_ONLY = re.compile(r"(?:^|\s)(?:sr-only|visually-?hidden|screen-reader-text|off-?screen|a11y-hidden)(?:\s|$)",
                                 re.I)


def _hidden(element: etree._Element) -> bool:
    return (element.get("hidden") is not None or element.get("aria-hidden") == "true"
            or bool(_HIDDEN_STYLE.search(element.get("style") or ""))
            or bool(_SCREEN_READER_ONLY.search(element.get("class") or "")))


def headline_text(link: etree._Element) -> str:
    """A title link's text without the parts that are not its headline. A card link holding blocks (`<a><strong>
    Title</strong><p>Summary…</p><div>8 July 2020</div></a>`, `<a><p>Title</p><div><p>By …</p><time>…</time></div>
    </a>`) gives its first block that is not a date; in running text an element showing only a date at its start or
    end is its dateline (read as the item's date), not title text."""
    el = link
    while not _own_text(el):
        shown = [c for c in el if isinstance(c.tag, str) and normalize_space(visible_text(c))]
        if len(shown) == 1:
            el = shown[0]
        elif len(shown) > 1 and any(c.tag in _BLOCKS for c in shown):
            texts = [normalize_space(visible_text(c)) for c in shown]
            first = next((c for c, text in zip(shown, texts, strict=True) if not only_date(text)), None)
            # Blocks of bare figures (`22,278.48`, `-1.77%`) make a row of a table (a quote), not a card.
            if first is None or any(not _LETTER.search(text) and not only_date(text) for text in texts):
                break
            el = first
        else:
            break
    return _running_text(el)


_LETTER = re.compile(r"[^\W\d_]")
# Elements that lay a card out in blocks (headline, byline, summary, date), not words of one line.
_BLOCKS = frozenset({"div", "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "figure",
                     "figcaption", "section", "header", "footer", "article", "table", "tr", "td", "blockquote"})


def _own_text(el: etree._Element) -> bool:
    """Text of `el` itself (not of its children) shows: the element is running text, not a stack of blocks."""
    return bool((el.text or "").strip()) or any((child.tail or "").strip() for child in el)


def _running_text(el: etree._Element) -> str:
    """The element's visible text without a date-only element at its start or end: one in the middle belongs to the
    text (a market quote: `日経平均 <span>6/19 大引</span> 22,278.48 -1.77%`)."""
    if not len(el):
        return visible_text(el)
    owners: list[etree._Element | None] = [None] if (el.text or "").strip() else []  # whose text, in reading order
    for child in el.iterdescendants():
        if isinstance(child.tag, str) and (child.text or "").strip():
            owners.append(None if len(child) else child)
        if (child.tail or "").strip():
            owners.append(None)
    ends = [end for end in owners[:1] + owners[-1:] if end is not None]
    badge = owners[0] if owners and owners[0] is not None and _is_badge(owners[0], el) else None

    def aside(child: etree._Element) -> bool:
        return child is badge or (any(child is end for end in ends) and only_date(normalize_space(visible_text(child))))
    text = visible_text(el, aside)
    return text if normalize_space(text) else visible_text(el)


# A short label before a headline (`<span class="label-live">Live</span>`, a kicker, a badge) marks the story, it is
# not its title.
_BADGE_CLASS = re.compile(r"(?:^|[\s_-])(?:label|badge|kicker|flag|eyebrow)(?:$|[\s_-])", re.I)
_MAX_BADGE = 12


def _is_badge(leaf: etree._Element, within: etree._Element) -> bool:
    if len(normalize_space(visible_text(leaf))) > _MAX_BADGE:
        return False
    node: etree._Element | None = leaf
    while node is not None and node is not within:
        if _BADGE_CLASS.search(node.get("class") or ""):
            return True
        node = node.getparent()
    return False


def only_date(text: str) -> bool:
    found = find_date_text(text) if text and len(text) <= 40 else None
    return found is not None and len(found) >= len(text) - 8


# An absolute URL carried inside another: `cn.rd.yahoo.com/…/*http://cn.news.yahoo.com/…`, `…/click?url=https%3A%2F%2F…`.
_CARRIED_URL = re.compile(r"(?<=[*?=/])https?(?::|%3A)(?://|%2F%2F)", re.I)


def landing_url(url: str) -> str:
    """Where a link lands: the URL a click-counting redirect carries, else `url` itself."""
    starts = [m.start() for m in _CARRIED_URL.finditer(url)]
    if not starts:
        return url
    carried = url[starts[-1]:]
    if url[starts[-1] - 1] == "=":  # a query parameter: percent-encoded, up to the next parameter
        carried = unquote(carried.split("&", 1)[0])
    return carried
