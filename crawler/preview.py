"""`--preview`: fetch a source's start page (or --url) live through Scrapy, robots.txt obeyed, and print what each
listing extracts and how one article page reads. Writes nothing: no database, no HTTP cache.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from feedsvc.config import AppConfig, SourceConfig
from feedsvc.models import ErrorKind
from feedsvc.store.items import ItemRecord
from feedsvc.text import safe_text as t


def run_preview(cfg: AppConfig, source: SourceConfig, url: str | None, now: datetime, verbose: int = 0) -> int:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from crawler.pipelines import RecordGroup
    from crawler.settings import scrapy_settings
    from crawler.spiders.listing import ArticleListSpider

    settings = scrapy_settings(cfg, source)
    settings.update(
        HTTPCACHE_ENABLED=False,
        ITEM_PIPELINES={"crawler.pipelines.ValidateArticle": 100, "crawler.pipelines.NormalizeArticle": 200},
        FEEDSVC_NOW=now.isoformat(),
        LOG_LEVEL=("ERROR", "INFO", "DEBUG")[min(verbose, 2)],
    )
    records: list[ItemRecord] = []
    dropped: list[str] = []
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ArticleListSpider)

    def on_item(item: Any) -> None:
        if isinstance(item, RecordGroup):
            records.extend(item.records)
        elif isinstance(item, ItemRecord):
            records.append(item)

    def on_dropped(item: Any, exception: BaseException) -> None:
        dropped.append(str(exception))

    crawler.signals.connect(on_item, signal=signals.item_scraped)
    crawler.signals.connect(on_dropped, signal=signals.item_dropped)
    # Start page + one article; pagination is not followed (the first page shows whether selectors work).
    process.crawl(crawler, source=source, follow_articles=url is None, max_pages=2, max_articles=1,
                  inspect_url=url, follow_pagination=False)
    process.start()
    spider = crawler.spider
    assert isinstance(spider, ArticleListSpider)
    console = Console()
    if not console.is_terminal:  # piped or captured: do not fold URLs and titles at 80 columns
        console = Console(width=160)
    render(console, source, url or source.start_urls[0], records, dropped, spider)
    return 0 if spider.report.pages else 1


def _local(value: datetime | None, source: SourceConfig) -> str:
    return value.astimezone(source.zone).strftime("%Y-%m-%d %H:%M %z") if value else "-"


def render(console: Console, source: SourceConfig, page_url: str, records: list[ItemRecord], dropped: list[str],
           spider: Any) -> None:
    report = spider.report
    for error in report.errors:
        if error.kind == ErrorKind.EMPTY:
            continue  # said, with why, in that listing's table title below
        console.print(f"[red]problem[/red] ({error.kind}) {t(error.message)}")
    for blocked in report.robots_blocked:
        console.print(f"[yellow]robots.txt forbids[/yellow] {t(blocked)}")
    if not report.pages:
        console.print(f"[red]nothing fetched from {t(page_url)}[/red]")
        return
    by_listing: dict[str, list[ItemRecord]] = defaultdict(list)
    for rec in records:
        if rec.listing_id:
            by_listing[rec.listing_id].append(rec)
    missing = getattr(spider, "_missing", {})
    for listing in source.listings:
        rows = by_listing.get(listing.id, [])
        where = "article page" if listing.kind == "related" else "listing page"
        title = f"{listing.id} ({listing.kind}, {where}): {len(rows)} entries"
        if listing.id in missing:
            title += " [red]- block not found: check heading/block[/red]"
        elif not rows and listing.id in getattr(spider, "_empty", {}):
            title += f" [yellow]- block found, no entries: {t(spider._empty[listing.id][1])}[/yellow]"
        elif not rows and listing.id in report.listing_counts:
            title += " [yellow]- block found, no entries[/yellow]"
        elif listing.id not in report.listing_counts:
            title += " [dim]- not checked on this page[/dim]"
        table = Table(title=title, title_justify="left", show_lines=False)
        for column in ("rank", "date text", "parsed date", "title", "canonical URL"):
            table.add_column(column, overflow="fold")
        for rec in rows:
            table.add_row(str(rec.rank or ""), t(rec.date_text or ""), _local(rec.published, source),
                          t(rec.title or ""), t(rec.url))
        console.print(table)
    for article in (r for r in records if r.is_article):
        table = Table(title=f"article: {t(article.url)}", title_justify="left", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        table.add_row("title", t(article.title or "-"))
        table.add_row("date", f"{t(article.date_text or '-')} → {_local(article.published, source)}")
        table.add_row("summary", t((article.summary or "-")[:300]))
        table.add_row("content", f"{len(article.content or '')} characters of cleaned HTML")
        console.print(table)
    for reason in dropped:
        console.print(f"[dim]skipped: {t(reason)}[/dim]")
    console.print("[green]preview only: nothing was written[/green]")
