"""Bytes of an HTML page → text, for the GBK/GB18030 and UTF-8 pages Chinese sites serve, declared or not.

Undeclared pages in other encodings (windows-1251, Shift_JIS, ...) are left to BeautifulSoup's UnicodeDammit,
whose detector (charset_normalizer) guesses where our UTF-8/GB18030 rules cannot.
"""

from __future__ import annotations

import codecs
import re

from bs4 import UnicodeDammit
from parsel import Selector

# GB2312 and GBK pages routinely contain characters only GB18030 has; it is a strict superset, so use it.
# Latin-1 labels mean windows-1252 in practice (the WHATWG encoding standard says the same).
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
            "iso-8859-1": "cp1252", "latin-1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le"),
         (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be"))
# Non-ASCII bytes below which a detector's guess is noise; such pages keep the cp1252 fallback.
_MIN_GUESS_BYTES = 32
_ASCII = bytes(range(128))
_META = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def normalize_encoding(label: str | None) -> str | None:
    """A Python codec name for a declared charset label (gbk → gb18030), or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_ALIASES.get(label, label)).name
    except LookupError:
        return None
    return {"gbk": "gb18030", "gb2312": "gb18030", "latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}.get(
        name, name
    )


def meta_charset(body: bytes) -> str | None:
    """The charset a `<meta charset>` or `<meta http-equiv=Content-Type>` declares in the first 4 KB."""
    match = _META.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def decode_html(body: bytes, declared: str | None) -> tuple[str, str]:
    """(text, encoding used). A BOM wins; then the declared charset (`declared`, from the HTTP header), then a
    meta tag, when they decode cleanly (a GBK label on bytes that are valid UTF-8 is taken as UTF-8); with none:
    strict UTF-8, then GB18030 when it decodes cleanly, then UnicodeDammit's guess when it decodes cleanly,
    then cp1252 with replacement.
    """
    for bom, codec, name in _BOMS:
        if body.startswith(bom):
            return body.decode(codec, errors="replace"), name
    candidates = [normalize_encoding(declared), normalize_encoding(meta_charset(body))]
    declared_ok = [name for name in candidates if name]
    if declared_ok and declared_ok[0] == "gb18030" and not body.isascii() and _is_utf8(body):
        # Sites that moved to UTF-8 often kept `charset=gb2312`; GB18030 decodes any bytes, so it cannot tell
        # us it is wrong, but non-ASCII text that is valid UTF-8 is practically never GBK.
        declared_ok.insert(0, "utf-8")
    for name in [*declared_ok, "utf-8", "gb18030"]:
        try:
            return body.decode(name), name
        except UnicodeDecodeError:
            continue
    if not declared_ok:
        guessed = _guess(body)
        if guessed is not None:
            return guessed
    # Nothing decodes cleanly: a mostly-right page with a few broken bytes is still worth reading.
    name = declared_ok[0] if declared_ok else "cp1252"
    return body.decode(name, errors="replace"), name


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _guess(body: bytes) -> tuple[str, str] | None:
    """(text, encoding) from UnicodeDammit's detection, when there is enough non-ASCII text to tell and the
    guess decodes the page without replacement characters."""
    if len(body) - len(body.translate(None, _ASCII)) < _MIN_GUESS_BYTES:
        return None
    dammit = UnicodeDammit(body, is_html=True)
    name = normalize_encoding(dammit.original_encoding)
    text = dammit.unicode_markup
    if text is None or name is None or dammit.contains_replacement_characters:
        return None
    return text, name


def decoded_selector(body: bytes, content_type: str | None, url: str) -> Selector:
    """A fetched page as a parsel Selector, decoded by the rules above (the HTTP Content-Type's charset first)."""
    from w3lib.encoding import http_content_type_encoding

    text, _ = decode_html(body, http_content_type_encoding(content_type) if content_type else None)
    return Selector(text=text, base_url=url)
