"""`python -m crawler.run --suggest URL`: fetch a page politely through Scrapy (robots.txt, the configured
User-Agent and delay, no cache, nothing stored), render it once in Chromium when a headed box is empty in its HTML
(through the crawl's fence, as a crawl would), open one listed article, and print the suggested `[[sources]]`.

The one Scrapy part of discovery; everything it decides is in the pure modules beside it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from parsel import Selector

from crawler.discover.proposal import render_source, source_id_for
from crawler.discover.suggest import (
    Suggestion,
    rendered_fills,
    script_filled,
    suggest_listings,
    suggest_related,
)
from feedsvc.config import INSTALL_HINT, AppConfig, ListingConfig, SourceConfig

# Time zone guessed from the page's language; the printed block says to check it.
_ZONES = {"zh": "Asia/Shanghai", "ja": "Asia/Tokyo", "ko": "Asia/Seoul", "ru": "Europe/Moscow", "de": "Europe/Berlin",
          "fr": "Europe/Paris"}


def guess_timezone(page: Selector) -> str:
    lang = (page.xpath("/html/@lang").get() or "").lower()[:2]
    if not lang and re.search(r"[\u4e00-\u9fff]", page.xpath("string(//title)").get() or ""):
        lang = "zh"
    return _ZONES.get(lang, "UTC")


class SuggestState:
    """What the suggest spider learned; filled on the reactor thread, read after the crawl."""

    def __init__(self) -> None:
        self.title = ""
        self.timezone = "UTC"
        self.listings: list[Suggestion] = []
        self.empty: list[Suggestion] = []  # headed lists empty in the HTML and not shown dated when rendered
        self.empty_why = ""  # why those are not proposed
        self.rendered = False  # a listing was proposed from the page as Chromium rendered it
        self.related: Suggestion | None = None
        self.problems: list[str] = []
        self.fetched = False


def run_suggest(cfg: AppConfig, url: str, source_id: str | None, title: str | None, now: datetime,
                verbose: int = 0) -> int:
    """Print the suggested `[[sources]]` block; 0 when a listing was found, 1 when none (reason on stderr)."""
    from scrapy.crawler import CrawlerProcess

    from crawler.settings import scrapy_settings

    sid = source_id or source_id_for(url)
    # A configured source for this page that its admin set to render = "never" is not rendered here either.
    never = next((s for s in cfg.sources if s.render == "never" and (s.id == source_id or url in s.start_urls)), None)
    source = SourceConfig(id=sid, title=title or sid, start_urls=[url], listings=[ListingConfig(id="probe", block="body")],
                          render="never" if never else "auto")
    settings = scrapy_settings(cfg, source)
    settings.update(HTTPCACHE_ENABLED=False, ITEM_PIPELINES={}, LOG_LEVEL=("ERROR", "INFO", "DEBUG")[min(verbose, 2)])
    state = SuggestState()
    # The source's render = "auto" gave the settings the browser's handler when this machine can render.
    missing = None if settings.get("FEEDSVC_BROWSER") else str(settings.get("FEEDSVC_BROWSER_MISSING") or INSTALL_HINT)
    if never is not None:
        state.empty_why = (f"source {never.id!r} has render = \"never\", so the page is not rendered to see whether a "
                           f"script fills it with dated items (render = \"auto\" would)")
    elif missing:
        state.empty_why = (f"rendering would be needed to see whether a script fills it with dated items, and this "
                           f"machine cannot render pages: {missing}")
    process = CrawlerProcess(settings)
    process.crawl(_spider_class(), url=url, now=now, state=state, browser=never is None and missing is None)
    process.start()
    for problem in state.problems:
        print(f"problem: {problem}", file=sys.stderr)
    if not state.fetched:
        print(f"error: could not fetch {url}", file=sys.stderr)
        return 1
    for box in state.empty:
        print(f"note: {box.heading!r} is empty in the page's HTML and the page runs scripts; it is not proposed: "
              f"{state.empty_why}", file=sys.stderr)
    if not state.listings:
        print(f"error: no dated listing found on {url} (menus, tag clouds and undated link lists are ignored); "
              "write the [[sources.listings]] by hand, see config.example.toml", file=sys.stderr)
        return 1
    sys.stdout.write(render_source(url, sid, title or state.title or sid, state.timezone, state.listings, state.related,
                                   render="auto" if state.rendered else None))
    return 0


def _spider_class() -> type[Any]:
    from scrapy import Request, Spider
    from scrapy.http import Response, TextResponse
    from twisted.python.failure import Failure

    from crawler.browser import browser_meta
    from crawler.encoding import decoded_selector

    class SuggestSpider(Spider):
        name = "suggest"

        def __init__(self, url: str, now: datetime, state: SuggestState, browser: bool, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.url, self.now, self.state, self.browser = url, now, state, browser

        async def start(self) -> Any:
            yield Request(self.url, callback=self.parse, errback=self.failed)

        def _selector(self, response: Response) -> Selector | None:
            if not isinstance(response, TextResponse):
                self.state.problems.append(f"{response.url} is not an HTML page")
                return None
            ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
            return decoded_selector(response.body, ctype, response.url)

        def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
            page = self._selector(response)
            if page is None:
                return
            state = self.state
            state.fetched = True
            state.title = " ".join((page.xpath("string(//title)").get() or "").split())[:80]
            state.timezone = guess_timezone(page)
            state.listings = suggest_listings(page, response.url, self.now, ZoneInfo(state.timezone))
            taken = {s.id for s in state.listings}
            state.empty = script_filled(page, response.url, taken, {s.heading for s in state.listings if s.heading})
            if state.empty and self.browser:
                # Once, like the crawl's render = "auto": the browser fetch goes through the same fence and robots.txt.
                yield Request(response.url, callback=self.parse_rendered, errback=self.render_failed,
                              meta=browser_meta(), dont_filter=True)
            else:
                yield from self.open_article()

        def parse_rendered(self, response: Response) -> Iterator[Any]:
            state = self.state
            page = self._selector(response)
            if page is not None:
                taken = {s.id for s in state.listings} | {b.id for b in state.empty}
                rendered = suggest_listings(page, response.url, self.now, ZoneInfo(state.timezone), set(taken))
                filled = rendered_fills(rendered, state.empty)
                state.listings.extend(filled)
                state.rendered = bool(filled)
                state.empty = [b for b in state.empty if b.id not in {f.id for f in filled}]
            state.empty_why = "rendered in Chromium, it still shows no dated items"
            yield from self.open_article()

        def render_failed(self, failure: Failure) -> Iterator[Any]:
            self.failed(failure)
            self.state.empty_why = "rendering the page in Chromium failed (see the problem above)"
            yield from self.open_article()

        def open_article(self) -> Iterator[Any]:
            first = next((e for s in self.state.listings for e in s.entries), None)
            if first is not None:  # one article shows the site's "related" block, if it has one
                yield Request(first.url, callback=self.parse_article, errback=self.failed)

        def parse_article(self, response: Response) -> None:
            page = self._selector(response)
            if page is not None:
                self.state.related = suggest_related(page, response.url, {s.id for s in self.state.listings})

        def failed(self, failure: Failure) -> None:
            request = getattr(failure, "request", None)
            self.state.problems.append(f"{getattr(request, 'url', '?')}: {failure.value.__class__.__name__}: "
                                       f"{failure.value}")

    return SuggestSpider


def run_heal(cfg: AppConfig, source: SourceConfig, now: datetime, verbose: int = 0) -> int:
    """Fetch the source's start pages with what each listing held before (from the store); print one JSON line
    per listing healed: {"listing", "field", "value", "share"}. 0 when one was healed, 1 when none."""
    import json

    from scrapy.crawler import CrawlerProcess

    from crawler.settings import scrapy_settings
    from crawler.spiders.listing import ArticleListSpider
    from feedsvc.store import Store
    from feedsvc.store.listing_pages import listing_memory

    with Store.for_config(cfg) as store, store.session() as session:
        held = listing_memory(session, source.id)
    settings = scrapy_settings(cfg, source)
    settings.update(HTTPCACHE_ENABLED=False, ITEM_PIPELINES={}, FEEDSVC_NOW=now.isoformat(),
                    LOG_LEVEL=("ERROR", "INFO", "DEBUG")[min(verbose, 2)])
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ArticleListSpider)
    process.crawl(crawler, source=source, follow_articles=False, follow_pagination=False,
                  max_pages=len(source.start_urls), held=held)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, ArticleListSpider)
    for listing_id, (_config, healing) in spider.healed.items():
        print(json.dumps({"listing": listing_id, "field": healing.field, "value": healing.value,
                          "share": round(healing.share, 2)}, ensure_ascii=False))
    return 0 if spider.healed else 1
