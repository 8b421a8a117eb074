"""Text cleaning for titles and anything that ends up in XML feeds. Pure string functions, no parsing of HTML."""

from __future__ import annotations

import html
import re

# Characters XML 1.0 forbids: C0 controls except tab/newline/CR, lone surrogates, U+FFFE and U+FFFF.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# In a title also drop C1 controls (mis-decoded cp1252) and invisible format characters (ZWSP, BOM, ...).
_TITLE_JUNK = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u200b-\u200d\u2060\ufeff]")
_SPACE = re.compile(r"\s+")


def xml_safe(text: str) -> str:
    """`text` without the characters XML 1.0 cannot carry (the rest, whitespace included, is untouched)."""
    return _XML_INVALID.sub("", text)


def normalize_space(text: str) -> str:
    """Collapse every run of whitespace (ideographic space and nbsp included) into one space, and strip."""
    return _SPACE.sub(" ", text).strip()


def clean_title(text: str) -> str:
    """A title fit for a feed: entities decoded, whitespace normalised, XML-invalid and invisible characters gone.

    Control characters become spaces before collapsing, so `a\\x0bb` reads `a b` rather than `ab`.
    Entities are decoded once more because CMSs often double-escape (`&amp;nbsp;` shows as `&nbsp;`).
    """
    if "&" in text:
        text = html.unescape(text)
    text = _TITLE_JUNK.sub(lambda m: " " if m.group(0) in "\x0b\x0c\x85" else "", text)
    return normalize_space(text)
