"""Layout tables → blocks, before the automatic choice of the main text. Pure.

Old Chinese news, portal and forum pages are laid out with nested tables: a cell for the navigation, one for the
article, one for the "今日推荐" box, one for the footer. Trafilatura keeps a table as one unit, so when it finds no
article container on such a page it keeps the whole layout table, navigation and footer included (one portal
page: precision 0.37). Layout tables are told from data tables by Mozilla Readability's rules
(Readability.js `_markDataTables`) and become plain blocks; a data table stays a table.
"""

from __future__ import annotations

from lxml import etree

_X_TABLES = etree.XPath("//body//table")
_X_ROWS = etree.XPath("./tr | ./tbody/tr | ./thead/tr | ./tfoot/tr")
_DATA_PARTS = frozenset(["caption", "colgroup", "col", "thead", "tfoot"])
_BLOCKS = frozenset(["p", "div", "table", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
                     "form", "center", "section", "article", "hr", "tr", "td", "th", "li"])
# Bare text in a cell, between its blocks, worth a paragraph of its own ("一、培养目标：" runs between <br>s):
# trafilatura's fallback gathers <p>, tables and code, never a bare text run in a block.
_RUN_CHARS = 20


def unwrap_layout_tables(tree: etree._Element) -> None:
    """Turn, in place, every layout table into blocks (table, row and cell → div), and bare text runs in their
    cells into paragraphs. A data table (caption, header cells, 10+ rows or 5+ columns, …) stays a table, and so
    does a table with a single cell of text (a picture above its caption), unless it holds another table or is
    mostly link text."""
    layout = [table for table in _X_TABLES(tree) if _is_layout(table)]
    cells: list[etree._Element] = []
    for table in layout:
        for row in _X_ROWS(table):
            for cell in row:
                if cell.tag in ("td", "th"):
                    cell.tag = "div"
                    cells.append(cell)
            row.tag = "div"
        for part in [el for el in table if el.tag in ("tbody", "thead", "tfoot")]:
            part.tag = "div"
        table.tag = "div"
    own = set(cells)
    for cell in cells:
        # Each cell wraps its own runs and those of its inline elements, not a nested cell's (that one's turn
        # comes): every element is looked at once, however deep the tables nest.
        stack = [cell]
        while stack:
            el = stack.pop()
            if el is cell or el.tag not in _BLOCKS:
                _wrap_text_runs(el)
            stack.extend(child for child in el if isinstance(child.tag, str) and child not in own)


def _is_layout(table: etree._Element) -> bool:
    """Readability.js's data-table test, in its order, plus two rules of ours: mostly link text is layout (a
    navigation bar in cells), and a single cell of text is not (it cannot mix the article with anything else)."""
    if table.get("role") == "presentation" or table.get("datatable") == "0":
        return True
    if table.get("summary") or any(child.tag in _DATA_PARTS for child in table):
        return False
    rows = [[cell for cell in row if cell.tag in ("td", "th")] for row in _X_ROWS(table)]
    if any(cell.tag == "th" for row in rows for cell in row):
        return False
    if next(table.iterdescendants("table"), None) is not None:
        return True
    texts = ["".join("".join(cell.itertext()).split()) for row in rows for cell in row]
    # Mostly link text: a navigation bar or a list of headlines, laid out in cells.
    linked = sum(len("".join("".join(a.itertext()).split())) for a in table.iter("a"))
    if linked * 2 >= sum(len(text) for text in texts):
        return True
    # One cell of text (a picture above its caption, a one-cell frame) cannot mix the article with anything else.
    if sum(1 for text in texts if text) < 2:
        return False
    columns = max((sum(_span(cell) for cell in row) for row in rows), default=0)
    return len(rows) <= 1 or columns <= 1 or not (len(rows) >= 10 or columns > 4 or len(rows) * columns > 10)


def _span(cell: etree._Element) -> int:
    value = cell.get("colspan") or "1"
    return int(value) if value.isdigit() else 1


def _wrap_text_runs(el: etree._Element) -> None:
    """Wrap each run of bare text (with its inline elements) that lies between `el`'s blocks in a <p>, when the
    run has at least _RUN_CHARS characters and is not mostly link text."""
    children = list(el)
    blocks = {child for child in children if _is_block(child)}
    if not blocks and el.tag != "div":
        return  # an inline element of bare text only: part of its parent's run
    runs: list[tuple[str | None, list[etree._Element], etree._Element | None]] = []  # (text, inline, block after)
    text: str | None = el.text
    inline: list[etree._Element] = []
    for child in children:
        if child in blocks:
            runs.append((text, inline, child))
            text, inline = child.tail, []
        else:
            inline.append(child)
    runs.append((text, inline, None))
    if not any(_worth_wrapping(text, inline) for text, inline, _ in runs):
        return
    el.text = None
    for child in children:
        el.remove(child)  # (tails leave with their element: re-attached below)
    previous: etree._Element | None = None
    for text, inline, block in runs:
        if _worth_wrapping(text, inline):
            paragraph = etree.SubElement(el, "p")
            paragraph.text = text
            paragraph.extend(inline)
            previous = paragraph
        else:
            if previous is None:
                el.text = text
            else:
                previous.tail = text
            el.extend(inline)
            previous = inline[-1] if inline else previous
        if block is not None:
            block.tail = None
            el.append(block)
            previous = block


def _is_block(el: etree._Element) -> bool:
    """A block, or an inline element holding one (`<font>` around a cell's paragraphs)."""
    return el.tag in _BLOCKS or any(inner.tag in _BLOCKS for inner in el.iterdescendants())


def _worth_wrapping(text: str | None, inline: list[etree._Element]) -> bool:
    parts = [text or ""]
    linked = 0
    for child in inline:
        words = "".join(child.itertext()) if isinstance(child.tag, str) else ""
        parts.append(words)
        parts.append(child.tail or "")
        if child.tag == "a":
            linked += len("".join(words.split()))
    chars = len("".join("".join(parts).split()))
    return chars >= _RUN_CHARS and linked * 2 < chars
