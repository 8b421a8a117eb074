"""Article pages → ArticleContent (title, fullest date text, plain summary, cleaned body HTML). Pure.

Configured selectors win; otherwise heuristics: h1 / og:title / <title>; published-time metadata, <time>, or a
date line near the title; <article>, articleBody or common content classes, else the element with the most
paragraph text. The body is cut in lxml (the site's related blocks), then cleaned on the same lxml tree.
"""

from __future__ import annotations

import copy
import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from htmldate import find_date
from lxml import etree
from parsel import Selector
from parsel.csstranslator import HTMLTranslator

from crawler.article_body import MIN_BODY_TEXT, drop_element, main_text, prepare_page, visible_tree
from crawler.blocks import heading_and_block, select
from crawler.dates import find_date_text, machine_date_value
from feedsvc.config import ArticleSelectors
from feedsvc.text import clean_scraped_title, normalize_space, xml_safe

SUMMARY_CHARS = 200
_BLANK_LINES = re.compile(r"\n\s*\n")
_DATE_META = (
    "meta[property='article:published_time']::attr(content)",
    "meta[itemprop='datePublished']::attr(content)",
    "[itemprop='datePublished']::attr(datetime)",
    "meta[name='pubdate']::attr(content)",
    "meta[name='publishdate']::attr(content)",
    "meta[name='PubDate']::attr(content)",
    "meta[name='date']::attr(content)",
    "time[datetime]::attr(datetime)",
)
_BODY_CANDIDATES = (
    "article", "[itemprop='articleBody']", ".article-content", ".article_content", ".articleContent",
    ".post-content", ".entry-content", ".TRS_Editor", "#content", ".content", ".neirong", ".detail",
)


def _compile(css: str) -> etree.XPath:
    return etree.XPath(HTMLTranslator().css_to_xpath(css))


# The fixed heuristic queries run on every article page: compiled once and applied to the lxml tree directly,
# since a parsel .css()/.xpath() call (translation lookup, a Selector per result) costs several times the query.
_X_DATE_META = tuple(_compile(query) for query in _DATE_META)
_X_BODY = tuple(_compile(query) for query in _BODY_CANDIDATES)
_X_TITLE = etree.XPath("//title/text()")
_X_H1 = etree.XPath("//body//h1")
_X_JSON_LD = etree.XPath("//script[@type='application/ld+json']/text()")
_JSON_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_X_OG_TITLE = _compile("meta[property='og:title']::attr(content)")
_X_DESCRIPTION = _compile("meta[name='description']::attr(content)")
_X_STRING = etree.XPath("string(.)")
_X_BODY_TEXT = etree.XPath("//body//text()[not(ancestor::script) and not(ancestor::style)]")
_FULL_DATE = re.compile(r"(?:19|20)\d{2}\s*[-/年.]\s*\d{1,2}\s*[-/月.]\s*\d{1,2}")
_DATE_SCAN_CHARS = 3000  # a date further down is a comment's or a related item's, not the article's
_DROP_TAGS = ("script", "style", "noscript", "form", "nav", "iframe", "button", "input", "select", "textarea",
              "aside", "footer", "header", "link", "meta", "object", "embed", "template")
# Class/id words of blocks that are page furniture rather than the article.
_JUNK = re.compile(r"(?:^|[\s_-])(?:share|social|comment|comments|related|recommend|breadcrumb|crumb|nav|pager|"
                   r"pagination|ads?|advert|sidebar|toolbar)(?:$|[\s_-])", re.IGNORECASE)
_URL_ATTRS = (("a", "href"), ("img", "src"), ("source", "src"), ("video", "src"), ("audio", "src"),
              ("video", "poster"))


@dataclass(frozen=True, slots=True)
class ArticleContent:
    title: str | None
    date_text: str | None  # the fullest date the page shows
    summary: str | None  # plain text, about SUMMARY_CHARS characters
    content_html: str | None  # cleaned body HTML with absolute links


def extract_article(
    page: Selector, selectors: ArticleSelectors, base_url: str, exclude_headings: Sequence[str] = ()
) -> ArticleContent:
    """Title, date, summary and cleaned body of an article page; `exclude_headings` blocks are cut from the body."""
    page = Selector(root=visible_tree(page.root), type="html")
    title, title_el = _title(page, selectors)
    date_text = _date(page, selectors, title_el, base_url)
    body, fresh = _body(page, selectors)
    content_html: str | None = None
    text = ""
    if body is not None:
        root = _clean(body, base_url, exclude_headings, title, fresh)
        content_html = xml_safe(_BLANK_LINES.sub("\n", _inner_html(root)).strip()) or None
        text = normalize_space(" ".join(root.itertext()))
    if selectors.summary:
        text = normalize_space(" ".join(select(page, selectors.summary).xpath("string(.)").getall())) or text
    if not text:
        text = normalize_space(_first(_X_DESCRIPTION(page.root)))
    return ArticleContent(title=title, date_text=date_text, summary=_truncate(xml_safe(text)) or None,
                          content_html=content_html)


def _first(found: list[str]) -> str:
    """The first string an XPath gave (as parsel's `.get("")`)."""
    return str(found[0]) if found else ""


def _title(page: Selector, selectors: ArticleSelectors) -> tuple[str | None, etree._Element | None]:
    if selectors.title:
        found = select(page, selectors.title)
        for hit in found:
            text = clean_scraped_title(hit.get() if isinstance(hit.root, str) else hit.xpath("string(.)").get(""))
            if text:
                return text, None if isinstance(hit.root, str) else hit.root
    root = page.root
    head_title = clean_scraped_title(_first(_X_TITLE(root)))
    h1s = [(clean_scraped_title(_X_STRING(h)), h) for h in _X_H1(root)]
    h1s = [(text, el) for text, el in h1s if text]
    # A logo is often an <h1> too; the article's h1 is the one the <title> repeats, and more than its site-name
    # part ("Salon", "V8", "痞客邦 PIXNET" are in their page's <title> too, beside the headline).
    for text, el in h1s:
        if text in head_title and len(text) * 2 >= len(head_title):
            return text, el
    # No h1 repeats the <title>: the first h1 is then as often the site's logo or a section's name, so the page's
    # own og:title goes first, then the <title> (measured on the readability test pages: bench/extract_quality.py).
    og = clean_scraped_title(_first(_X_OG_TITLE(root)))
    if og:
        return og, next((el for text, el in h1s if text == og), None)
    # "Title_Site name" / "Title - Site name": keep the part before the last separator when it is the longer.
    parts = re.split(r"\s*(?:_|\s-\s|\s\|\s|–|—\s)\s*", head_title)
    if len(parts) > 1 and len(parts[0]) >= len(parts[-1]):
        head_title = " ".join(parts[:-1]).strip()
    # An h1 the <title> does not repeat is as often a section's name ("Allergies Health Center" over "Babies Who
    # Eat Peanuts Early May Avoid Allergy"): the longer of the two is the headline; a bare site name is short.
    if h1s and len(h1s[0][0]) > len(head_title):
        return h1s[0]
    return head_title or None, None


def _date(page: Selector, selectors: ArticleSelectors, title_el: etree._Element | None, base_url: str) -> str | None:
    if selectors.date:
        for hit in select(page, selectors.date):
            if isinstance(hit.root, str):
                raw = hit.get()
            else:
                raw = machine_date_value(hit.attrib) or hit.xpath("string(.)").get("")
            raw = normalize_space(raw)
            if raw:
                return find_date_text(raw) or raw
    # JSON-LD's datePublished first: where it and the Open Graph time disagree, the Open Graph one is the last
    # republication (medium.com, nbcnews.com in the corpus), as Readability.js and htmldate also judge.
    for script in _X_JSON_LD(page.root):
        published = _JSON_LD_PUBLISHED.search(script)
        if published:
            return published[1]
    for query in _X_DATE_META:
        value = normalize_space(_first(query(page.root)))
        if value:
            return value
    # The "发布时间:2024-10-12 09:30 来源:…" line that follows the title.
    if title_el is not None:
        near = normalize_space(" ".join(title_el.xpath("following::text()[not(ancestor::script)][position() <= 12]")))
        found = find_date_text(near[:300])
        if found:
            return found
    # Last, htmldate's reading of the whole page (URL, scripts' JSON-LD, date-looking text in known places).
    # (Its extensive search runs dateparser over every locale: seconds on some pages; the cheap line search below
    # recovers most of what it found on the corpus.)
    found = find_date(page.root, url=base_url, original_date=True, extensive_search=False)
    if found:
        return str(found)
    # Pages without an h1 still print "2005-5-7 21:23" near their top: the first full date in the visible text.
    # Only a full calendar date: "3 days ago" or "5000年前" in running text is not the article's date.
    found = find_date_text(normalize_space(" ".join(_X_BODY_TEXT(page.root)))[:_DATE_SCAN_CHARS])
    return found if found and _FULL_DATE.search(found) else None


def _body(page: Selector, selectors: ArticleSelectors) -> tuple[etree._Element | None, bool]:
    """The body element, and whether it is a fresh tree of its own (trafilatura's) rather than part of the page."""
    if selectors.body:
        found = select(page, selectors.body)
        return (found[0].root if found and not isinstance(found[0].root, str) else None), False
    prepare_page(page.root)  # (the page's visible copy: the title and date were read already)
    main = main_text(page.root)
    if main is not None:
        return main, True
    for query in _X_BODY:
        for hit in query(page.root):
            if len(normalize_space(_X_STRING(hit))) >= MIN_BODY_TEXT:
                return hit, False
    return _densest(page), False


def _densest(page: Selector) -> etree._Element | None:
    """The element holding the most paragraph text (`<p>` children, or bare text between `<br>`s)."""
    scores: Counter[etree._Element] = Counter()
    for p in page.xpath("//body//p"):
        parent = p.root.getparent()
        if parent is not None:
            scores[parent] += len(normalize_space(p.xpath("string(.)").get("")))
    for el in page.xpath("//body//div | //body//td | //body//section"):
        own = (el.root.text or "") + "".join(child.tail or "" for child in el.root)
        scores[el.root] += len(normalize_space(own))
    if not scores:
        return None
    best, score = scores.most_common(1)[0]
    return best if score >= MIN_BODY_TEXT else None


def _cut_blocks(root: etree._Element, headings: Sequence[str], title: str | None) -> None:
    """Remove, in place, each excluded heading with its block, and the h1 repeating the title."""
    scope = Selector(root=root, type="html")
    for heading in headings:
        found = heading_and_block(scope, heading)
        if found is None:
            continue
        for el in found:
            if el is not root and el.getparent() is not None:
                drop_element(el)
    if title:
        for h1 in root.iter("h1"):
            if clean_scraped_title("".join(h1.itertext())) == title and h1.getparent() is not None:
                drop_element(h1)
                break



def _clean(body: etree._Element, base_url: str, headings: Sequence[str], title: str | None,
           fresh: bool = False) -> etree._Element:
    """A cleaned copy of `body`: related blocks, comments, scripts/forms/nav and page furniture removed in place
    on the lxml tree parsel already built (re-parsing the body with BeautifulSoup cost more than the rest of the
    page's extraction together), then attributes fixed (`_fix_attrs`). The root itself is kept; a `fresh` body is
    cleaned in place. A furniture class word never removes an element holding most of the text: a wrapper named
    `content-with-sidebar` around the article is the article."""
    root = body if fresh else copy.deepcopy(body)
    _cut_blocks(root, headings, title)
    doomed: list[etree._Element] = []
    total = -1  # the body's text length, counted when first needed
    for el in root.iterdescendants():
        tag = el.tag
        if not isinstance(tag, str) or tag in _DROP_TAGS:  # not a tag: a comment, processing instruction, entity
            doomed.append(el)
        else:
            marks = f"{el.get('class') or ''} {el.get('id') or ''}"
            if marks.strip() and _JUNK.search(marks):
                if total < 0:
                    total = len(normalize_space(_X_STRING(root)))
                if len(normalize_space(_X_STRING(el))) * 2 < total:
                    doomed.append(el)
    # A doomed element inside another doomed one just leaves with it; _drop keeps each tail text in place.
    for el in doomed:
        drop_element(el)
    for el in root.iterdescendants():
        if el.attrib:
            _fix_attrs(el, base_url)
    return root


def _inner_html(root: etree._Element) -> str:
    """The element's content as HTML (its own tag and tail left out)."""
    parts = [html.escape(root.text, quote=False)] if root.text else []
    parts.extend(etree.tostring(child, encoding="unicode", method="html") for child in root)  # tails included
    return "".join(parts)


def _fix_attrs(el: etree._Element, base_url: str) -> None:
    """Absolute links and image sources, event handlers and styles dropped (lazy-loaded images got their real
    source with the page's visible copy: crawler/article_body.py `load_lazy_images`)."""
    attrib = el.attrib
    for name in [name for name in attrib if name.startswith("on") or name == "style"]:
        del attrib[name]
    tag = el.tag
    for tag_name, attr in _URL_ATTRS:
        if tag == tag_name and attrib.get(attr):
            value = "".join(attrib[attr].split())
            if value.lower().startswith(("javascript:", "vbscript:")):
                del attrib[attr]
            else:
                attrib[attr] = join_url(base_url, value)
    srcset = attrib.get("srcset")
    if srcset:
        attrib["srcset"] = ", ".join(
            " ".join([join_url(base_url, part.split()[0]), *part.split()[1:]]) for part in srcset.split(",") if part.strip()
        )


def join_url(base_url: str, href: str) -> str:
    """urljoin with fast paths for the two common shapes (absolute, root-relative); same results."""
    if href.startswith(("http://", "https://")):
        return href
    if href.startswith("/") and not href.startswith("//") and "/." not in href:
        scheme, sep, rest = base_url.partition("://")
        if sep:
            return f"{scheme}{sep}{rest.split('/', 1)[0].split('?', 1)[0].split('#', 1)[0]}{href}"
    return urljoin(base_url, href)


def _truncate(text: str, limit: int = SUMMARY_CHARS) -> str:
    """At most `limit` characters, cut after a sentence end or at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    stop = max(head.rfind(mark) for mark in "。！？!?；;")
    if stop >= limit * 0.6:
        return head[: stop + 1]
    space = head.rfind(" ")
    if space >= limit * 0.6:
        head = head[:space]
    return head.rstrip(" ,，、;；:：") + "…"
