"""HTML sanitising for feed content (nh3). Pure functions, no I/O; plain-text rules live in feedsvc/text.py.

Feed readers render entry content as HTML inside their own UI, so anything scriptable is removed: no
<script>/<style>/<iframe>, no event handlers, no javascript: URLs. Links and image sources are already absolute:
the crawler resolves them when it extracts the body (crawler/article.py, the one home of that rule), where the
page's own URL after redirects is known.
"""

from __future__ import annotations

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


def clean_html(html: str) -> str:
    """Sanitise an HTML fragment: allow-listed tags and URL schemes only, rel=noopener on links."""
    if not html:
        return ""
    cleaned: str = _CLEANER.clean(xml_safe(html))
    return cleaned.strip()
