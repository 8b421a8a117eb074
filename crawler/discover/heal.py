"""Healing: when a listing's block is gone (a redesign renamed its classes), find the block whose items are the
ones the listing held before, and name it so the crawler finds it again. Pure; the caller supplies what the
listing held (URLs and titles from the store) and decides what to do with the answer.

Never a wrong block: a candidate must be mostly made of known items, with several of them, and clearly ahead
of the runner-up; otherwise the answer is None and the "block not found" warning stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from parsel import Selector

from crawler.discover.candidates import find_candidates
from crawler.discover.naming import heading_that_finds, stable_selector
from crawler.extract import ListingEntry
from crawler.urls import canonical_url
from feedsvc.config import ListingConfig
from feedsvc.text import normalize_space

# Why these values: a listing shows its newest items, most of which it showed on the last crawl (a "latest"
# list of 10 gains a few per day), so a healed block is mostly known items. A neighbouring box that shares a
# few items (a ranking next to the latest list) stays well under MIN_SHARE.
MIN_SHARE = 0.6  # share of the candidate's items the listing held before
MIN_KNOWN = 3  # at least this many of them (two shared items prove little)
MIN_MARGIN = 0.25  # the best candidate's share ahead of the runner-up's
MIN_COVERAGE_MARGIN = 0.5  # or: of the items held, this share more shown by the best than by the runner-up


@dataclass(frozen=True)
class Healing:
    field: str  # "block" (a stable selector) or "heading"
    value: str
    share: float  # of the block's items known from before
    entries: list[ListingEntry]

    def describe(self) -> str:
        return f"{self.field} now `{self.value}`"


def _norm_url(url: str) -> str:
    # Canonical, and without a trailing slash: a redesign often drops or adds one on the same article.
    try:
        url = canonical_url(url)
    except ValueError:
        return url
    return url[:-1] if url.endswith("/") and url.count("/") > 3 else url


def heal_listing(page: Selector, url: str, held: Iterable[tuple[str, str]]) -> Healing | None:
    """The block now holding the items `held` ((url, title) pairs the listing showed before), when confident."""
    urls, titles = set(), set()
    for item_url, title in held:
        urls.add(_norm_url(item_url))
        if title:
            titles.add(normalize_space(title).casefold())
    if not urls:
        return None
    scored = []
    for cand in find_candidates(page, url, strict=False):
        known = sum(1 for e in cand.entries if _norm_url(e.url) in urls or e.title.casefold() in titles)
        scored.append((known / len(cand.entries), known, cand))
    scored.sort(key=lambda s: (s[0], s[1]), reverse=True)
    if not scored:
        return None
    share, known, best = scored[0]
    runner_up, runner_known = (scored[1][0], scored[1][1]) if len(scored) > 1 else (0.0, 0)
    # Clearly ahead: by share, or, when a small box (a ranking) also holds only known items, by how much of what
    # the listing held it shows (40 of 40 against 7 of 40).
    ahead = share - runner_up >= MIN_MARGIN or (known - runner_known) / len(urls) >= MIN_COVERAGE_MARGIN
    if share < MIN_SHARE or known < MIN_KNOWN or not ahead:
        return None
    selector = stable_selector(page, best.element, best.entries, url)
    if selector:
        return Healing("block", selector, share, best.entries)
    heading = heading_that_finds(page, best.element, best.entries, url)
    if heading:
        return Healing("heading", heading, share, best.entries)
    return None


def healed_config(page: Selector, listing: ListingConfig, url: str, held: Iterable[tuple[str, str]]
                  ) -> tuple[ListingConfig, Healing] | None:
    """The listing pointed at its healed block (for this run), with the healing; None when not confident."""
    healing = heal_listing(page, url, held)
    if healing is None:
        return None
    other = "heading" if healing.field == "block" else "block"
    return listing.model_copy(update={healing.field: healing.value, other: None, "item": None}), healing
