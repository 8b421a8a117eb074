"""The repeated items of a listing block when no item selector is configured: the group of sibling elements
with one tag and class that most look like linked titles (li, article, div cards, tr rows, dt), spread over
side-by-side columns when a box lays them out so; and the element primitives crawler/blocks.py shares.

Pure functions over lxml elements, memoised per page (discovery asks again for every ancestor of a block).
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import islice

from lxml import etree

from feedsvc.text import normalize_space

# Elements that sit beside a heading without being its list (a "more>>" link, an icon, a counter).
INLINE_TAGS = frozenset(
    ["a", "abbr", "b", "big", "br", "button", "em", "font", "i", "img", "input", "label", "link", "meta", "noscript", "script", "select", "small", "span", "strong", "style", "sub", "sup", "hr"]
)
HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
HEADINGS = frozenset(HEADING_TAGS)

# The same text as "".join(el.itertext()), built inside libxml2: iterating from Python makes an element object
# for every descendant, and a heading's box can hold a thousand-item list.
full_text: etree.XPath = etree.XPath("string()", smart_strings=False)


def tag_name(el: object) -> str:
    tag = getattr(el, "tag", None)
    return tag.lower() if isinstance(tag, str) else ""



@dataclass(frozen=True, slots=True)
class _Group:
    """The repeated item element of a block: the children of `parent` with this tag and class key; `parent`
    None when nothing repeats and the block's `li` elements are the items."""
    parent: etree._Element | None
    tag: str = "li"
    cls: str = ""
    # True when the walk proved no other element of the block could hold a better group: then every block
    # between this one and `parent` has this group too (see item_group).
    settled: bool = field(default=False, compare=False)
    # Side-by-side columns holding the items (`parent` the first of them), read one after the other.
    columns: tuple[etree._Element, ...] = field(default=(), compare=False)

    def holds(self, el: etree._Element, block: etree._Element) -> bool:
        if self.parent is None:
            return tag_name(el) == "li" and el is not block and any(anc is block for anc in el.iterancestors())
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
        if tag_name(el) != self.tag:
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
    group = item_group(block)
    return group.columns[0].getparent() if group.columns else group.parent


def iter_items(block: etree._Element) -> Iterator[etree._Element]:
    """detect_items, lazily: a caller that stops early (max_items_per_listing) walks no further."""
    return item_group(block).members(block)


def item_group(block: etree._Element) -> _Group:
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
            titled = len({text for m in linked if len(text := normalize_space(full_text(m))) > 4})
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
    key = (tag_name(column), _class_key(column))
    columns = tuple(c for c in box if isinstance(c.tag, str) and (tag_name(c), _class_key(c)) == key)
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
        elif normalize_space(full_text(child)):
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


# Children that are never listing items: text formatting, headings of the box, and the `<dd>` of a `<dt>`. A
# `<tbody>` may be one (forums give each thread its own, `<tbody id="normalthread_…">`); a lone one never repeats.
_NOT_ITEMS = INLINE_TAGS.difference({"a"}) | HEADINGS | {"dd", "thead", "option"}
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
    return len({a.get("href") for a in links if len(normalize_space(full_text(a))) >= 8})


def _has_link(el: etree._Element) -> bool:
    if tag_name(el) == "a":
        return bool(el.get("href"))
    return any(a.get("href") for a in el.iter("a"))
