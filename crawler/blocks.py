"""Finding listing blocks on a page: by selector (CSS or XPath) or by the heading text shown above them.

Pure functions over parsel Selectors (lxml elements inside). Used for listings and to cut a site's
"related" block out of an article body.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import islice

from lxml import etree
from parsel import Selector, SelectorList

from crawler.vocabulary import DECOR
from feedsvc.text import normalize_space

# Elements that sit beside a heading without being its list (a "more>>" link, an icon, a counter).
_INLINE = frozenset(
    ["a", "abbr", "b", "big", "br", "button", "em", "font", "i", "img", "input", "label", "link", "meta", "noscript", "script", "select", "small", "span", "strong", "style", "sub", "sup", "hr"]
)
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_HEADINGS = frozenset(HEADING_TAGS)
# How far up from the heading text we look for the list: heading text → title bar → box is two steps.
_MAX_CLIMB = 4
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ANY_HEADING = ".//h1|.//h2|.//h3|.//h4|.//h5|.//h6"
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


# The same text as "".join(el.itertext()), built inside libxml2: iterating from Python makes an element object
# for every descendant, and a heading's box can hold a thousand-item list.
_full_text: etree.XPath = etree.XPath("string()", smart_strings=False)


def _tag(el: object) -> str:
    tag = getattr(el, "tag", None)
    return tag.lower() if isinstance(tag, str) else ""


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
    hits = [el for el in hits if _tag(el) not in _NOT_HEADINGS and not el.xpath("ancestor::head")]
    if not hits:
        # The heading text split over child elements (`<h2><b>Latest</b> posts</h2>`): deepest elements holding it.
        whole = text.replace("(.,", "(string(.),")
        deepest = root.xpath(f".//*[contains({whole}, $h)][not(*[contains({whole}, $h)])]", h=needle)
        hits = [el for el in deepest if _shows_only(_full_text(el), want) and not el.xpath("ancestor-or-self::head")]
    for el in hits:
        own = [t for t in el.xpath("text()") if _key(t)]
        if own and not any(_key(t) == want for t in own) and not _shows_only(_full_text(el), want):
            continue
        while (parent := el.getparent()) is not None and _tag(parent) not in ("body", "html"):
            if not _shows_only(_full_text(parent), want):
                break
            # A box whose list is still empty (filled by script) shows only its heading's text too: the list
            # beside the heading means the parent is the box, not a wider heading.
            if any(child is not el and isinstance(child.tag, str) and _tag(child) not in _INLINE for child in parent):
                break
            el = parent
        # A menu entry (`<li><a href=/latest>最新文稿</a></li>`) names a page, not a block on this one.
        if _tag(el) in ("a", "option") or (_tag(el) == "li" and el.xpath(".//a[@href]")):
            continue
        yield el


def find_heading(page: Selector, heading: str) -> list[etree._Element]:
    """Heading elements for `heading`, best first: real headings (h1–h6) before other elements, then page order."""
    found = list(dict.fromkeys(_heading_candidates(page, heading)))
    return sorted(found, key=lambda el: 0 if _tag(el) in _HEADINGS or el.xpath("ancestor::h1|ancestor::h2|"
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
        while sibling is not None and (not isinstance(sibling.tag, str) or _tag(sibling) in _INLINE):
            sibling = sibling.getnext()
        parent = node.getparent()
        if sibling is not None:
            if parent is not None and (_is_item(parent, sibling, item) or _is_column(parent, sibling, item)):
                return parent
            # The next box with its own heading: our box had no list at all (e.g. `<h3>阅读排行</h3></div>`).
            if _tag(sibling) in _HEADINGS or (sibling.xpath(_ANY_HEADING) and not _headings_in_items(sibling, item)):
                return None
            return sibling
        if parent is None or _tag(parent) in ("body", "html"):
            return None
        node = parent
    return None


def _is_column(parent: etree._Element, candidate: etree._Element, item: str | None) -> bool:
    """True when `candidate` is one of the side-by-side columns `parent`'s items are spread over."""
    return item is None and any(col is candidate for col in _item_group(parent).columns)


def _is_item(parent: etree._Element, candidate: etree._Element, item: str | None) -> bool:
    if item is None:
        return _item_group(parent).holds(candidate, parent)
    return any(hit.root is candidate for hit in select(Selector(root=parent, type="html"), item))


def _headings_in_items(box: etree._Element, item: str | None) -> bool:
    """True when `box` holds at least two items and every heading inside it sits in one of them (the first
    _MAX_HEADINGS headings on a dense page: each is checked by walking up, not by listing every item)."""
    headings: list[etree._Element] = box.xpath(f"({_ANY_HEADING})[position() <= {_MAX_HEADINGS}]")
    if item is None:
        group = _item_group(box)
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


@dataclass(frozen=True, slots=True)
class _Group:
    """The repeated item element of a block: the children of `parent` with this tag and class key; `parent`
    None when nothing repeats and the block's `li` elements are the items."""
    parent: etree._Element | None
    tag: str = "li"
    cls: str = ""
    # True when the walk proved no other element of the block could hold a better group: then every block
    # between this one and `parent` has this group too (see _item_group).
    settled: bool = field(default=False, compare=False)
    # Side-by-side columns holding the items (`parent` the first of them), read one after the other.
    columns: tuple[etree._Element, ...] = field(default=(), compare=False)

    def holds(self, el: etree._Element, block: etree._Element) -> bool:
        if self.parent is None:
            return _tag(el) == "li" and el is not block and any(anc is block for anc in el.iterancestors())
        parent = el.getparent()
        homes = self.columns or (self.parent,)
        return any(parent is home for home in homes) and self._same_kind(el)

    def members(self, block: etree._Element) -> Iterator[etree._Element]:
        if self.parent is None:
            return (el for el in block.iter("li") if el is not block)
        return (el for home in self.columns or (self.parent,) for el in home if self._same_kind(el))

    def _same_kind(self, el: etree._Element) -> bool:
        """The group's tag and class words; an item with a class word more (`teaser ts-audio` among `teaser`
        items) is one of them too, unless the group has no class at all."""
        if _tag(el) != self.tag:
            return False
        key = _class_key(el)
        return key == self.cls or (bool(self.cls) and set(self.cls.split()) <= set(key.split()))


# The item group per element of a page, kept while the page's root element lives: discovery asks it of every
# ancestor of every block (each call walks six levels down), and extraction asks again for the chosen block.
_ITEMS_MEMO: weakref.WeakKeyDictionary[etree._Element, dict[etree._Element, _Group]] = weakref.WeakKeyDictionary()


def detect_items(block: etree._Element, limit: int | None = None) -> list[etree._Element]:
    """The block's repeated item elements when no `item` selector is configured (the first `limit` of them)."""
    return list(islice(iter_items(block), limit))


def item_box(block: etree._Element) -> etree._Element | None:
    """The element whose children are the block's detected items (the columns' parent when they are spread over
    side-by-side columns); None when nothing repeats."""
    group = _item_group(block)
    return group.columns[0].getparent() if group.columns else group.parent


def iter_items(block: etree._Element) -> Iterator[etree._Element]:
    """detect_items, lazily: a caller that stops early (max_items_per_listing) walks no further."""
    return _item_group(block).members(block)


def _item_group(block: etree._Element) -> _Group:
    root = block.getroottree().getroot()
    memo = _ITEMS_MEMO.get(root) if root is not None else None
    if memo is None and root is not None:
        memo = _ITEMS_MEMO[root] = {}
    group = memo.get(block) if memo is not None else None
    if group is None and memo:
        group = _settled_above(block, memo)
    # A tree cut in place (an article's excluded blocks) invalidates what was found under the cut.
    if group is None or (group.parent is not None and group.parent is not block and not _under(group.parent, block)):
        group = _detect_group(block)
    if memo is not None:
        memo[block] = group
    return group


def _settled_above(block: etree._Element, memo: dict[etree._Element, _Group]) -> _Group | None:
    """A settled group found for an ancestor of `block` whose items lie inside `block`: `block`'s own walk would
    find it again, since every element that could hold a rival was looked at and lost (a heading's box is
    searched, then the list inside it)."""
    for anc in block.iterancestors():
        group = memo.get(anc)
        if group is not None and group.settled and group.parent is not None and (
                group.parent is block or _under(group.parent, block)) and all(_under(c, block) for c in group.columns):
            return group
    return None


def _under(el: etree._Element, block: etree._Element) -> bool:
    return any(anc is block for anc in el.iterancestors())


def _detect_group(block: etree._Element) -> _Group:
    """The block's repeated item element when no `item` selector is configured.

    Among every group of sibling elements with the same tag and class inside the block, the group with the most
    members holding a link wins (li, article, div cards, tr rows, dt); ties go to `li`, then to the shallower
    group; with no repeated group, the block's `li` elements. `<dd>` never counts: in a `<dl>` the `<dt>` is the item and its `<dd>` carries the date.
    A dense page (a listing of 250,000 items) must not cost a crawl minutes: only the first _SAMPLE_CHILDREN
    children of an element are ranked, and only _MAX_VISITED elements of the block are looked at.
    """
    best: tuple[int, int, int, int] = (0, 1, 0, 0)
    found = _Group(None)
    sizes: list[int] = []  # element children of each element looked at
    for depth, parent, children in _walk(block):
        sizes.append(len(children))
        # The rank's first place (titled members) is at most the member count, so an element with fewer children
        # than the best group's, or a group smaller than it, cannot win and is not looked into: once a long list
        # is found, its items' own children cost nothing.
        if len(children) < max(2, best[0]):
            continue
        groups: dict[tuple[str, str], list[etree._Element]] = {}
        for child in children:
            tag = child.tag.lower()
            if tag not in _NOT_ITEMS:
                groups.setdefault((tag, _class_key(child)), []).append(child)
        for (tag, cls), members in _merge_kin(groups).items():
            if len(members) < max(2, best[0]):
                continue
            linked = [m for m in members if _has_link(m)]
            if len(linked) < max(2, best[0]) or (tag == "a" and _repeats(parent) and _headlines(linked) < 2):
                continue  # a card's links (image, channel, one title, author) when the card itself repeats
            # Pagination (`1 2 3 下一页`) also repeats links: members with title-length text count first.
            # Distinct texts: a widget repeated beside each item (a hidden "Social Share" box) says the same each time.
            titled = len({text for m in linked if len(text := normalize_space(_full_text(m))) > 4})
            rank = (titled, len(linked), int(tag == "li"), -depth)
            if rank > best:
                best, found = rank, _Group(parent, tag, cls)
        # Only an element with at least best[0] children can hold a better group: when every such element of the
        # block has been looked at already (counted inside libxml2), the rest of the walk cannot change the answer.
        if found.parent is parent and _X_WIDE(block, k=best[0]) <= sum(1 for n in sizes if n >= best[0]):
            # Within the visit budget, a walk from any block between this one and the group's parent meets the
            # same candidates in the same order, deeper levels included (they hold no element that wide).
            return _across_columns(replace(found, settled=_X_COUNT(block) < _MAX_VISITED), block)
    # Nothing repeats (a one-entry list): the `li` elements, as when `item = "li"` was the default.
    return _across_columns(found, block)


def _across_columns(group: _Group, block: etree._Element) -> _Group:
    """The group spread over side-by-side columns: a box laid out as two `div.col-6` of three cards each (phys.org's
    Related Stories) is one list of six. Only when the columns hold nothing but such items, so columns that each
    carry their own heading stay separate lists."""
    column = group.parent
    box = column.getparent() if column is not None else None
    if column is None or column is block or box is None or not (box is block or _under(box, block)):
        return group
    key = (_tag(column), _class_key(column))
    columns = tuple(c for c in box if isinstance(c.tag, str) and (_tag(c), _class_key(c)) == key)
    if len(columns) < 2 or not all(_only_items(c, group) for c in columns):
        return group
    return _Group(column, group.tag, group.cls, columns=columns)


def _only_items(column: etree._Element, group: _Group) -> bool:
    """Two or more linked members of the group's kind, and no other child showing text."""
    members = 0
    for child in column:
        if not isinstance(child.tag, str):
            continue
        if replace(group, parent=column).holds(child, column) and _has_link(child):
            members += 1
        elif normalize_space(_full_text(child)):
            return False
    return members >= 2


# Class keys of two sibling groups that name one kind of item: most words shared, several of them.
_KIN_SHARE = 0.75
_KIN_WORDS = 3


def _merge_kin(groups: dict[tuple[str, str], list[etree._Element]]) -> dict[tuple[str, str], list[etree._Element]]:
    """Sibling groups of one tag whose classes differ in a word or two are one group, keyed by the shared words.

    Blog themes class each post by its category or tag (`post hentry type-post category-general` beside
    `… category-in-house`): split by that word, the list would lose every post of the smaller category."""
    if len(groups) < 2:
        return groups
    merged: dict[tuple[str, str], list[etree._Element]] = {}
    for (tag, cls), members in sorted(groups.items(), key=lambda g: -len(g[1])):
        words = set(cls.split())
        for (other_tag, other_cls), others in merged.items():
            shared = words & set(other_cls.split())
            if other_tag == tag and len(shared) >= _KIN_WORDS and len(shared) >= _KIN_SHARE * max(
                    len(words), len(other_cls.split())):
                del merged[(other_tag, other_cls)]
                merged[(tag, " ".join(sorted(shared)))] = others + members
                break
        else:
            merged[(tag, cls)] = members
    return merged


# Real listings hold tens to a few hundred items; these bounds only bite on pages built to be huge.
_SAMPLE_CHILDREN = 1000
_MAX_VISITED = 20_000
_MAX_HEADINGS = 1000


# Children that are never listing items: text formatting, headings of the box, and the `<dd>` of a `<dt>`. A
# `<tbody>` may be one (forums give each thread its own, `<tbody id="normalthread_…">`); a lone one never repeats.
_NOT_ITEMS = _INLINE.difference({"a"}) | _HEADINGS | {"dd", "thead", "option"}
_MAX_ITEM_DEPTH = 6


_X_WIDE = etree.XPath("count(descendant-or-self::*[count(*) >= $k])")
_X_COUNT = etree.XPath("count(descendant-or-self::*)")


def _walk(block: etree._Element) -> Iterator[tuple[int, etree._Element, list[etree._Element]]]:
    """(depth, element, its element children among its first _SAMPLE_CHILDREN) in document order, down to
    _MAX_ITEM_DEPTH, _MAX_VISITED elements in all. A loop, not recursion: nested generators cost each element one
    resumption per level."""
    stack: list[tuple[int, etree._Element]] = [(0, block)]
    budget = _MAX_VISITED
    while stack and budget > 0:
        depth, el = stack.pop()
        budget -= 1
        children = [c for c in islice(el, _SAMPLE_CHILDREN) if isinstance(c.tag, str)]
        yield depth, el, children
        if depth < _MAX_ITEM_DEPTH:
            stack.extend((depth + 1, c) for c in reversed(children))


# Class words that mark one item's place or state, not its kind (`li.first`, `li.odd`, `li.current`).
_POSITION_WORDS = frozenset({"first", "last", "odd", "even", "on", "active", "current", "cur", "selected", "hover",
                             "top", "bottom", "alt", "clearfix", "cf", "hide", "show", "hidden"})


_SUFFIX = re.compile(r"[-_]")
_TAXONOMY = re.compile(r"(?:tag|category|cat|topic|author|format|status|type)-.", re.I)


def _class_key(el: etree._Element) -> str:
    """An item's class for grouping siblings: position words dropped, numbered variants (`change1`) as one."""
    value = el.get("class")
    if not value:
        return ""
    # `news_first` marks the first of `news_article` items as `first` does; `category-news` and `tag-covid-19` say
    # what a post is about (WordPress's post classes), not what kind of element it is.
    words = {w.rstrip("0123456789-_") for w in value.split()
             if w.lower() not in _POSITION_WORDS and _SUFFIX.split(w.lower())[-1] not in _POSITION_WORDS
             and not _TAXONOMY.match(w)}
    return " ".join(sorted(w for w in words if w))


def _repeats(el: etree._Element) -> bool:
    """True when a sibling of `el` has its tag and class and holds a link: `el` is one of a group of items."""
    parent = el.getparent()
    if parent is None or parent is el.getroottree().getroot():
        return False
    key = (el.tag, _class_key(el))
    return any(sib is not el and (sib.tag, _class_key(sib)) == key and _has_link(sib) for sib in parent)


def _headlines(links: list[etree._Element]) -> int:
    """Distinct targets among links with headline-length text (a card has one; a column of links several)."""
    return len({a.get("href") for a in links if len(normalize_space(_full_text(a))) >= 8})


def _has_link(el: etree._Element) -> bool:
    if _tag(el) == "a":
        return bool(el.get("href"))
    return any(a.get("href") for a in el.iter("a"))


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
