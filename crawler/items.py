"""What ArticleListSpider yields: raw, uncleaned extraction results. Cleaning happens in crawler/pipelines.py."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class ListingSighting:
    """One entry of one listing block, as found on `page_url` (URLs absolute but not yet canonical).

    `related_from` is the URL of the article page whose "related" block listed this entry.
    """

    source_id: str
    listing_id: str
    kind: str
    url: str
    title: str | None
    date_text: str | None
    rank: int | None
    page_url: str
    related_from: str | None = None
    date_value: str | None = None  # machine-readable date (ISO 8601 or Unix time), preferred to date_text


@dataclass(slots=True)
class ArticleItem:
    """An article page. `url` is its canonical URL: the page's declared <link rel=canonical> on the same site,
    else the URL after redirects. `aliases` are the other URLs that reached it (the link the listing gave)."""

    source_id: str
    url: str
    title: str | None
    date_text: str | None
    summary: str | None
    content_html: str | None
    listing_title: str | None = None  # the title the listing gave it; used when the page has none
    # The page's "related" blocks (related_from = url). Carried on the article rather than yielded one by one:
    # an article and its links are stored together, and Scrapy's per-item overhead is paid once per page.
    related: list[ListingSighting] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
