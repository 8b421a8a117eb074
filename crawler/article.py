"""Article pages → ArticleContent (title, fullest date text, plain summary, cleaned body HTML). Pure.

Configured selectors win; otherwise heuristics: h1 / og:title / <title>; published-time metadata, <time>, or a
date line near the title; <article>, articleBody or common content classes, else the element with the most
paragraph text. The body is cut in lxml (the site's related blocks), then cleaned with BeautifulSoup.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from bs4 import BeautifulSoup, Comment, Tag
from lxml import etree
from parsel import Selector

from crawler.blocks import heading_and_block, select
from crawler.dates import find_date_text
from crawler.text import clean_title, normalize_space, xml_safe
from feedsvc.config import ArticleSelectors

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
_MIN_BODY_TEXT = 40  # characters; less is a teaser box or an empty template slot, not an article
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
    title, title_el = _title(page, selectors)
    date_text = _date(page, selectors, title_el)
    body = _body(page, selectors)
    content_html: str | None = None
    text = ""
    if body is not None:
        root = _clean(body, page, base_url, exclude_headings, title)
        if root is not None:
            content_html = xml_safe(_BLANK_LINES.sub("\n", root.decode_contents()).strip()) or None
            text = normalize_space(root.get_text(" "))
    if selectors.summary:
        text = normalize_space(" ".join(select(page, selectors.summary).xpath("string(.)").getall())) or text
    if not text:
        text = normalize_space(page.css("meta[name='description']::attr(content)").get(""))
    return ArticleContent(title=title, date_text=date_text, summary=_truncate(xml_safe(text)) or None,
                          content_html=content_html)


def _title(page: Selector, selectors: ArticleSelectors) -> tuple[str | None, etree._Element | None]:
    if selectors.title:
        found = select(page, selectors.title)
        for hit in found:
            text = clean_title(hit.get() if isinstance(hit.root, str) else hit.xpath("string(.)").get(""))
            if text:
                return text, None if isinstance(hit.root, str) else hit.root
    head_title = clean_title(page.xpath("//title/text()").get(""))
    h1s = [(clean_title(h.xpath("string(.)").get("")), h.root) for h in page.xpath("//body//h1")]
    h1s = [(text, el) for text, el in h1s if text]
    # A logo is often an <h1> too; the article's h1 is the one the <title> repeats.
    for text, el in h1s:
        if text in head_title:
            return text, el
    if h1s:
        return h1s[0]
    og = clean_title(page.css("meta[property='og:title']::attr(content)").get(""))
    if og:
        return og, None
    # "Title_Site name" / "Title - Site name": keep the part before the last separator when it is the longer.
    parts = re.split(r"\s*(?:_|\s-\s|\s\|\s|–|—\s)\s*", head_title)
    if len(parts) > 1 and len(parts[0]) >= len(parts[-1]):
        return " ".join(parts[:-1]).strip() or None, None
    return head_title or None, None


def _date(page: Selector, selectors: ArticleSelectors, title_el: etree._Element | None) -> str | None:
    if selectors.date:
        for hit in select(page, selectors.date):
            if isinstance(hit.root, str):
                raw = hit.get()
            else:
                raw = hit.attrib.get("datetime") or hit.attrib.get("content") or hit.xpath("string(.)").get("")
            raw = normalize_space(raw)
            if raw:
                return find_date_text(raw) or raw
    for query in _DATE_META:
        value = normalize_space(page.css(query).get(""))
        if value:
            return value
    # The "发布时间:2024-10-12 09:30 来源:…" line that follows the title.
    if title_el is not None:
        near = normalize_space(" ".join(title_el.xpath("following::text()[not(ancestor::script)][position() <= 12]")))
        found = find_date_text(near[:300])
        if found:
            return found
    return None


def _body(page: Selector, selectors: ArticleSelectors) -> etree._Element | None:
    if selectors.body:
        found = select(page, selectors.body)
        return found[0].root if found and not isinstance(found[0].root, str) else None
    for query in _BODY_CANDIDATES:
        for hit in page.css(query):
            if len(normalize_space(hit.xpath("string(.)").get(""))) >= _MIN_BODY_TEXT:
                return hit.root
    return _densest(page)


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
    return best if score >= _MIN_BODY_TEXT else None


def _cut_blocks(root: etree._Element, headings: Sequence[str], title: str | None) -> None:
    """Remove, in place, each excluded heading with its block, and the h1 repeating the title."""
    scope = Selector(root=root, type="html")
    for heading in headings:
        found = heading_and_block(scope, heading)
        if found is None:
            continue
        for el in found:
            if el is not root and el.getparent() is not None:
                _drop(el)
    if title:
        for h1 in root.iter("h1"):
            if clean_title("".join(h1.itertext())) == title and h1.getparent() is not None:
                _drop(h1)
                break


def _drop(el: etree._Element) -> None:
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


def _clean(body: etree._Element, page: Selector, base_url: str, headings: Sequence[str], title: str | None) -> Tag | None:
    root = copy.deepcopy(body)
    _cut_blocks(root, headings, title)
    soup = BeautifulSoup(etree.tostring(root, encoding="unicode", method="html"), "html.parser")
    top = soup.find(True)
    if not isinstance(top, Tag):
        return None
    for comment in top.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in top.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in top.find_all(True):
        if tag.decomposed:
            continue
        marks = " ".join([*(tag.get("class") or []), str(tag.get("id") or "")])
        if marks.strip() and _JUNK.search(marks):
            tag.decompose()
    for tag in top.find_all(True):
        _fix_attrs(tag, base_url)
    return top


def _fix_attrs(tag: Tag, base_url: str) -> None:
    """Absolute links and image sources, lazy-loaded images made real, event handlers and styles dropped."""
    for name in list(tag.attrs):
        if name.startswith("on") or name == "style":
            del tag.attrs[name]
    if tag.name == "img" and not tag.get("src"):
        for lazy in ("data-src", "data-original", "data-lazy-src"):
            if tag.get(lazy):
                tag["src"] = tag[lazy]
                break
    for tag_name, attr in _URL_ATTRS:
        if tag.name == tag_name and tag.get(attr):
            value = "".join(str(tag[attr]).split())
            if value.lower().startswith(("javascript:", "vbscript:")):
                del tag.attrs[attr]
            else:
                tag[attr] = urljoin(base_url, value)
    if tag.get("srcset"):
        tag["srcset"] = ", ".join(
            " ".join([urljoin(base_url, part.split()[0]), *part.split()[1:]])
            for part in str(tag["srcset"]).split(",") if part.strip()
        )


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
