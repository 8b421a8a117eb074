"""Finding listing blocks on a page: by selector (CSS or XPath) or by the heading text shown above them.

Pure functions over parsel Selectors (lxml elements inside). Used for listings and to cut a site's
"related" block out of an article body.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice

from lxml import etree
from parsel import Selector, SelectorList

from crawler.block_items import HEADINGS, INLINE_TAGS, full_text, item_group, tag_name
from crawler.vocabulary import DECOR
from feedsvc.text import normalize_space

# How far up from the heading text we look for the list: heading text → title bar → box is two steps.
_MAX_CLIMB = 4
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ANY_HEADING = ".//h1|.//h2|.//h3|.//h4|.//h5|.//h6"
# Headings looked at in a box on a dense page (real listings hold tens to a few hundred items).
_MAX_HEADINGS = 1000
_NOT_HEADINGS = frozenset({"script", "style", "textarea", "option", "title", "head", "html"})


def is_xpath(expr: str) -> bool:
    return expr.lstrip().startswith(("/", "(", "./"))


def select(node: Selector, expr: str) -> SelectorList[Selector]:
    """Apply a config selector: XPath when it starts with / or '(' (made relative to `node`), else CSS."""
    expr = expr.strip()
    if is_xpath(expr):
        if expr.startswith("//") and not _is_document(node):
            expr = "." + expr  # `//li` in an item/block selector means "inside this node", as with CSS
        return node.xpath(expr)
    return node.css(expr)


def _is_document(node: Selector) -> bool:
    root = node.root
    return isinstance(root, etree._Element) and root.getparent() is None


def _key(text: str) -> str:
    return normalize_space(text).strip(DECOR).casefold()


# Characters `_key` keeps whatever their place (not whitespace, not decoration); casefolding never shortens text.
_SUBSTANTIVE = re.compile(rf"[^\s{re.escape(DECOR)}]")


def _shows_only(text: str, want: str) -> bool:
    """`_key(text) == want`, without normalising a whole box's text to learn it is more than a heading: text with
    more kept characters than `want` has cannot be it."""
    if next(islice(_SUBSTANTIVE.finditer(text), len(want), None), None) is not None:
        return False
    return _key(text) == want


def _heading_candidates(page: Selector, heading: str) -> Iterator[etree._Element]:
    """Elements whose own text is `heading`, widened to the largest ancestor showing only that text."""
    want = _key(heading)
    needle = heading.strip().lower()
    root = page.root
    if not isinstance(root, etree._Element):
        return
    # Relative paths (not //body), so this also works inside a detached article body. ASCII case is folded
    # only when the heading has ASCII letters: translate() on every text node is the costly part on big pages.
    text = f"translate(., '{_UPPER}', '{_UPPER.lower()}')" if re.search("[a-z]", needle) else "."
    hits: list[etree._Element] = root.xpath(f".//text()[contains({text}, $h)]/parent::*", h=needle)
    hits = [el for el in hits if tag_name(el) not in _NOT_HEADINGS and not el.xpath("ancestor::head")]
    if not hits:
        # The heading text split over child elements (`<h2><b>Latest</b> posts</h2>`): deepest elements holding it.
        whole = text.replace("(.,", "(string(.),")
        deepest = root.xpath(f".//*[contains({whole}, $h)][not(*[contains({whole}, $h)])]", h=needle)
        hits = [el for el in deepest if _shows_only(full_text(el), want) and not el.xpath("ancestor-or-self::head")]
    for el in hits:
        own = [t for t in el.xpath("text()") if _key(t)]
        if own and not any(_key(t) == want for t in own) and not _shows_only(full_text(el), want):
            continue
        while (parent := el.getparent()) is not None and tag_name(parent) not in ("body", "html"):
            if not _shows_only(full_text(parent), want):
                break
            # A box whose list is still empty (filled by script) shows only its heading's text too: the list
            # beside the heading means the parent is the box, not a wider heading.
            if any(child is not el and isinstance(child.tag, str) and tag_name(child) not in INLINE_TAGS for child in parent):
                break
            el = parent
        # A menu entry (`<li><a href=/latest>最新文稿</a></li>`) names a page, not a block on this one.
        if tag_name(el) in ("a", "option") or (tag_name(el) == "li" and el.xpath(".//a[@href]")):
            continue
        yield el


def find_heading(page: Selector, heading: str) -> list[etree._Element]:
    """Heading elements for `heading`, best first: real headings (h1–h6) before other elements, then page order."""
    found = list(dict.fromkeys(_heading_candidates(page, heading)))
    return sorted(found, key=lambda el: 0 if tag_name(el) in HEADINGS or el.xpath("ancestor::h1|ancestor::h2|"
                  "ancestor::h3|ancestor::h4|ancestor::h5|ancestor::h6") else 1)


def block_after(heading: etree._Element, item: str | None) -> etree._Element | None:
    """The list container a heading introduces: its next non-inline sibling, climbing out of title bars.

    When that sibling is itself an item (`<h3>…</h3><li>…</li><li>…</li>`), the heading sits inside the
    box, and the box is the block. An empty sibling counts (a ranking filled by script is an empty list).
    A sibling holding headings is the next box, unless every heading in it belongs to one of its repeated
    items (cards: `<div class="card"><a><h3>Title</h3></a>…</div>`).
    """
    node = heading
    for _ in range(_MAX_CLIMB):
        sibling = node.getnext()
        while sibling is not None and (not isinstance(sibling.tag, str) or tag_name(sibling) in INLINE_TAGS):
            sibling = sibling.getnext()
        parent = node.getparent()
        if sibling is not None:
            if parent is not None and (_is_item(parent, sibling, item) or _is_column(parent, sibling, item)):
                return parent
            # The next box with its own heading: our box had no list at all (e.g. `<h3>阅读排行</h3></div>`).
            if tag_name(sibling) in HEADINGS or (sibling.xpath(_ANY_HEADING) and not _headings_in_items(sibling, item)):
                return None
            return sibling
        if parent is None or tag_name(parent) in ("body", "html"):
            return None
        node = parent
    return None


def _is_column(parent: etree._Element, candidate: etree._Element, item: str | None) -> bool:
    """True when `candidate` is one of the side-by-side columns `parent`'s items are spread over."""
    return item is None and any(col is candidate for col in item_group(parent).columns)


def _is_item(parent: etree._Element, candidate: etree._Element, item: str | None) -> bool:
    if item is None:
        return item_group(parent).holds(candidate, parent)
    return any(hit.root is candidate for hit in select(Selector(root=parent, type="html"), item))


def _headings_in_items(box: etree._Element, item: str | None) -> bool:
    """True when `box` holds at least two items and every heading inside it sits in one of them (the first
    _MAX_HEADINGS headings on a dense page: each is checked by walking up, not by listing every item)."""
    headings: list[etree._Element] = box.xpath(f"({_ANY_HEADING})[position() <= {_MAX_HEADINGS}]")
    if item is None:
        group = item_group(box)
        if len(list(islice(group.members(box), 2))) < 2:
            return False
        return all(any(group.holds(el, box) for el in _up_to(h, box)) for h in headings)
    items = [hit.root for hit in select(Selector(root=box, type="html"), item)]
    if len(items) < 2:
        return False
    # A set of the elements themselves (kept alive, so lxml hands back the same proxies), not of id()s.
    inside = {el for it in items if isinstance(it, etree._Element) for el in it.iter()}
    return all(h in inside for h in headings)


def _up_to(el: etree._Element, box: etree._Element) -> Iterator[etree._Element]:
    """`el` and its ancestors below `box`."""
    node: etree._Element | None = el
    while node is not None and node is not box:
        yield node
        node = node.getparent()


def find_block(page: Selector, block: str | None, heading: str | None, item: str | None) -> Selector | None:
    """The block a listing names, by selector or by heading; None when the page does not have it."""
    if block:
        found = select(page, block)
        return found[0] if found else None
    if heading:
        for candidate in find_heading(page, heading):
            container = block_after(candidate, item)
            if container is not None:
                return Selector(root=container, type="html")
    return None


def heading_and_block(page: Selector, heading: str, item: str | None = "li") -> tuple[etree._Element, etree._Element] | None:
    """(heading element, its block) for cutting a known block out of an article body."""
    for candidate in find_heading(page, heading):
        container = block_after(candidate, item)
        if container is not None:
            return candidate, container
    return None


# A page with more elements is cut to its first this many before any listing work: real pages hold a few
# thousand, and finding a heading or a block costs time in proportion to the page (a 20 MB listing stalled a crawl).
MAX_PAGE_ELEMENTS = 60_000


def trim_dense(page: Selector, max_elements: int = MAX_PAGE_ELEMENTS) -> int | None:
    """Cut a dense page in place to its first `max_elements` elements (document order); the page's element
    count when it was cut, else None. Counting and finding the cut run inside libxml2, not element by element."""
    root = page.root
    if not isinstance(root, etree._Element):
        return None
    total = int(root.xpath("count(//*)"))
    if total <= max_elements:
        return None
    last: list[etree._Element] = root.xpath(f"(//*)[{max_elements}]")
    node = last[0]
    del node[:]  # its children follow it in document order
    while (parent := node.getparent()) is not None:
        del parent[parent.index(node) + 1:]
        node = parent
    return total
