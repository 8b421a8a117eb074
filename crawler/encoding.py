"""Bytes of an HTML page → text: w3lib's html_to_unicode (BOM, then HTTP header, then `<meta>`, with the WHATWG
label table: gbk/gb2312 → gb18030, latin-1 → cp1252), plus our own rules for the GBK and UTF-8 pages Chinese sites
serve, declared or not.

Ours: a GBK label on bytes that are valid UTF-8 is UTF-8; a declared charset that does not decode the page is
passed over for UTF-8, else GB18030, when either decodes it cleanly (GB18030 only for bytes that look like GB2312
text: cp1252's "it’s" pairs up as GBK too); an undeclared page that neither decodes gets BeautifulSoup's
UnicodeDammit guess (charset_normalizer) unless it is only cp1252, else UTF-8 or GB18030 when only a few bytes
in a thousand break it (a saved page with a cut character or two), else cp1252 with replacement.
"""

from __future__ import annotations

from parsel import Selector
from w3lib.encoding import (
    html_body_declared_encoding,
    html_to_unicode,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
)

# Non-ASCII bytes below which a detector's guess is noise; such pages keep the cp1252 fallback.
_MIN_GUESS_BYTES = 32
# Broken characters per non-ASCII byte a page may have and still be read in that codec: a real GB2312 forum page
# with 2 broken characters in 44,649 non-ASCII bytes was read as cp1252, and every Chinese character was lost.
# Text in another codec breaks far more often: cp1252 Latin text read as UTF-8 breaks at nearly every accent.
_MAX_BROKEN = 0.001
# GB2312 text is byte pairs in 0xA1-0xFE; cp1252 punctuation (0x91-0x97: ’ “ ” –) followed by a letter also makes
# valid GBK pairs, so an undeclared English cp1252 page could decode "cleanly" as GB18030 without this.
_BELOW_GB2312 = bytes(range(0xA1))
_MIN_GB2312_SHARE = 0.9
_ASCII = bytes(range(128))


def normalize_encoding(label: str | None) -> str | None:
    """A Python codec name for a declared charset label (gbk → gb18030, by w3lib's table), or None when unknown."""
    if not label:
        return None
    return resolve_encoding(label.strip().strip("\"'"))


def decode_html(body: bytes, declared: str | None) -> tuple[str, str]:
    """(text, encoding used). `declared` is the HTTP header's charset. A BOM wins; then the header's charset,
    then the meta tag's, each only when it decodes the page cleanly; then our undeclared-page rules."""
    if read_bom(body)[0] is not None:
        encoding, text = html_to_unicode(None, body)
        return text, encoding
    labels = [http_content_type_encoding(f"text/html; charset={declared}") if declared else None,
              html_body_declared_encoding(body)]
    named = [name for name in labels if name]
    if named and named[0] == "gb18030" and not body.isascii() and _decodes(body, "utf-8"):
        # Sites that moved to UTF-8 often kept `charset=gb2312`; GB18030 decodes any bytes, so it cannot tell
        # us it is wrong, but non-ASCII text that is valid UTF-8 is practically never GBK.
        named.insert(0, "utf-8")
    clean = next((name for name in named if _decodes(body, name)), None) or next(
        (name for name in ("utf-8", "gb18030") if _decodes(body, name) and (name == "utf-8" or _gb2312_like(body))),
        None)
    # Nothing decodes cleanly: a mostly-right page with a few broken bytes is still worth reading, in the
    # declared charset; an undeclared one gets the detector's guess, else cp1252.
    chosen = clean or (named[0] if named else None)
    header = f"text/html; charset={chosen}" if chosen else None
    encoding, text = html_to_unicode(header, body, default_encoding="cp1252", auto_detect_fun=_guess)
    return text, encoding


def _decodes(body: bytes, encoding: str) -> bool:
    try:
        body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def _gb2312_like(body: bytes) -> bool:
    """Nine in ten non-ASCII bytes in GB2312's 0xA1-0xFE range, as in every GBK page of our corpora (99-100%):
    an undeclared page is not taken for GB18030 on its bytes merely pairing up, since cp1252's "it’s" does too."""
    return len(body.translate(None, _BELOW_GB2312)) >= len(body.translate(None, _ASCII)) * _MIN_GB2312_SHARE


def _guess(body: bytes) -> str | None:
    """For an undeclared page neither UTF-8 nor GB18030 decodes cleanly, when there is enough non-ASCII text to
    tell: UnicodeDammit's guess when it decodes cleanly, else UTF-8 or GB18030 when either breaks on at most one
    non-ASCII byte in a thousand, else the detector's cp1252."""
    non_ascii = len(body.translate(None, _ASCII))  # (the ASCII bytes deleted)
    if non_ascii < _MIN_GUESS_BYTES:
        return None
    from bs4 import UnicodeDammit  # rare (undeclared, undecodable pages): ~3 MiB most crawls never load

    dammit = UnicodeDammit(body, is_html=True)
    name = normalize_encoding(dammit.original_encoding)
    if dammit.unicode_markup is None or dammit.contains_replacement_characters:
        name = None
    if name is not None and name != "cp1252":
        return name
    # After a real guess (GB18030 reads Big5 or Shift_JIS bytes with few errors too) but before cp1252, which is
    # the detector's last resort: it decodes nearly any bytes, mojibake included.
    for candidate in ("utf-8", "gb18030"):
        if candidate == "gb18030" and not _gb2312_like(body):
            continue
        broken = body.decode(candidate, errors="replace").count("\ufffd") - body.count("\ufffd".encode())
        if broken <= non_ascii * _MAX_BROKEN:
            return candidate
    return name


def decoded_selector(body: bytes, content_type: str | None, url: str) -> Selector:
    """A fetched page as a parsel Selector, decoded by the rules above (the HTTP Content-Type's charset first)."""
    text, _ = decode_html(body, http_content_type_encoding(content_type) if content_type else None)
    return Selector(text=text, base_url=url)
