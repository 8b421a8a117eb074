"""Canonical URLs, so one article reached by two links is one item. Pure; no network."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from w3lib.url import safe_url_string

# Trackers dropped from every URL unless a source sets drop_tracking_params = false (utm_* too).
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
# The URL columns' width (items, aliases, listing pages: String(2048)): PostgreSQL refuses a longer value and would
# fail the whole batch, so a longer link is no item. Real article URLs stay far below it.
MAX_URL_LENGTH = 2048


def split_url(url: str) -> SplitResult:
    """The one parse of a link, for the fence and for storage alike: the form Scrapy requests (w3lib's WHATWG
    rules, where a backslash ends the host: `http://a:1\\@b/` is host a, not b). ValueError when unparseable."""
    return urlsplit(safe_url_string(url.strip()))


def canonical_url(url: str, drop_query_params: Iterable[str] = (), drop_tracking: bool = True) -> str:
    """Absolute http(s) URL → canonical form: no fragment, lowercase scheme and host, no default port,
    `drop_query_params` and (with drop_tracking) trackers (utm_*, fbclid…) removed, other params kept in
    their order, path at least '/'.

    Raises ValueError for anything that is not an absolute http(s) URL, or is longer than MAX_URL_LENGTH.
    """
    # split_url percent-encodes non-ASCII paths and IDNA-encodes hosts, so a raw `/文章/1.html`
    # and its encoded form end up equal.
    parts = split_url(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    host = parts.hostname.rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"invalid port in URL {url!r}") from None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{netloc}"
    drop = {name.lower() for name in drop_query_params}
    # Split the raw query rather than decode/re-encode it, so the kept params stay byte for byte as the site wrote them.
    kept = [_PERCENT.sub(_upper, pair) for pair in parts.query.split("&") if pair and not _dropped(pair, drop, drop_tracking)]
    path = _PERCENT.sub(_upper, parts.path) or "/"
    canonical = urlunsplit((scheme, netloc, path, "&".join(kept), ""))
    if len(canonical) > MAX_URL_LENGTH:
        raise ValueError(f"URL of {len(canonical)} characters, longer than {MAX_URL_LENGTH}: {url[:80]!r}…")
    return canonical


def _dropped(pair: str, drop: set[str], tracking: bool) -> bool:
    name = pair.split("=", 1)[0].lower()
    return name in drop or (tracking and (name in TRACKING_PARAMS or name.startswith("utm_")))


@functools.cache
def _suffixes() -> Any:
    """The public suffix list snapshot bundled with tldextract: no network, no cache files. Private suffixes count
    (github.io, blogspot.com), so two people's pages on one hosting service are two sites. Loaded on the first
    host name: tldextract costs ~0.1 CPU-s to import, and a crawl of IP-addressed hosts never needs it."""
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def site_of(host: str) -> str:
    """The registrable domain of `host` (news.example.com.cn → example.com.cn): one site, many host names.
    An IP address is its own site; under an unknown suffix the last two labels are the site."""
    host = host.lower().strip("[]").rstrip(".")
    if not host or ":" in host or host.replace(".", "").isdigit():
        return host
    # A name under no public suffix (the reserved .test and .example, a LAN's .lan) is read as one: its last label.
    return _suffixes()(host).top_domain_under_public_suffix or ".".join(host.split(".")[-2:])


def same_site(url: str, other: str) -> bool:
    """True when both URLs are on one site (one registrable domain: money.example.com and news.example.com)."""
    a, b = (urlsplit(u).hostname or "" for u in (url, other))
    return bool(a) and site_of(a) == site_of(b)


def matches_pages(url: str, patterns: Sequence[str]) -> bool:
    """Does `url` match one of a listing's `pages` patterns? `/list/*` matches the path (and the query when
    the pattern has a '?'); a pattern starting with http(s):// matches the whole URL. `*` is any text."""
    parts = urlsplit(url)
    path = parts.path or "/"
    for pattern in patterns:
        if pattern.startswith(("http://", "https://")):
            subject = url
        else:
            subject = f"{path}?{parts.query}" if "?" in pattern else path
        if fnmatchcase(subject, pattern):
            return True
    return False


def _upper(match: re.Match[str]) -> str:
    return match.group(0).upper()
