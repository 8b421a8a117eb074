"""HTML sanitising for feed content (nh3). Pure functions, no I/O; plain-text rules live in feedsvc/text.py.

Feed readers render entry content as HTML inside their own UI, so anything scriptable is removed: no
<script>/<style>/<iframe>, no event handlers, no javascript: URLs. Relative links and image sources are made
absolute against the item's URL (a reader has no base URL of ours to resolve them with).
"""

from __future__ import annotations

import html as html_module
import re
from urllib.parse import urljoin

import nh3

from feedsvc.text import NON_PROSE_TAGS, xml_safe

# Tags a reader can show safely; no forms, frames, media players or styling elements.
ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot",
    "th", "thead", "time", "tr", "u", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "abbr": {"title"},
    "ol": {"start"},
}
# The content of these goes too, not just the tags: their text is code or markup, never prose.
DROP_WITH_CONTENT = NON_PROSE_TAGS
URL_SCHEMES = frozenset({"http", "https", "mailto"})

# Built once: constructing a cleaner per call costs more than cleaning a typical article.
_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROP_WITH_CONTENT),
    attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    url_relative="pass_through",
    link_rel="noopener noreferrer",
    strip_comments=True,
)
# nh3's serialiser always writes double-quoted attributes, so after cleaning this finds every URL attribute.
_URL_TAG = re.compile(r"<(?:a|img)\s[^>]*>")
_URL_ATTR = re.compile(r'\b(href|src)="([^"]*)"')
_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def _origin(url: str) -> str:
    """'http://host:port' of an absolute URL, '' when it has none."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.isalpha():
        return ""
    return f"{scheme}://{rest.split('/', 1)[0].split('?', 1)[0].split('#', 1)[0]}"


def clean_html(html: str, base_url: str) -> str:
    """Sanitise an HTML fragment: allow-listed tags only, links absolute against `base_url`, rel=noopener."""
    if not html:
        return ""
    cleaned: str = _CLEANER.clean(xml_safe(html))
    if "href=" not in cleaned and "src=" not in cleaned:
        return cleaned.strip()
    origin = _origin(base_url)

    def absolute_attr(match: re.Match[str]) -> str:
        value = html_module.unescape(match.group(2))
        if _HAS_SCHEME.match(value):  # only http(s)/mailto survive the cleaner
            return match.group(0)
        # Root-relative paths are the common case and need no full RFC 3986 resolution (urljoin is slow).
        if origin and value.startswith("/") and not value.startswith("//") and "/." not in value:
            joined = origin + value
        else:
            joined = urljoin(base_url, value)
        return f'{match.group(1)}="{html_module.escape(joined, quote=True)}"'

    def fix_tag(match: re.Match[str]) -> str:
        return _URL_ATTR.sub(absolute_attr, match.group(0))

    return _URL_TAG.sub(fix_tag, cleaned).strip()
