"""ArticleListSpider: crawls one source's dated listings, driven only by its SourceConfig.

parse() and parse_article() only extract and yield items (crawler/items.py) or Requests; cleaning, dedupe
and storage are the pipelines' job. Problems (HTTP errors, timeouts, non-HTML, a listing block not found)
are collected in `self.report` and announced with the `crawl_error` signal, never raised.

A listing page whose block is empty (or missing where the list belongs) while the page has scripts is
fetched again once through Chromium (crawler/browser.py) when the source's `render` is "auto"; with
"browser" every listing page is. A block not found is a problem only on a page where the listing lives
(its `pages` patterns, or a page it was found on in an earlier run) or when it is found nowhere in the run.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector
from scrapy import Request, Spider
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as net_error
from twisted.python.failure import Failure

from crawler.blocks import MAX_PAGE_ELEMENTS, trim_dense
from crawler.browser import browser_meta
from crawler.encoding import decoded_selector
from crawler.extract import ListingEntry, empty_reason, extract_article, extract_listing, pagination_pages
from crawler.items import ArticleItem, ListingSighting
from crawler.middlewares import crawl_error, page_crawled
from crawler.stop import CrawlStopped
from crawler.urls import canonical_url, matches_pages, same_site
from feedsvc.config import INSTALL_HINT, ListingConfig, SourceConfig
from feedsvc.models import ErrorKind

HTML_TYPES = ("text/html", "application/xhtml+xml", "application/xml", "text/xml")


@dataclass
class CrawlError:
    kind: ErrorKind
    url: str | None
    message: str


@dataclass
class CrawlReport:
    pages: int = 0
    not_modified: int = 0
    listing_counts: dict[str, int] = field(default_factory=dict)
    errors: list[CrawlError] = field(default_factory=list)
    robots_blocked: list[str] = field(default_factory=list)
    budget_exhausted: bool = False
    # listing id → listing pages (not article pages) it was found on in this run; kept for the next run
    found_pages: dict[str, set[str]] = field(default_factory=dict)
    rendered: int = 0  # pages fetched through the browser


class ArticleListSpider(Spider):
    name = "article_list"

    def __init__(self, source: SourceConfig, *, follow_articles: bool = True, max_pages: int = 200,
                 max_articles: int | None = None, inspect_url: str | None = None,
                 follow_pagination: bool = True, known_pages: dict[str, set[str]] | None = None,
                 browser: bool = False, held: dict[str, list[tuple[str, str]]] | None = None,
                 max_items_per_listing: int = 500, download_timeout: float = 30.0,
                 browser_missing: str = INSTALL_HINT, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Not `self.download_timeout`: Scrapy would read that spider attribute as a setting (deprecated, warned).
        self.max_items_per_listing, self.timeout_seconds = max_items_per_listing, download_timeout
        self.browser_missing = browser_missing
        self.source = source
        self.follow_articles = follow_articles
        self.budget = max_pages
        self.max_articles = max_articles
        self.follow_pagination = follow_pagination
        self.inspect_url = inspect_url
        self.start_urls = [inspect_url] if inspect_url else list(source.start_urls)
        hosts = {urlsplit(u).hostname or "" for u in [*source.start_urls, *self.start_urls]}
        self.allowed_domains = list(source.allowed_domains or sorted(h for h in hosts if h))
        self.article_re = re.compile(source.article_links) if source.article_links else None
        self.page_listings = [lst for lst in source.listings if lst.kind != "related"]
        self.related_listings = [lst for lst in source.listings if lst.kind == "related"]
        self.related_headings = tuple(lst.heading for lst in self.related_listings if lst.heading)
        self.report = CrawlReport()
        counted = self.page_listings + (self.related_listings if follow_articles or inspect_url else [])
        self.report.listing_counts = {lst.id: 0 for lst in counted}
        # listing id → (page URL, whether the listing belongs there) for each page it was not found on
        self._missing: dict[str, list[tuple[str, bool]]] = defaultdict(list)
        self.known_pages = known_pages or {}
        self._browser = browser
        self._warned_browser: set[str] = set()
        self._checked: dict[str, int] = defaultdict(int)
        # listing id → (page URL, why, scripts may fill it) for the first page where its block gave no entries
        self._empty: dict[str, tuple[str, str, bool]] = {}
        self._scheduled: set[str] = set()
        # listing id → page number → URL of numbered pages seen ahead of the pagination chain, not requested yet
        self._ahead: dict[str, dict[int, str]] = {}
        self._articles = 0
        self.held = held or {}  # listing id → (url, title) it showed before: healing looks for them
        # Meta every request of this source carries: in a Crawler shared by many sources (crawler/shared.py),
        # the source it belongs to.
        self.request_tag: dict[str, Any] = {}
        self.healed: dict[str, tuple[ListingConfig, Any]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Any:
        """The one place the spider reads settings (as NormalizeArticle does); the constructor takes values."""
        settings = crawler.settings
        kwargs.setdefault("browser", settings.getbool("FEEDSVC_BROWSER"))
        kwargs.setdefault("max_items_per_listing", settings.getint("FEEDSVC_MAX_ITEMS_PER_LISTING", 500))
        kwargs.setdefault("download_timeout", settings.getfloat("DOWNLOAD_TIMEOUT"))
        kwargs.setdefault("browser_missing", str(settings.get("FEEDSVC_BROWSER_MISSING") or INSTALL_HINT))
        return super().from_crawler(crawler, *args, **kwargs)

    # -- requests ------------------------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        for request in self.first_requests():
            yield request

    def first_requests(self) -> list[Request]:
        """The start URLs' requests (a spider sharing its Crawler with other sources schedules them itself)."""
        requests = []
        for url in self.start_urls:
            callback = self.parse_inspect if self.inspect_url else self.parse
            meta = self._render_meta(url, "*") if self.source.render == "browser" else None
            request = self._request(url, callback, meta)
            if request is not None:
                requests.append(request)
        return requests

    def _request(self, url: str, callback: Any, meta: dict[str, Any] | None = None) -> Request | None:
        """A request charged to the max_pages budget; None when already scheduled or the budget is spent."""
        key = f"browser:{url}" if meta and meta.get("render") else url
        if key in self._scheduled:
            return None
        if self.budget <= 0:
            self.report.budget_exhausted = True
            return None
        # dont_filter: we dedupe in _scheduled already; Scrapy's filter would also swallow a redirect back to a
        # URL already seen, hiding redirect loops that should be reported. Where a request may go is checked by
        # crawler/offsite.py, which does not look at dont_filter.
        try:
            request = Request(url, callback=callback, errback=self.on_error, meta={**(meta or {}), **self.request_tag},
                              dont_filter=True)
        except ValueError as exc:  # a malformed link (bad port, broken IPv6 literal): skip it, the page goes on
            self.logger.warning("malformed link skipped source=%s url=%r: %s", self.source.id, url, exc)
            return None
        self.budget -= 1
        self._scheduled.add(key)
        return request

    def _article_request(self, url: str, title: str | None) -> Request | None:
        if self.max_articles is not None and self._articles >= self.max_articles:
            return None
        if self.article_re is not None and not self.article_re.search(url):
            return None
        try:
            url = canonical_url(url, self.source.drop_query_params, self.source.drop_tracking_params)
        except ValueError:  # malformed: crawler/offsite.py drops and counts its sighting
            return None
        request = self._request(url, self.parse_article, {"article_url": url, "listing_title": title})
        if request is not None:
            self._articles += 1
        return request

    # -- callbacks -----------------------------------------------------------------------------------------------
    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """A listing page (a start URL, or a pagination page of meta['listing'])."""
        page = self._page(response)
        if page is None:
            return
        only = response.meta.get("listing")
        listings = self.page_listings if only is None else [lst for lst in self.page_listings if lst.id == only]
        listings = [lst for lst in listings if lst.pages is None or matches_pages(response.url, lst.pages)]
        rendered_for = response.meta.get("rendered_for")
        if rendered_for is not None and rendered_for != "*":
            listings = [lst for lst in listings if lst.id in rendered_for]
        found = {lst.id: self._find(page, lst, response.url) for lst in listings}
        if rendered_for is None:
            again = self._render_again(response, page, listings, found)
            if again is not None:
                yield again
                listings = [lst for lst in listings if lst.id not in again.meta["rendered_for"]]
        else:
            self.report.rendered += 1
        offset: int | None = response.meta.get("rank_offset", 0)
        # A start URL is page 1 of each listing on it; a pagination page knows its number when its link said so.
        current: int | None = 1 if only is None else response.meta.get("page_number")
        to_follow: list[tuple[str, str | None]] = []
        pages: list[Request] = []
        for listing in listings:
            entries = self._count(listing, found[listing.id], response.url, self._belongs(listing, response))
            for entry in entries:
                rank = entry.rank + offset if entry.rank is not None and offset is not None else None
                yield ListingSighting(self.source.id, listing.id, listing.kind, entry.url, entry.title,
                                      entry.date_text, rank, response.url, date_value=entry.date_value)
                to_follow.append((entry.url, entry.title))
            if listing.pagination and self.follow_pagination:
                pages.extend(self._pagination(page, listing, response.url, offset, len(entries), current))
        # Listing pages are charged to the max_pages budget before articles, so they are never starved.
        yield from pages
        if self.follow_articles:
            for url, title in to_follow:
                request = self._article_request(url, title)
                if request is not None:
                    yield request

    def _pagination(self, page: Selector, listing: ListingConfig, url: str, offset: int | None, count: int,
                    current: int | None) -> Iterator[Request]:
        """Requests for the listing's other pages; the next page's entries continue this page's ranks.

        With numbered links (`1 2 3 … 下一页`) only the next page is requested from here, with rank offset
        offset + count; pages further ahead are remembered and reached through the chain (each page knows
        its own count only once parsed, and pages need not hold the same number of entries). If a page of
        the chain fails, on_error requests the one after it, without ranks. Links whose order is unknown
        (several unlabelled links, or a page of unknown number) are all requested, without ranks.
        """
        assert listing.pagination is not None
        found = pagination_pages(page, listing.pagination, url, current)
        here = found.current
        targets: list[tuple[str, int | None, int | None]] = []  # (url, rank offset, page number)
        if here is not None:
            ahead = self._ahead.setdefault(listing.id, {})
            for target, number in found.links:
                if number is not None and number > here + 1:
                    ahead.setdefault(number, target)
            following = next((t for t, n in found.links if n == here + 1), None) or ahead.get(here + 1)
            if following is not None:
                targets.append((following, offset + count if offset is not None else None, here + 1))
            targets += [(t, None, n) for t, n in found.links if n is None or n <= here]
        else:
            lone = len(found.links) == 1
            targets = [(t, offset + count if lone and offset is not None else None, None) for t, _ in found.links]
        for target, next_offset, number in targets:
            meta = {"listing": listing.id, "rank_offset": next_offset, "page_number": number}
            if self.source.render == "browser":
                meta.update(self._render_meta(target, "*") or {})
            req = self._request(target, self.parse, meta)
            if req is not None:
                yield req

    def parse_article(self, response: Response) -> Iterator[Any]:
        page = self._page(response)
        if page is None:
            return
        url = self._canonical(page, response)
        linked = response.meta.get("article_url") or response.url
        self._scheduled.add(url)  # a listing linking the canonical URL later needs no second fetch
        content = extract_article(page, self.source.article, response.url, exclude_headings=self.related_headings)
        related = [
            ListingSighting(self.source.id, listing.id, listing.kind, entry.url, entry.title, entry.date_text,
                            entry.rank, response.url, related_from=url, date_value=entry.date_value)
            for listing in self.related_listings
            for entry in self._extract(page, listing, response.url)
        ]
        aliases = [alias for alias in dict.fromkeys((linked, response.url)) if alias != url]
        yield ArticleItem(self.source.id, url, content.title, content.date_text, content.summary,
                          content.content_html, listing_title=response.meta.get("listing_title"), related=related,
                          aliases=aliases)

    def _canonical(self, page: Selector, response: Response) -> str:
        """The item's URL: the page's declared canonical when it is on the same site, else the URL after redirects."""
        declared = page.xpath("//head/link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href").get()
        drop, tracking = self.source.drop_query_params, self.source.drop_tracking_params
        if declared and declared.strip():
            try:
                target = canonical_url(response.urljoin(declared.strip()), drop, tracking)
            except ValueError:
                target = None
            if target is not None and same_site(target, response.url):
                return target
        return canonical_url(response.url, drop, tracking)

    def parse_inspect(self, response: Response) -> Iterator[Any]:
        """Preview of one given URL: every listing on it (related ones too) and its article extraction."""
        page = self._page(response)
        if page is None:
            return
        for listing in self.source.listings:
            for entry in self._extract(page, listing, response.url):
                yield ListingSighting(self.source.id, listing.id, listing.kind, entry.url, entry.title,
                                      entry.date_text, entry.rank, response.url, date_value=entry.date_value)
        content = extract_article(page, self.source.article, response.url, exclude_headings=self.related_headings)
        yield ArticleItem(self.source.id, response.url, content.title, content.date_text, content.summary,
                          content.content_html)

    # -- helpers -------------------------------------------------------------------------------------------------
    def _find(self, page: Selector, listing: ListingConfig, url: str) -> list[ListingEntry] | None:
        """The listing's entries on this page, None when its block is not there. A block gone since an earlier
        crawl (a redesign renamed it) is looked for by what the listing held before: healing."""
        listing = self.healed[listing.id][0] if listing.id in self.healed else listing
        entries = extract_listing(page, listing, url, self.max_items_per_listing)
        if entries is None and self.held.get(listing.id):
            # Imported here: only a redesign leads here, and most crawls never load the healing code.
            from crawler.discover.heal import healed_config

            healed = healed_config(page, listing, url, self.held[listing.id])
            if healed is not None:
                self.healed[listing.id] = healed
                self._error(ErrorKind.HEALED, url, f"listing '{listing.id}' healed: {healed[1].describe()}; "
                            f"`feedsvc heal {self.source.id}` writes it into the config")
                entries = extract_listing(page, healed[0], url, self.max_items_per_listing)
        if entries == [] and listing.id not in self._empty:
            self._empty[listing.id] = (url, *empty_reason(page, listing))
        return entries

    def _extract(self, page: Selector, listing: ListingConfig, url: str) -> list[ListingEntry]:
        """A related (article page) listing: it belongs on no particular page, so only "found nowhere" counts."""
        return self._count(listing, self._find(page, listing, url), url, belongs=False)

    def _count(self, listing: ListingConfig, entries: list[ListingEntry] | None, url: str,
               belongs: bool) -> list[ListingEntry]:
        self._checked[listing.id] += 1
        if entries is None:
            self._missing[listing.id].append((url, belongs))
            entries = []
        else:
            cap = self.max_items_per_listing
            if len(entries) > cap:
                self._error(ErrorKind.LIMIT, url, f"listing '{listing.id}' has more than {cap} entries on {url}; kept the "
                            f"first {cap} (max_items_per_listing)")
                entries = entries[:cap]
            if listing.kind != "related":
                self.report.found_pages.setdefault(listing.id, set()).add(url)
        self.report.listing_counts[listing.id] = self.report.listing_counts.get(listing.id, 0) + len(entries)
        return entries

    def _belongs(self, listing: ListingConfig, response: Response) -> bool:
        """Is this page one the listing lives on: its `pages` match, it is that listing's own pagination page,
        or the listing was found here in an earlier run?"""
        return (listing.pages is not None or response.meta.get("listing") == listing.id
                or response.url in self.known_pages.get(listing.id, ()))

    # -- rendering -----------------------------------------------------------------------------------------------
    @property
    def browser_available(self) -> bool:
        return self._browser

    def _render_again(self, response: Response, page: Selector, listings: list[ListingConfig],
                      found: dict[str, list[ListingEntry] | None]) -> Request | None:
        """render = "auto": the browser request for listings whose block is empty, or missing on a page where
        the listing belongs (or the start page), when the page has scripts that could fill it."""
        if self.source.render != "auto":
            return None
        start = response.url in self.start_urls or response.request is not None and response.request.url in self.start_urls
        wanted = [lst.id for lst in listings
                  if found[lst.id] == [] or (found[lst.id] is None and (start or self._belongs(lst, response)))]
        if not wanted or not page.xpath("//script"):
            return None
        meta = self._render_meta(response.url, wanted)
        if meta is None:
            return None
        meta.update({k: v for k, v in response.meta.items() if k in ("listing", "rank_offset", "page_number")})
        return self._request(response.url, self.parse, meta)

    def _browser_fix(self) -> str:
        return self.browser_missing

    def _render_meta(self, url: str, listing_ids: list[str] | str) -> dict[str, Any] | None:
        """Meta for a browser fetch of `url`, or None (after one warning per listing) when there is no browser."""
        if self.browser_available:
            return {**browser_meta(), "rendered_for": listing_ids}
        names = [lst.id for lst in self.page_listings] if listing_ids == "*" else list(listing_ids)
        for name in names:
            if name not in self._warned_browser:
                self._warned_browser.add(name)
                # Info, not a warning: when the listing ends up empty, the run records one problem naming the fix.
                self.logger.info(
                    "listing '%s' of source %s on %s looks filled by script (its block is empty or missing in the "
                    "HTML) and no browser is available to render it: %s",
                    name, self.source.id, url, self._browser_fix())
        return None

    def _page(self, response: Response) -> Selector | None:
        """The page as a Selector (decoded by our rules), or None after recording why it is not HTML."""
        ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
        if not isinstance(response, TextResponse) or (ctype and not ctype.lower().startswith(HTML_TYPES)):
            self._error(ErrorKind.CONTENT, response.url, f"not an HTML page (Content-Type: {ctype or 'none'}); skipped")
            return None
        cached = "cached" in response.flags
        self.report.pages += 1
        self.report.not_modified += int(cached)
        self._signal(page_crawled, url=response.url, status=response.status, cached=cached)
        page = decoded_selector(response.body, ctype, response.url)
        total = trim_dense(page)
        if total is not None:  # a 20 MB listing must not stall the sources sharing this crawl process
            self._error(ErrorKind.LIMIT, response.url, f"page too dense: {total} elements; examined the first "
                        f"{MAX_PAGE_ELEMENTS}")
        return page

    def _error(self, kind: ErrorKind, url: str | None, message: str) -> None:
        self.report.errors.append(CrawlError(kind, url, message))
        self.logger.warning("crawl problem source=%s url=%s: %s", self.source.id, url, message)
        self._signal(crawl_error, kind=kind, url=url, message=message)

    def _signal(self, signal: object, **kwargs: Any) -> None:
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            crawler.signals.send_catch_log(signal=signal, **kwargs)

    def on_error(self, failure: Failure) -> list[Request]:
        """Record the failure; when it broke a listing's pagination chain, request the page after it."""
        if isinstance(failure.value, CrawlStopped):  # dropped by a stop signal: the run ends aborted, the next run fetches it
            return []
        request = getattr(failure, "request", None)
        url = request.url if request is not None else None
        resume = self._resume_chain(request.meta) if request is not None else None
        kind, message = describe_failure(failure, url, self.timeout_seconds)
        if kind == ErrorKind.ROBOTS:
            self.report.robots_blocked.append(url or "")
            self.logger.info("skipped (robots.txt) url=%s", url)
        elif kind != ErrorKind.OFFSITE:
            self._error(kind, url, message)
        return [resume] if resume is not None else []

    def _resume_chain(self, meta: dict[str, Any]) -> Request | None:
        listing, number = meta.get("listing"), meta.get("page_number")
        if not listing or number is None:
            return None
        following = self._ahead.get(listing, {}).get(number + 1)
        if following is None:
            return None
        return self._request(following, self.parse, {"listing": listing, "rank_offset": None, "page_number": number + 1})

    def closed(self, reason: str) -> None:
        hint = f"check its heading/block selector with `feedsvc preview {self.source.id}`"

        def unrendered(listing_id: str) -> str:
            """Why rendering did not help: said where the listing's problem is shown (status, front page)."""
            if listing_id not in self._warned_browser:
                return ""
            return f"; it needs a browser to render the page and none is available: {self._browser_fix()}"

        for listing_id, (url, why, scripted) in self._empty.items():
            # A block that never gave an entry all crawl is a broken config as surely as a missing block. Except
            # one that scripts fill on a source whose admin chose render = "never": taken as served, on purpose.
            if scripted and self.source.render == "never":
                continue
            if self.report.listing_counts.get(listing_id, 0) == 0:
                self._error(ErrorKind.EMPTY, url, f"listing '{listing_id}' found no items on {url}: {why}"
                            f"{unrendered(listing_id)}; check it with `feedsvc preview {self.source.id}`")
        for listing_id, missing in self._missing.items():
            checked = self._checked[listing_id]
            if len(missing) == checked:
                self._error(ErrorKind.SELECTOR, missing[0][0], f"listing '{listing_id}': block not found on any of "
                            f"the {checked} page(s) looked at, e.g. {missing[0][0]}{unrendered(listing_id)}; {hint}")
                continue
            expected = [url for url, belongs in missing if belongs]
            if expected:
                self._error(ErrorKind.SELECTOR, expected[0],
                            f"listing '{listing_id}': block not found on {len(expected)} of {checked} page(s) where "
                            f"it belongs (its `pages`, or found there before), e.g. {expected[0]}"
                            f"{unrendered(listing_id)}; {hint}")


def describe_failure(failure: Failure, url: str | None, timeout: float) -> tuple[ErrorKind, str]:
    """(kind, one readable line) for a failed request."""
    exc = failure.value
    host = urlsplit(url or "").netloc or "?"
    if isinstance(exc, HttpError):
        response = exc.response
        return ErrorKind.HTTP, f"HTTP {response.status} from {response.url}"
    if isinstance(exc, (net_error.DNSLookupError, CannotResolveHostError)):
        return ErrorKind.DNS, f"DNS lookup failed for {host}: check the URL in start_urls or the network"
    if isinstance(exc, (net_error.ConnectionRefusedError, DownloadConnectionRefusedError)):
        return ErrorKind.CONNECTION, f"connection refused by {host}: is the site up?"
    if isinstance(exc, (net_error.TimeoutError, net_error.TCPTimedOutError, DownloadTimeoutError)):
        return ErrorKind.TIMEOUT, f"no response from {host} within {timeout:g}s (crawl.timeout)"
    if isinstance(exc, IgnoreRequest):
        text = str(exc)
        if "robots.txt" in text:
            return ErrorKind.ROBOTS, text
        if "redirect" in text.lower():
            return ErrorKind.REDIRECT, f"redirect loop or too many redirects at {url}"
        if "offsite" in text.lower():
            return ErrorKind.OFFSITE, text
        return ErrorKind.FETCH, f"request ignored: {text}"
    name = exc.__class__.__name__
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return ErrorKind.CONNECTION if "Connection" in name or "ResponseNever" in name else ErrorKind.FETCH, \
        f"{name} fetching {url}{': ' + detail if detail else ''}"
