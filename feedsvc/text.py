"""Plain-text rules shared by the crawler, the feeds and related items: XML safety, titles, text of HTML, and
the one rule for reading a whole number someone else typed (query strings, headers, command arguments).

One home on purpose: the crawler cleans what it stores and the feeds clean what they show with the same rules,
so a title never reads differently in the database, a feed and the terminal. Pure functions, no I/O.
"""

from __future__ import annotations

import html
import re

import nh3

# Characters XML 1.0 forbids (C0 controls except tab/newline/CR, lone surrogates, U+FFFE/U+FFFF) and the C1
# controls except NEL: legal in XML 1.0 but they render as garbage (mis-decoded cp1252) and upset validators.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
# A title also loses invisible format characters: zero-width ones, BOM, and the bidi embeddings, overrides and
# isolates (U+202A–202E, U+2066–2069) a hostile page can use to make a title read backwards.
_TITLE_JUNK = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff"
    "\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
_BECOMES_SPACE = "\x0b\x0c\x85"  # vertical tab, form feed, NEL separate words; dropping them would glue two
_SPACE = re.compile(r"\s+")
# Longest title stored from a page: real headlines stay far below; a hostile page's 12,000-character one does not.
MAX_TITLE_CHARS = 300
# Elements whose content is code or markup, never prose: dropped with their content, not just their tags.
NON_PROSE_TAGS = frozenset({"script", "style", "iframe", "noscript", "object", "embed", "template", "svg", "math"})
_BLOCK_TAG = re.compile(r"(<(?:/?(?:p|div|li|br|h[1-6]|tr|td)\b))", re.IGNORECASE)


def xml_safe(text: str) -> str:
    """`text` without the characters an XML document cannot carry; everything else (emoji, CJK, tabs) stays."""
    return _XML_UNSAFE.sub("", text)


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace (ideographic space and nbsp included) into one space, and strip."""
    return _SPACE.sub(" ", text).strip()


def clean_title(text: str) -> str:
    """A one-line title fit for a feed or a terminal: control, invisible and bidi characters gone, whitespace
    collapsed. Idempotent, so the feeds can apply it again to what the crawler stored."""
    text = _TITLE_JUNK.sub(lambda m: " " if m.group(0) in _BECOMES_SPACE else "", text)
    return normalize_space(text)


def clean_scraped_title(text: str) -> str:
    """`clean_title` for text taken from a page, whose entities are decoded once more first: CMSs often
    double-escape, so parsed text still shows `&nbsp;` or `&amp;`. Capped at MAX_TITLE_CHARS."""
    return cap_title(clean_title(html.unescape(text) if "&" in text else text))


def cap_title(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    """`text` cut to at most `limit` characters, at a space when one is near the end, marked with '…'."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit * 0.8 else cut).rstrip() + "…"


def plain_text(html_fragment: str) -> str:
    """The text of an HTML fragment on one line (summaries built from content)."""
    # Block tags become spaces so "<p>a</p><p>b</p>" reads "a b", not "ab".
    spaced = _BLOCK_TAG.sub(r" \1", html_fragment)
    text = nh3.clean(xml_safe(spaced), tags=set(), clean_content_tags=set(NON_PROSE_TAGS))
    return clean_title(html.unescape(text))


# ANSI/VT escape sequences (CSI, OSC, and two-byte ESC forms), then any control character left over, DEL and
# C1 included. Bidi overrides and isolates can make a line read differently from what it is: gone too.
_TERMINAL_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_TERMINAL_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_TERMINAL_BREAKS = re.compile(r"[\t\n\r]+")


def clean_text(value: object, keep_newlines: bool = False) -> str:
    """Site-derived text made harmless for a terminal: escape sequences and control characters removed; tabs
    and line breaks become a space unless `keep_newlines`."""
    text = _TERMINAL_CONTROLS.sub("", _TERMINAL_ESCAPES.sub("", str(value)).replace("\t", " "))
    if keep_newlines:
        return text.replace("\r\n", "\n").replace("\r", "\n")
    return _TERMINAL_BREAKS.sub(" ", text)


def safe_text(value: object, keep_newlines: bool = False) -> str:
    """`clean_text`, then escaped for Rich markup: the form to put inside `console.print(f"...{x}...")`."""
    # Imported here: the crawl process never prints through Rich (~3 MiB it need not hold).
    from rich.markup import escape

    return escape(clean_text(value, keep_newlines))


def whole_number(text: str, maximum: int, clamp: bool = False) -> int | None:
    """`text` as a whole number when it is one or more ASCII digits and at most `maximum`, else None (or
    `maximum` when `clamp` and the digits only say too much). No sign, space, '²', '①' or '٣': `str.isdigit`
    accepts those and `int()` then raises or reads another script's digits. The length is checked before
    `int()`, so a 5,000-digit value costs nothing and never reaches Python's 4,300-digit conversion limit."""
    if not text or not (text.isascii() and text.isdigit()):
        return None
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)) or int(significant) > maximum:
        return maximum if clamp else None
    return int(significant)
