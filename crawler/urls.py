"""Canonical URLs, so one article reached by two links is one item. Pure; no network."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import safe_url_string

# Trackers dropped from every URL, whatever the source config says.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid", "_hsenc", "_hsmi"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")


def canonical_url(url: str, drop_query_params: Iterable[str] = ()) -> str:
    """Absolute http(s) URL → canonical form: no fragment, lowercase scheme and host, no default port,
    `drop_query_params` and trackers (utm_*, fbclid…) removed, other params kept in their order, path at least '/'.

    Raises ValueError for anything that is not an absolute http(s) URL.
    """
    # safe_url_string percent-encodes non-ASCII paths and IDNA-encodes hosts, so a raw `/文章/1.html`
    # and its encoded form end up equal.
    parts = urlsplit(safe_url_string(url.strip()))
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
    kept = [_PERCENT.sub(_upper, pair) for pair in parts.query.split("&") if pair and not _dropped(pair, drop)]
    path = _PERCENT.sub(_upper, parts.path) or "/"
    return urlunsplit((scheme, netloc, path, "&".join(kept), ""))


def _dropped(pair: str, drop: set[str]) -> bool:
    name = pair.split("=", 1)[0].lower()
    return name in drop or name in TRACKING_PARAMS or name.startswith("utm_")


def _upper(match: re.Match[str]) -> str:
    return match.group(0).upper()
