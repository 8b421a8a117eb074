"""Quality of `feedsvc suggest` and listing healing on the layout corpus (tests/data/suggest/*/truth.json).

Usage:
    python bench/suggest_quality.py [--corpus DIR] [--labels FILE]

The layout corpus (tests/data/suggest) is reported beside the real saved pages in DIR (default
$FEEDSVC_SUGGEST_CORPUS or /work/corpus/suggest: the files bench/data/suggest_manifest.json names, each saved
under its `file` name from its public repository at the commit given), labelled by hand in
bench/data/suggest_labels.json (see bench/suggest_real.py).

Per layout: listings found vs real, items right (title, URL and date all right) when each suggested listing is
extracted the way the crawler extracts it, against the baseline `item = "li"` (the fixed default before item
detection) on the same suggested blocks; navigation or other non-listing blocks wrongly suggested; lists a
script fills that the suggestion flagged; and healing after class names are renamed (the listing configured by
its class selector, the page redesigned): healed right, flagged (left alone), healed WRONG. Finally every
listing's items are offered to the menus-only page, where healing must find nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parsel import Selector  # noqa: E402

from crawler.blocks import find_block  # noqa: E402
from crawler.dates import parse_date  # noqa: E402
from crawler.discover.heal import heal_listing  # noqa: E402
from crawler.discover.naming import stable_selector  # noqa: E402
from crawler.discover.suggest import Suggestion, script_filled, suggest_listings  # noqa: E402
from crawler.encoding import decoded_selector  # noqa: E402
from crawler.extract import ListingEntry, extract_listing  # noqa: E402
from feedsvc.config import ListingConfig  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from suggest_real import LABELS, evaluate_real, report  # noqa: E402

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "suggest"
BASE = "http://site.test"
NOW = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)


@dataclass
class LayoutResult:
    name: str
    real: int = 0
    found: int = 0
    items: int = 0
    right: int = 0
    baseline_right: int = 0
    wrong_blocks: list[str] = field(default_factory=list)
    script_real: int = 0
    script_flagged: int = 0
    healed: int = 0
    flagged: int = 0
    healed_wrong: int = 0
    still_found: int = 0


def load(path: Path) -> Selector:
    return decoded_selector(path.read_bytes(), None, BASE + "/")


def config_of(sug: Suggestion, item: str | None = None) -> ListingConfig:
    return ListingConfig(id=sug.id, kind=sug.kind, heading=sug.heading, block=sug.block, item=item)


def items_right(entries: list[ListingEntry] | None, truth: list[list[str | None]], tz: ZoneInfo) -> int:
    by_url = {e.url: e for e in entries or []}
    right = 0
    for url, title, day in truth:
        entry = by_url.get(BASE + str(url))
        if entry is None or entry.title != title:
            continue
        parsed = parse_date(entry.date_text, NOW, tz) if entry.date_text else None
        shown = parsed.astimezone(tz).date().isoformat() if parsed else None
        right += int(shown == day)
    return right


def evaluate(layout: Path) -> LayoutResult:
    truth = json.loads((layout / "truth.json").read_text(encoding="utf-8"))
    tz = ZoneInfo(truth["timezone"])
    page = load(layout / truth["page"])
    result = LayoutResult(layout.name, real=len(truth["listings"]), script_real=len(truth.get("script_filled", [])))
    suggestions = suggest_listings(page, BASE + "/", NOW, tz)
    empty = script_filled(page, BASE + "/", {s.id for s in suggestions}, {s.heading for s in suggestions})
    matched: set[str] = set()
    for listing in truth["listings"]:
        want = {BASE + str(u) for u, _, _ in listing["items"]}
        result.items += len(want)
        best = max(suggestions, key=lambda s: len(want & {e.url for e in s.entries}), default=None)
        if best is None or len(want & {e.url for e in best.entries}) < len(want) / 2:
            continue
        matched.add(best.id)
        result.found += 1
        result.right += items_right(extract_listing(page, config_of(best), BASE + "/"), listing["items"], tz)
        result.baseline_right += items_right(extract_listing(page, config_of(best, "li"), BASE + "/"), listing["items"], tz)
        if "renamed" in truth:
            _heal(result, page, load(layout / truth["renamed"]), best, listing["items"])
    for sug in suggestions:
        if sug.id not in matched:
            result.wrong_blocks.append(sug.heading or sug.block or sug.id)
    for box in empty:  # noted as empty, never written: right when the page's script fills it
        if box.heading in truth.get("script_filled", []):
            result.script_flagged += 1
        else:
            result.wrong_blocks.append(f"empty: {box.heading}")
    return result


def _heal(result: LayoutResult, page: Selector, renamed: Selector, sug: Suggestion, truth: list[list[str | None]]) -> None:
    """Configure the listing by its class selector (what breaks in a redesign), then crawl the renamed page."""
    block = find_block(page, sug.block, sug.heading, None)
    selector = stable_selector(page, block.root, sug.entries, BASE + "/") if block is not None else None
    if selector is None:
        result.flagged += 1
        return
    config = ListingConfig(id=sug.id, kind=sug.kind, block=selector)
    want = [BASE + str(u) for u, _, _ in truth]
    found = extract_listing(renamed, config, BASE + "/")
    if found is not None:  # the selector still matches something: it must still be the right block
        result.still_found += int([e.url for e in found] == want)
        result.healed_wrong += int([e.url for e in found] != want)
        return
    healing = heal_listing(renamed, BASE + "/", [(BASE + str(u), str(t)) for u, t, _ in truth])
    if healing is None:
        result.flagged += 1
        return
    healed = ListingConfig(id=sug.id, kind=sug.kind, **{healing.field: healing.value})
    entries = extract_listing(renamed, healed, BASE + "/") or []
    if [e.url for e in entries] == want:
        result.healed += 1
    else:
        result.healed_wrong += 1


def decoy_heals(layouts: list[Path]) -> tuple[int, int]:
    """(listings offered, healed anyway) when every listing's items are offered to the menus-only page."""
    menus = load(CORPUS / "menus_tags" / "index.html")
    offered = wrong = 0
    for layout in layouts:
        truth = json.loads((layout / "truth.json").read_text(encoding="utf-8"))
        for listing in truth["listings"]:
            offered += 1
            wrong += int(heal_listing(menus, BASE + "/", [(BASE + str(u), str(t)) for u, t, _ in listing["items"]]) is not None)
    return offered, wrong


def run(layouts: list[Path]) -> list[LayoutResult]:
    return [evaluate(layout) for layout in layouts]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("FEEDSVC_SUGGEST_CORPUS", "/work/corpus/suggest")))
    parser.add_argument("--labels", type=Path, default=LABELS)
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"error: real-page corpus {args.corpus} is missing: fetch the pages bench/data/suggest_manifest.json "
              "names (repo, path, commit; saved under its `file` name) or pass --corpus DIR", file=sys.stderr)
        return 2
    layouts = sorted(p for p in CORPUS.iterdir() if (p / "truth.json").exists())
    results = run(layouts)
    print(f"{'layout':16} {'listings':>9} {'items right':>12} {'li baseline':>12} {'wrong blocks':>13} "
          f"{'script':>7} {'healed':>7} {'flagged':>8} {'WRONG':>6}")
    for r in results:
        pct = 100 * r.right / r.items if r.items else 100.0
        base = 100 * r.baseline_right / r.items if r.items else 100.0
        print(f"{r.name:16} {r.found:>4}/{r.real:<4} {r.right:>4}/{r.items:<3}{pct:4.0f}% {base:>11.0f}% "
              f"{len(r.wrong_blocks):>13} {r.script_flagged:>3}/{r.script_real:<3} {r.healed:>7} {r.flagged:>8} "
              f"{r.healed_wrong:>6}" + (f"   wrong: {r.wrong_blocks}" if r.wrong_blocks else ""))
    total = sum(r.items for r in results)
    right = sum(r.right for r in results)
    base = sum(r.baseline_right for r in results)
    offered, decoys = decoy_heals(layouts)
    print(f"\nall: items right {right}/{total} ({100 * right / total:.1f}%) vs li baseline {100 * base / total:.1f}% "
          f"(ratio {right / max(base, 1):.2f}x); listings found {sum(r.found for r in results)}/"
          f"{sum(r.real for r in results)}; wrong blocks {sum(len(r.wrong_blocks) for r in results)}; "
          f"healed {sum(r.healed for r in results)}, flagged {sum(r.flagged for r in results)}, "
          f"healed wrongly {sum(r.healed_wrong for r in results)}; decoy heals {decoys}/{offered}")
    print(report(evaluate_real(args.corpus, args.labels)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
