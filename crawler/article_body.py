"""The article's main text when no selector is configured: hidden nodes pruned, then trafilatura's choice. Pure.

Measured on real pages (docs/extraction.md), trafilatura finds the main text better than our own structural
heuristic (which stays as the fallback in crawler/article.py for pages where trafilatura keeps nothing).
"""

from __future__ import annotations

import copy

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from trafilatura.settings import use_config

# Text a visitor cannot see must never become a title or body: the `hidden` attribute, aria-hidden, and inline
# display:none / visibility:hidden. (Stylesheet rules are not evaluated: that needs a browser.)
_STYLE = "translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz')"  # lower case, spaces out
_X_HIDDEN = etree.XPath(
    "//body//*[@hidden or @aria-hidden='true' or "
    f"contains({_STYLE}, 'display:none') or contains({_STYLE}, 'visibility:hidden')]"
)

MIN_BODY_TEXT = 40  # characters of text, spaces not counted
# Under 250 characters of main text trafilatura tries its other algorithms and may settle on a flat whole-page
# text. On a real page that rescue finds the article (without it the corpus F1 fell from 0.93 to 0.92); on a
# short page (a notice, a brief) it flattens the article, so short pages lower the bar.
_CONFIG = use_config()
_SHORT_PAGE_CONFIG = use_config()
_SHORT_PAGE_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_BODY_TEXT))
_SHORT_PAGE_CHARS = 2000  # visible characters in the whole page, navigation included
_X_PAGE_TEXT = etree.XPath("string(//body)")


def visible_tree(root: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """A copy of the page without comments, processing instructions and hidden elements (tails kept). The
    extractor needs a tree of its own anyway (it cleans in place), and it cannot handle comment nodes."""
    tree = copy.deepcopy(root)
    etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    for el in _X_HIDDEN(tree):
        drop_element(el)
    return tree


def drop_element(el: etree._Element) -> None:
    """Remove an element but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def main_text(root: lxml_html.HtmlElement) -> etree._Element | None:
    """A fresh element holding the main text as HTML (paragraphs, headings, lists, tables, links, images), or
    None when trafilatura finds none. `root` is not modified (trafilatura works on its own copy). Links are left
    as the page wrote them: trafilatura resolves relative paths against the site root, not the page, so the
    caller makes them absolute."""
    found = trafilatura.extract(
        root, output_format="html", include_comments=False, include_tables=True, include_images=True,
        # Inline formatting is left out: with it trafilatura keeps more boilerplate (English full-text F1 0.932
        # against 0.938 without, bench/extract_quality.py).
        include_links=True, include_formatting=False,
        config=_SHORT_PAGE_CONFIG if len(str(_X_PAGE_TEXT(root))) < _SHORT_PAGE_CHARS else _CONFIG,
    )
    if not found:
        return None
    body = lxml_html.document_fromstring(found).find("body")
    # Less is a teaser box or an empty template slot, not an article (the fallback heuristics use the same bar).
    if body is None or len("".join("".join(body.itertext()).split())) < MIN_BODY_TEXT:
        return None
    for graphic in body.iter("graphic"):  # trafilatura's image element
        graphic.tag = "img"
    return body
