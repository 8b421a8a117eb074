"""Real saved pages for bench/suggest_quality.py: hand-made labels (bench/data/suggest_labels.json) against what
`suggest` proposes and the crawler then extracts. The pages are not in git (bench/data/suggest_manifest.json names
each one's public repository, path, commit and sha256)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from parsel import Selector

from crawler.blocks import find_block
from crawler.dates import parse_date
from crawler.discover.fetch import guess_timezone
from crawler.discover.heal import heal_listing
from crawler.discover.naming import stable_selector
from crawler.discover.suggest import Suggestion, suggest_listings
from crawler.encoding import decoded_selector
from crawler.extract import ListingEntry, extract_listing
from crawler.urls import canonical_url
from feedsvc.config import ListingConfig

LABELS = Path(__file__).resolve().parent / "data" / "suggest_labels.json"
# The labelled pages were saved between 2010 and 2020: "now" only decides relative dates (3 hours ago), which are
# compared as read by both sides, so one fixed instant serves every page.
NOW = datetime(2020, 7, 4, 12, 0, tzinfo=UTC)


@dataclass
class RealResult:
    pages: int = 0
    lists: int = 0
    found: int = 0
    items: int = 0
    right: int = 0
    false_listings: int = 0
    rankings: int = 0  # undated rankings of the site's articles: proposed by design, not labelled (dated lists only)
    itemless: int = 0
    seconds: float = 0.0
    missed: list[str] = field(default_factory=list)
    heal_items: int = 0  # items of listings configured by class/id, after every class and id is renamed
    heal_back: int = 0
    heal_wrong: int = 0


def _url(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


def _title(text: str) -> str:
    return re.sub(r"\W+", "", text).casefold().rstrip(".…")


def _day(text: str | None, tz: ZoneInfo) -> str | None:
    parsed = parse_date(text, NOW, tz) if text else None
    if parsed is None:
        return None
    # A machine date with its own offset (`2021-01-07T22:09:10-04:00`) names its day in that offset, as the page
    # shows it; the zone guessed for the page would move a late evening to the next day.
    offset = re.search(r"T\d\d:\d\d(?::\d\d(?:\.\d+)?)?([+-]\d\d:?\d\d)$", text or "")
    if offset:
        return datetime.fromisoformat(str(text)).date().isoformat()
    return parsed.astimezone(tz).date().isoformat()


def _same_title(got: str, shown: str) -> bool:
    """Equal, or `shown` cut short on the page (`关于新增…混...`) and `got` the full title (from the link's title)."""
    if _title(got) == _title(shown):
        return True
    return shown.rstrip().endswith(("...", "…", "..")) and _title(got).startswith(_title(shown)) and len(_title(shown)) >= 8


def _right(entry: ListingEntry | None, want: dict[str, str | None], tz: ZoneInfo) -> bool:
    if entry is None or not _same_title(entry.title, str(want["title"])):
        return False
    # `day` (ISO) where the shown date is ambiguous (`14 JAN 20`: day, month, two-digit year): the label says which
    # reading is right, so a misreading on both sides does not count as right.
    return _day(entry.date_value or entry.date_text, tz) == (want.get("day") or _day(want["date"], tz))


def evaluate_real(corpus: Path, labels_path: Path = LABELS) -> RealResult:
    pages = json.loads(labels_path.read_text(encoding="utf-8"))["pages"]
    result = RealResult(missed=[])
    for page_label in pages:
        path = corpus / page_label["file"]
        if not path.exists():
            continue
        url = page_label["url"]
        started = time.perf_counter()
        page = decoded_selector(path.read_bytes(), None, url)
        tz = ZoneInfo(guess_timezone(page))
        suggestions = suggest_listings(page, url, NOW, tz)
        result.seconds += time.perf_counter() - started
        result.pages += 1
        result.itemless += sum(1 for s in suggestions if not s.entries)
        matched: set[str] = set()
        for listing in page_label["lists"]:
            result.lists += 1
            result.items += len(listing["items"])
            want = {_url(i["link"]): i for i in listing["items"]}
            best = max(suggestions, key=lambda s: len(want.keys() & {_url(e.url) for e in s.entries}), default=None)
            if best is None or len(want.keys() & {_url(e.url) for e in best.entries}) < len(want) / 2:
                result.missed.append(f"{page_label['file']}: {listing['heading']}")
                continue
            matched.add(best.id)
            result.found += 1
            config = ListingConfig(id=best.id, kind=best.kind, heading=best.heading, block=best.block)
            got = {_url(e.url): e for e in extract_listing(page, config, url) or []}
            result.right += sum(1 for link, item in want.items() if _right(got.get(link), item, tz))
            _heal(result, page, path, best, want, url)
        for sug in suggestions:
            if sug.id in matched or not sug.entries:
                continue
            undated = sum(1 for e in sug.entries if e.date_text) < len(sug.entries) / 2
            if sug.kind == "ranking" and undated:
                result.rankings += 1
            else:
                result.false_listings += 1
    return result


_CLASS = re.compile(rb"""(\s(?:class|id)\s*=\s*)(["'])(.*?)\2""", re.I | re.S)


def _rename(match: re.Match[bytes]) -> bytes:
    return match.group(1) + match.group(2) + b" ".join(b"r9" + w for w in match.group(3).split()) + match.group(2)


def _heal(result: RealResult, page: Selector, path: Path, sug: Suggestion, want: dict[str, dict[str, str | None]],
          url: str) -> None:
    """A redesign renames every class and id: the listing, configured by its stable selector, must be healed to
    the block holding what it held before, with none of another block's items."""
    block = find_block(page, sug.block, sug.heading, None)
    selector = stable_selector(page, block.root, sug.entries, url) if block is not None else None
    if selector is None:
        return
    renamed = decoded_selector(_CLASS.sub(_rename, path.read_bytes()), None, url)
    result.heal_items += len(want)
    if extract_listing(renamed, ListingConfig(id=sug.id, block=selector), url) is not None:
        return  # the selector still finds a block: nothing to heal (counted as not back)
    healing = heal_listing(renamed, url, [(link, str(item["title"])) for link, item in want.items()])
    if healing is None:
        return
    entries = extract_listing(renamed, ListingConfig(id=sug.id, **{healing.field: healing.value}), url) or []
    got = {_url(e.url) for e in entries}
    result.heal_back += len(got & want.keys())
    result.heal_wrong += len(got - want.keys())


def report(result: RealResult) -> str:
    per10 = 10 * result.false_listings / max(result.pages, 1)
    ms = 1000 * result.seconds / max(result.pages, 1)
    lines = [f"real pages: {result.pages} pages; dated lists found {result.found}/{result.lists} "
             f"({100 * result.found / max(result.lists, 1):.0f}%); items right {result.right}/{result.items} "
             f"({100 * result.right / max(result.items, 1):.1f}%); false listings {result.false_listings} "
             f"({per10:.1f} per 10 pages); itemless listings {result.itemless}; {ms:.0f} ms per page; "
             f"undated rankings (not labelled) {result.rankings}",
             f"real pages healed after every class and id is renamed: {result.heal_back}/{result.heal_items} items "
             f"back, {result.heal_wrong} wrong"]
    lines += [f"  missed: {m}" for m in result.missed or []]
    return "\n".join(lines)
