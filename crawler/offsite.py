"""The source fence: every request of a crawl stays on its source's hosts and away from internal addresses.

A source's hosts are those of its start URLs' sites (registrable domains: news.example.com allows
war.example.com; `exact_hosts = true` narrows to the start URLs' own hosts) plus its `allowed_domains` (each with its
subdomains). Everything a crawl fetches passes `FenceMiddleware.process_request` — listing, pagination and article pages, robots.txt, and
the targets of 3xx redirects and meta refreshes, which Scrapy re-sends through the downloader middlewares — so a
site's owner cannot point the crawler anywhere else. Addresses in loopback, private, link-local, multicast and
reserved ranges are refused unless a start URL of the source is in that same range (so a site on the LAN or a
test fixture on 127.0.0.1 still works); the check is made on the address the host resolves to, through the same
caching resolver the download then uses. `FenceSpiderMiddleware` drops offsite and malformed links from what the
spider yields, so they are neither stored nor requested. Both count what they skip on the crawl's stats
(`feedsvc/offsite_skipped`, `feedsvc/malformed_links`), which crawler/run.py puts in the run's message.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse

from crawler.items import ArticleItem, ListingSighting
from crawler.urls import canonical_url, site_of, split_url

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str], Awaitable[str]]
# robots.txt beyond this is ignored as absent (Google reads 500 KiB of it); a 39 MB one must not cost 39 MB.
ROBOTS_MAX_BYTES = 512 * 1024
OFFSITE_STAT = "feedsvc/offsite_skipped"
OFFSITE_EXAMPLE_STAT = "feedsvc/offsite_example"
MALFORMED_STAT = "feedsvc/malformed_links"
MALFORMED_EXAMPLE_STAT = "feedsvc/malformed_example"


def address_range(ip: IPAddress) -> str | None:
    """The non-public range `ip` is in ("loopback", "private", ...), or None for a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:169.254.169.254 is the metadata address too
    # Order matters: loopback and link-local addresses are also `is_private`.
    for name, hit in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                      ("multicast", ip.is_multicast), ("unspecified", ip.is_unspecified),
                      ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if hit:
            return name
    return None


def _ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class SourceFence:
    """Which URLs and addresses one source may fetch. Pure; resolving is the middleware's job."""

    def __init__(self, start_urls: Iterable[str], allowed_domains: Iterable[str] = (), exact_hosts: bool = False) -> None:
        self.start_hosts = frozenset(h for h in (_host(u) for u in start_urls) if h)
        self.domains = frozenset(d.lower().strip(".") for d in allowed_domains if d.strip("."))
        # One site, many host names (money. and news.example.com): a start URL's registrable domain, unless the
        # source narrows it to exact hosts. An address is only ever itself.
        self.sites = frozenset() if exact_hosts else frozenset(
            site_of(h) for h in self.start_hosts if _ip(h) is None and "." in h)

    def host_allowed(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if host in self.start_hosts or host in self.domains:
            return True
        if _ip(host) is None and site_of(host) in self.sites:
            return True
        # A domain allows its subdomains, but an IP literal is only ever itself (10.0.0.1 is no "subdomain" of 0.1).
        return _ip(host) is None and any(host.endswith("." + d) for d in self.domains if _ip(d) is None)

    def url_refusal(self, url: str) -> str | None:
        """Why `url` may not be fetched (by its text alone), or None."""
        try:
            parts = split_url(url)  # the parse storage uses, so what is checked is what is stored
            host = parts.hostname
        except ValueError:
            return f"malformed URL {url[:200]!r}"
        if parts.scheme not in ("http", "https"):
            return f"{parts.scheme or 'no'} scheme"
        if not host:
            return "no host"
        if not self.host_allowed(host):
            return f"{host} is not one of the source's hosts ({', '.join(sorted(self.start_hosts | self.domains | self.sites))})"
        return None

    @staticmethod
    def address_refusal(host: str, address: str, start_ranges: frozenset[str]) -> str | None:
        """Why connecting to `address` (what `host` resolved to) is refused, or None.

        `start_ranges` are the ranges the source's own start URLs resolve to: those are allowed.
        """
        ip = _ip(address)
        if ip is None:
            return None  # not an address (a resolver that returned a name): the connection resolves it again
        kind = address_range(ip)
        if kind is None or kind in start_ranges:
            return None
        shown = host if host == address else f"{host} ({address})"
        return f"{shown} is a {kind} address and the source's start URLs are not"


def _host(url: str) -> str | None:
    try:
        host = split_url(url).hostname
    except ValueError:
        return None
    return host.lower().rstrip(".") if host else None


@dataclass
class FenceLedger:
    """What the fence skipped during one crawl (shared by both middlewares); mirrored into the crawl stats."""

    crawler: Crawler
    offsite: set[str] = field(default_factory=set)
    malformed: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, crawler: Crawler) -> FenceLedger:
        ledger = getattr(crawler, "_feedsvc_fence_ledger", None)
        if ledger is None:
            ledger = cls(crawler)
            setattr(crawler, "_feedsvc_fence_ledger", ledger)  # noqa: B010  (one ledger per crawler)
        return ledger

    def skip_offsite(self, url: str, reason: str) -> None:
        if url in self.offsite:
            return
        self.offsite.add(url)
        log.info("offsite link skipped url=%s: %s", url, reason)
        self._stats(OFFSITE_STAT, OFFSITE_EXAMPLE_STAT, len(self.offsite), f"{url} ({reason})")

    def skip_malformed(self, url: str, reason: str) -> None:
        if url in self.malformed:
            return
        self.malformed.add(url)
        log.warning("malformed link skipped url=%r: %s", url[:200], reason)
        shown = url if len(url) <= 200 else f"{url[:200]}… ({len(url)} characters)"  # an over-long one, shortened
        self._stats(MALFORMED_STAT, MALFORMED_EXAMPLE_STAT, len(self.malformed), repr(shown))

    def _stats(self, key: str, example_key: str, count: int, example: str) -> None:
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value(key, count)
            if count == 1:
                stats.set_value(example_key, example)


def _fence_of(crawler: Crawler) -> SourceFence:
    """The crawl's fence: FEEDSVC_START_URLS / FEEDSVC_ALLOWED_DOMAINS (crawler/settings.py) plus the spider's
    own start URLs (`feedsvc preview --url` inspects a page the admin names)."""
    fence = getattr(crawler, "_feedsvc_fence", None)
    if fence is None:
        settings = crawler.settings
        starts = [*settings.getlist("FEEDSVC_START_URLS"), *(getattr(crawler.spider, "start_urls", None) or [])]
        fence = SourceFence(starts, settings.getlist("FEEDSVC_ALLOWED_DOMAINS"), settings.getbool("FEEDSVC_EXACT_HOSTS"))
        setattr(crawler, "_feedsvc_fence", fence)  # noqa: B010
    return fence


async def _reactor_resolve(host: str) -> str:
    """`host` → an address, through the reactor's resolver: Scrapy's caching one, which the connection reuses,
    so the address checked is the address connected to."""
    from scrapy.utils.defer import deferred_to_future
    from twisted.internet import reactor

    resolver: Any = reactor
    return str(await deferred_to_future(resolver.resolve(host)))


def _is_robots(request: Request) -> bool:
    return bool(request.meta.get("dont_obey_robotstxt")) and urlsplit(request.url).path == "/robots.txt"


class FenceMiddleware:
    """Downloader middleware (first on the engine side): refuses requests off the source's hosts or onto internal
    addresses before anything is fetched, robots.txt included; caps robots.txt and turns its failures into one
    warning."""

    def __init__(self, crawler: Crawler, resolve: Resolve | None = None) -> None:
        self.crawler = crawler
        self.resolve = resolve or _reactor_resolve
        self._addresses: dict[str, str | None] = {}  # host → resolved address (None: did not resolve)
        self._start_ranges: frozenset[str] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FenceMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        fence = _fence_of(self.crawler)
        reason = fence.url_refusal(request.url)
        if reason is None:
            reason = await self._address_refusal(fence, split_url(request.url).hostname or "")
        if reason is not None:
            FenceLedger.of(self.crawler).skip_offsite(request.url, reason)
            raise IgnoreRequest(f"offsite: {request.url}: {reason}")
        if _is_robots(request):
            request.meta.setdefault("download_maxsize", ROBOTS_MAX_BYTES)

    def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Response | None:
        if not _is_robots(request) or isinstance(exception, IgnoreRequest):
            return None
        # Scrapy would log a traceback and then crawl as if there were no robots.txt; say so in one line instead.
        detail = str(exception).strip().splitlines()[0][:200] if str(exception).strip() else ""
        log.warning("robots.txt unusable url=%s (%s%s); crawling as if it were absent", request.url,
                    exception.__class__.__name__, f": {detail}" if detail else "")
        return TextResponse(request.url, status=404, body=b"", encoding="utf-8", request=request)

    async def _address_refusal(self, fence: SourceFence, host: str) -> str | None:
        start_ranges = await self._ranges_of_start_hosts(fence)
        address = await self._address(host)
        if address is None:
            return None  # does not resolve: the download fails with a DNS error, reported as such
        return fence.address_refusal(host, address, start_ranges)

    async def _ranges_of_start_hosts(self, fence: SourceFence) -> frozenset[str]:
        if self._start_ranges is None:
            ranges: set[str] = set()
            for host in fence.start_hosts:
                address = await self._address(host)
                ip = _ip(address) if address else None
                kind = address_range(ip) if ip is not None else None
                if kind is not None:
                    ranges.add(kind)
            self._start_ranges = frozenset(ranges)
        return self._start_ranges

    async def _address(self, host: str) -> str | None:
        if _ip(host) is not None:
            return host.strip("[]")
        if host not in self._addresses:
            try:
                self._addresses[host] = await self.resolve(host)
            except Exception:  # DNS failure: left to the download, which reports it with the page's URL
                self._addresses[host] = None
        return self._addresses[host]


class FenceSpiderMiddleware:
    """Spider middleware: drops offsite and malformed links (sightings and requests) from what the spider yields,
    so a listing entry pointing elsewhere is neither stored nor requested, and one bad link spoils nothing."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        # URL → verdict: related blocks repeat the same links on every article page.
        self._verdicts: dict[str, bool] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FenceSpiderMiddleware:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        for obj in result:
            kept = self._filter(obj)
            if kept is not None:
                yield kept

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        async for obj in result:
            kept = self._filter(obj)
            if kept is not None:
                yield kept

    def _filter(self, obj: Any) -> Any:
        if isinstance(obj, ListingSighting):
            return obj if self._link_ok(obj.url) else None
        if isinstance(obj, ArticleItem):
            obj.related = [s for s in obj.related if self._link_ok(s.url)]
            return obj
        if isinstance(obj, Request):
            return obj if self._link_ok(obj.url) else None
        return obj

    def _link_ok(self, url: str) -> bool:
        verdict = self._verdicts.get(url)
        if verdict is None:
            if len(self._verdicts) > 100_000:
                self._verdicts.clear()
            verdict = self._verdicts[url] = self._check(url)
        return verdict

    def _check(self, url: str) -> bool:
        ledger = FenceLedger.of(self.crawler)
        try:
            canonical = canonical_url(url)
        except ValueError as exc:
            ledger.skip_malformed(url, str(exc))
            return False
        # Judged (and counted) in the form that would be stored: a sighting and its request are one link.
        reason = _fence_of(self.crawler).url_refusal(canonical)
        if reason is not None:
            ledger.skip_offsite(canonical, reason)
            return False
        return True


class SafeMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's meta refresh, except that a refresh it cannot turn into a request (`javascript:…`, a broken URL)
    leaves the page as it is instead of failing it. Where a refresh may lead is FenceMiddleware's call."""

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        try:
            return super().process_response(request, response)
        except ValueError as exc:
            log.info("meta refresh ignored url=%s: %s", response.url, exc)
            return response
