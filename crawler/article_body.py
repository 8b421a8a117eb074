"""The article's main text when no selector is configured: the page's visible copy (hidden nodes pruned, lazy
images resolved), slideshows and teaser lists taken out, trafilatura's choice, page furniture trimmed from its
edges. Pure.

Measured on real pages (docs/extraction.md), trafilatura finds the main text better than our own structural
heuristic (which stays as the fallback in crawler/article.py for pages where trafilatura keeps nothing); the
steps around it are each measured on the same corpus.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from configparser import ConfigParser

import trafilatura
from lxml import etree
from lxml import html as lxml_html
from trafilatura.htmlprocessing import build_html_output
from trafilatura.metadata import Document
from trafilatura.settings import Extractor, use_config

from crawler.article_edges import trim_edges
from crawler.article_tables import unwrap_layout_tables

# Text a visitor cannot see must never become a title or body: the `hidden` attribute, aria-hidden, and inline
# display:none / visibility:hidden. (Stylesheet rules are not evaluated: that needs a browser.)
_STYLE = "translate(@style, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ ', 'abcdefghijklmnopqrstuvwxyz')"  # lower case, spaces out
_X_HIDDEN = etree.XPath(  # (the @style test first: translate() on every element cost a third more)
    "//body//*[@hidden or @aria-hidden='true' or "
    f"(@style and (contains({_STYLE}, 'display:none') or contains({_STYLE}, 'visibility:hidden')))]"
)

_GALLERY = re.compile(r"(?:^|[\s_-])(?:gallery|slideshow|slide-show|carousel|slider)(?:$|[\s_-])", re.IGNORECASE)
_X_MARKS = etree.XPath("//body//@class | //body//@id")  # (strings: cheaper than an element proxy each)
_X_HOLDS_ARTICLE = etree.XPath("boolean(descendant-or-self::*[self::h1 or self::article or self::main or "
                               "@itemprop='articleBody'])")
_X_SLIDES = etree.XPath(".//img | .//li")

_X_LINK_HEADINGS = etree.XPath(" | ".join(f"//body//h{level}[.//a]" for level in range(2, 7)))
_X_TEXT = etree.XPath("normalize-space(.)")
_X_QUOTED_TABLES = etree.XPath("//body//blockquote[table and count(*) = 1]")
_CARD_CHARS = 1000  # a teaser's title and summary; an article's section is longer

MIN_BODY_TEXT = 40  # characters of text, spaces not counted
# Under 250 characters of main text trafilatura tries its other algorithms and may settle on a flat whole-page
# text. On a real page that rescue finds the article (without it the corpus F1 fell from 0.93 to 0.92); on a
# short page (a notice, a brief) it flattens the article, so short pages lower the bar.
_CONFIG = use_config()
_SHORT_PAGE_CONFIG = use_config()
_SHORT_PAGE_CONFIG.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_BODY_TEXT))
_SHORT_PAGE_CHARS = 2000  # visible characters in the whole page, navigation included


def _extractor(config: ConfigParser) -> Extractor:
    """trafilatura's options, built once: bare_extraction builds them from its keywords on every call otherwise
    (reading its config file's values each time: ~3% of a crawl's CPU), and never changes them."""
    # Inline formatting is left out: with it trafilatura keeps more boilerplate (English full-text F1 0.932
    # against 0.938 without, bench/extract_quality.py).
    return Extractor(config=config, output_format="html", comments=False, tables=True, images=True, links=True,
                     formatting=False)


_OPTIONS = _extractor(_CONFIG)
_SHORT_PAGE_OPTIONS = _extractor(_SHORT_PAGE_CONFIG)
_X_PAGE_TEXT = etree.XPath("string(//body)")


# Lazy-loaded images: a script copies one of these into `src` once the image scrolls into view, so the page as
# fetched holds a placeholder (nothing, a data: URI or a grey GIF) where the picture is.
_LAZY_SRC = ("data-src", "data-original", "data-lazy-src", "data-lazy", "data-actualsrc", "data-echo")
_LAZY_SRCSET = ("data-srcset", "data-lazy-srcset")
# "url 480w, url 960w" or "url 1x, url 2x"; a data: URI holds commas, so it runs to the next space.
_SRCSET_ITEM = re.compile(r"\s*(data:\S*|[^\s,][^\s]*?)(?:\s+(\d+(?:\.\d+)?)[wx])?\s*(?:,|$)")
_X_NOSCRIPT_IMG = etree.XPath("//body//noscript[.//img]")


def visible_tree(root: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """A copy of the page without comments, processing instructions and hidden elements (tails kept), with
    lazy-loaded images given their real source (`load_lazy_images`). The extractor needs a tree of its own anyway
    (it cleans in place), and it cannot handle comment nodes."""
    tree = copy.deepcopy(root)
    etree.strip_elements(tree, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    for el in _X_HIDDEN(tree):
        drop_element(el)
    load_lazy_images(tree)
    return tree


def prepare_page(tree: etree._Element) -> None:
    """Ready the page's visible copy, in place, for the automatic choice of the main text (a configured body
    selector never sees this: it may name what is dropped here): layout tables become blocks
    (crawler/article_tables.py), slideshows and teaser lists go, and a table indented with a <blockquote> is freed
    from it (trafilatura flattens a quoted table into loose cells and loses the plain-text ones)."""
    unwrap_layout_tables(tree)
    drop_galleries(tree)
    drop_teaser_lists(tree)
    for quote in _X_QUOTED_TABLES(tree):
        quote.drop_tag()  # lxml.html: the element goes, its text, children and tail stay in place


def drop_teaser_lists(tree: etree._Element) -> None:
    """Remove, in place, lists of teaser cards (a stream of other stories, "Other opinion columns", "Related"):
    an element of which at least three children, and most, are short cards headed by a link to another page
    (`<li><h3><a href=…>Title</a></h3><p>Summary…</p></li>`). Trafilatura keeps the cards' summaries as text when
    the list shares the article's container. Never an element holding the headline or the article itself."""
    cards: dict[etree._Element, set[etree._Element]] = {}
    for heading in _X_LINK_HEADINGS(tree):
        text = "".join("".join(heading.itertext()).split())
        linked = sum(len("".join("".join(a.itertext()).split())) for a in heading.iter("a")
                     if not (a.get("href") or "#").startswith("#"))
        if not text or linked * 2 < len(text):
            continue
        child = heading
        for parent in heading.iterancestors():
            if parent.tag in ("body", "html"):
                break
            cards.setdefault(parent, set()).add(child)
            child = parent
    for parent, children in cards.items():
        if len(children) < 3 or parent.getparent() is None:
            continue
        siblings = [el for el in parent if isinstance(el.tag, str)]
        if len(children) * 2 <= len(siblings) or _X_HOLDS_ARTICLE(parent):
            continue
        if all(len(_X_TEXT(card)) < _CARD_CHARS for card in children):
            drop_element(parent)


def drop_galleries(tree: etree._Element) -> None:
    """Remove, in place, slideshows and carousels: an element whose class or id says gallery, slideshow, carousel
    or slider, holding at least three pictures or slides. Their captions are not the article's text, and
    trafilatura keeps them when they sit inside the article. Never an element holding the headline or the article
    itself, never a single figure."""
    for el in [mark.getparent() for mark in _X_MARKS(tree) if _GALLERY.search(mark)]:
        if el.getparent() is None or el.tag == "body" or _X_HOLDS_ARTICLE(el) or len(_X_SLIDES(el)) < 3:
            continue
        drop_element(el)


def load_lazy_images(tree: etree._Element) -> None:
    """Give every lazy-loaded image its real URL in `src`, in place, as the page's script would: a lazy attribute
    (data-src, data-original, …) wins over the placeholder `src`, then the largest candidate of a lazy srcset,
    then, when `src` is empty or a data: URI, of `srcset` or the enclosing <picture>'s <source>. A <noscript>
    copy of the image (the no-script fallback after a placeholder) gives the URL and is dropped; a <noscript>
    image standing alone is unwrapped, since both trafilatura and our cleaner drop <noscript>."""
    for noscript in _X_NOSCRIPT_IMG(tree):
        fallback = next(noscript.iter("img"))
        previous = _placeholder_before(noscript)
        src = (fallback.get("src") or "").strip()
        if previous is not None and src and not src.startswith("data:"):
            for name in (*_LAZY_SRC, *_LAZY_SRCSET, "srcset"):
                previous.attrib.pop(name, None)
            previous.set("src", src)
            if fallback.get("alt") and not previous.get("alt"):
                previous.set("alt", fallback.get("alt"))
            drop_element(noscript)
        elif previous is None and fallback.get("width") not in ("0", "1"):  # not a tracking pixel
            noscript.drop_tag()
    for img in tree.iter("img"):
        attrib = img.attrib
        real = next((attrib[name].strip() for name in _LAZY_SRC
                     if attrib.get(name, "").strip() and not attrib[name].startswith("data:")), None)
        if real is None:
            real = next((best for name in _LAZY_SRCSET if (best := largest_candidate(attrib.get(name)))), None)
        if real is None and (attrib.get("src") or "data:").strip().startswith("data:"):
            real = largest_candidate(attrib.get("srcset"))
            # (libxml2 does not know <source> is empty: the <img> after it lands inside it)
            picture = next((el for el in img.iterancestors("picture", "source") if el.tag == "picture"), None)
            if real is None and picture is not None:
                real = next((best for source in picture.iter("source")
                             if (best := largest_candidate(source.get("srcset") or source.get("data-srcset")))),
                            None)
        if real is not None:
            attrib["src"] = real


def _placeholder_before(noscript: etree._Element) -> etree._Element | None:
    """The image a <noscript> fallback stands for: an <img> just before it, or the only <img> of a text-less
    wrapper just before it (`<span class="lazy"><img …></span><noscript>…`)."""
    previous = noscript.getprevious()
    if previous is None or (previous.tail or "").strip():
        return None
    if previous.tag == "img":
        return previous
    images = list(previous.iter("img"))
    return images[0] if len(images) == 1 and not "".join(previous.itertext()).strip() else None


def largest_candidate(srcset: str | None) -> str | None:
    """The URL of a srcset's widest (or highest-density) candidate; None for an empty or data: one."""
    best: tuple[float, str] | None = None
    for found in _SRCSET_ITEM.finditer(srcset or ""):
        url, size = found[1], float(found[2] or 1)
        if not url.startswith("data:") and (best is None or size > best[0]):
            best = (size, url)
    return best[1] if best else None


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
    # bare_extraction and its HTML rendering are what trafilatura.extract does for HTML output, less the
    # document's simhash fingerprint it computes on the way (a tenth of our CPU per page, and unused).
    short = len(str(_X_PAGE_TEXT(root))) < _SHORT_PAGE_CHARS
    document = trafilatura.bare_extraction(root, options=_SHORT_PAGE_OPTIONS if short else _OPTIONS)
    if not isinstance(document, Document):
        return None
    found = unicodedata.normalize("NFC", build_html_output(document))
    body = lxml_html.document_fromstring(found).find("body")
    # Less is a teaser box or an empty template slot, not an article (the fallback heuristics use the same bar).
    if body is None or len("".join("".join(body.itertext()).split())) < MIN_BODY_TEXT:
        return None
    for graphic in body.iter("graphic"):  # trafilatura's image element
        graphic.tag = "img"
    trim_edges(body)
    return body
