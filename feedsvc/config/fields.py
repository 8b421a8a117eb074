"""The value types config keys share: ids, CSS/XPath selectors, cron lines, time zones, crawl-fence hosts.

Each checks its value when the config loads, so a typo fails there with the key's path, not mid-crawl.
"""

from __future__ import annotations

import re
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field

from feedsvc.config.cron import check_cron

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
SLUG_HINT = "use lowercase letters, digits, '-' or '_' (it appears in feed URLs)"


def _check_selector(value: str) -> str:
    """Compile a CSS (or XPath, when it starts with / or '(') selector so typos fail at load time."""
    value = value.strip()
    if not value:
        raise ValueError("selector is empty")
    if value.startswith(("/", "(", "./")):
        from lxml import etree

        try:
            etree.XPath(value)
        except etree.XPathSyntaxError as exc:
            raise ValueError(f"invalid XPath {value!r}: {exc}") from None
        return value
    # cssselect, checked the way parsel (which runs the selectors) reads them: parsel's own translator would load
    # lxml and parsel into every process that reads a config, the `feedsvc crawl` parent included (~12 MiB held
    # through the crawl), to check a string.
    from cssselect import HTMLTranslator, parse

    try:
        for selector in parse(value):
            _check_pseudo_element(selector.pseudo_element)
            HTMLTranslator().selector_to_xpath(selector, translate_pseudo_elements=False)
    except Exception as exc:  # cssselect raises several unrelated types for syntax errors
        raise ValueError(f"invalid CSS selector {value!r}: {exc}") from None
    return value


def _check_pseudo_element(pseudo: object) -> None:
    """parsel's two pseudo-elements: `::text` and `::attr(name)`."""
    if pseudo is None or pseudo == "text":
        return
    name = getattr(pseudo, "name", pseudo)
    if name == "attr" and len(getattr(pseudo, "arguments", ())) == 1:
        return
    raise ValueError(f"the pseudo-element ::{name} is unknown (use ::text or ::attr(name))")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as 'Asia/Shanghai' or 'UTC'") from None
    return value


# A host name (letters, digits, '-', dots; IDNs as written) or an IP literal; no scheme, port, path or wildcard.
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)*[^\W_](?:[\w-]{0,61}[^\W_])?$")


def check_domain(value: str) -> str:
    """An allowed_domains entry: the crawl fence (crawler/offsite.py) allows it and its subdomains, so an empty
    string, '*' or a URL would silently allow nothing or everything."""
    import ipaddress

    hint = "write a bare host name such as 'example.com' (it allows its subdomains too)"
    if not value.strip():
        raise ValueError(f"allowed_domains entry is empty; {hint}")
    try:
        ipaddress.ip_address(value.strip("[]"))
        return value
    except ValueError:
        pass
    if not _DOMAIN.match(value):
        raise ValueError(f"allowed_domains entry {value!r} is not a host name; {hint}")
    return value


Selector = Annotated[str, AfterValidator(_check_selector)]
Cron = Annotated[str, AfterValidator(check_cron)]
TimeZone = Annotated[str, AfterValidator(_check_timezone)]

