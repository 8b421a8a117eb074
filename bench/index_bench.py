"""Front page benchmark: time to render `/` with many sources and a large database, against building a feed of
the same data in the same run.

Usage:
    python bench/index_bench.py                                   # 1,000 sources, 1,000,000 items (SQLite)
    python bench/index_bench.py --sources 60 --items 3000 --repeat 1   # the smoke run tests/ use

Steps: (1) generate a SQLite database with bulk inserts: N items spread over the sources, each source with a
'ranking' listing (10 ranks re-ordered every run) and a 'latest' listing (20 items a run, every item entered it
once), 30 crawl runs per source (every 13th failed) with their appearances, 5 computed related links for each
item the page shows; (2) render the front page (page 1: 20 sources in full, health of all 1,000) and the last
page, median of --repeat renders, each in a fresh session; (3) baseline: build /feeds/new.atom (50 entries,
inline related) with the FeedBuilder, median of --repeat. Prints each time, the page size and the ratio to the
baseline. Target: page 1 renders in under 1 s at 1,000 sources and 1M items.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedsvc.config import AppConfig, parse_config  # noqa: E402
from feedsvc.feeds import front_page  # noqa: E402
from feedsvc.feeds.builder import FeedBuilder  # noqa: E402
from feedsvc.feeds.spec import (
    FeedFilter,  # noqa: E402
    FeedSpec,  # noqa: E402
)
from feedsvc.store import Store  # noqa: E402

START = datetime(2025, 1, 1, tzinfo=UTC)
RUNS = 30
RANKED = 10
LATEST_PER_RUN = 20


def config_raw(url: str, n_sources: int) -> dict[str, Any]:
    return {
        "database": {"url": url},
        "server": {"base_url": "http://feeds.bench"},
        "sources": [
            {"id": f"s{n:04d}", "title": f"来源 {n} 公文网", "start_urls": [f"http://s{n}.bench/"],
             "timezone": "Asia/Shanghai",
             "listings": [{"id": "ranking", "kind": "ranking", "heading": "阅读排行"},
                          {"id": "latest", "heading": "最新文稿"}]}
            for n in range(n_sources)
        ],
    }


def _ts(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")


def _run_start(r: int) -> datetime:
    return START + timedelta(hours=r)


def generate(db: Path, cfg: AppConfig, n_items: int) -> None:
    """Bulk-load the database (schema from Store.open, rows with sqlite3 executemany)."""
    from feedsvc.store.sources import sync_sources

    with Store.for_config(cfg) as store, store.transaction() as session:
        sync_sources(session, cfg.sources, START)
    ids = [s.id for s in cfg.sources]
    per_source = max(RANKED + LATEST_PER_RUN, n_items // len(ids))
    started = time.perf_counter()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    cur = conn.cursor()
    next_item = 1
    run_id = 1
    for s, sid in enumerate(ids):
        first = next_item
        next_item += per_source
        items, listing, appear, runs = _source_rows(sid, s, first, per_source, run_id)
        run_id += RUNS
        cur.executemany("INSERT INTO items (id, source_id, url, title, published, date_text, date_source, summary,"
                        " first_seen, last_seen, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", items)
        cur.executemany("INSERT INTO listing_items (source_id, listing_id, item_id, kind, rank, rank_changed_at,"
                        " first_seen, last_seen, last_run_id) VALUES (?,?,?,?,?,?,?,?,?)", listing)
        cur.executemany("INSERT INTO appearances (run_id, source_id, listing_id, item_id, rank, seen_at)"
                        " VALUES (?,?,?,?,?,?)", appear)
        cur.executemany("INSERT INTO crawl_runs (id, source_id, started_at, finished_at, status, trigger, pages,"
                        " not_modified, items_seen, items_new, errors, listing_counts) VALUES"
                        " (?,?,?,?,?,?,?,?,?,?,?,?)", runs)
        shown = [first + k for k in range(RANKED + 2)] + [first + per_source - 1 - k for k in range(LATEST_PER_RUN)]
        cur.executemany("INSERT OR IGNORE INTO related_links (from_item_id, to_item_id, origin, score, rank,"
                        " updated_at) VALUES (?,?,?,?,?,?)",
                        [(i, first + (i - first + d) % per_source, "computed", 1.0 / d, d, _ts(START))
                         for i in shown for d in range(1, 6)])
        if s % 50 == 0:
            print(f"  sources {s:,}/{len(ids):,}, items {next_item - 1:,}", end="\r", flush=True)
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    print(f"  generated {len(ids):,} sources, {next_item - 1:,} items, {run_id - 1:,} runs in "
          f"{time.perf_counter() - started:.1f} s" + " " * 10)


def _source_rows(sid: str, s: int, first: int, count: int, run0: int) -> tuple[list[Any], ...]:
    items, listing, appear, runs = [], [], [], []
    span = timedelta(hours=RUNS)
    for k in range(count):
        seen = START + span * k / count
        published = seen - timedelta(hours=3)
        items.append((first + k, sid, f"http://{sid}.bench/docs/{first + k}.html",
                      f"第{first + k}号 关于做好年度工作的通知 notice {k}", _ts(published),
                      published.strftime("%m-%d"), "listing", f"摘要 {k}", _ts(seen), _ts(seen), _ts(seen)))
    last_latest: dict[int, int] = {}
    for r in range(RUNS):
        rid, at = run0 + r, _run_start(r)
        failed = (r + s) % 13 == 12
        if not failed:
            # The ranking: the first RANKED + 2 items, rotated a step every run.
            for rank in range(1, RANKED + 1):
                item = first + (rank - 1 + r) % (RANKED + 2)
                appear.append((rid, sid, "ranking", item, rank, _ts(at)))
            lo = max(0, min(count - LATEST_PER_RUN, (count * (r + 1)) // RUNS - LATEST_PER_RUN))
            for pos, k in enumerate(range(lo + LATEST_PER_RUN - 1, lo - 1, -1), 1):
                appear.append((rid, sid, "latest", first + k, pos, _ts(at)))
                last_latest[first + k] = rid
        counts = "{}" if failed else f'{{"ranking": {RANKED}, "latest": {LATEST_PER_RUN}}}'
        runs.append((rid, sid, _ts(at), _ts(at + timedelta(seconds=20)), "failed" if failed else "ok", "schedule",
                     0 if failed else 3, 0, 0 if failed else RANKED + LATEST_PER_RUN,
                     0 if failed else LATEST_PER_RUN // 2, 1 if failed else 0, counts))
    for k in range(count):
        item = first + k
        seen = _ts(START + span * k / count)
        listing.append((sid, "latest", item, "latest", None, None, seen, seen, last_latest.get(item)))
    for k in range(RANKED + 2):
        listing.append((sid, "ranking", first + k, "ranking", k + 1, _ts(START), _ts(START), _ts(START), run0))
    return items, listing, appear, runs


def median_ms(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def measure(cfg: AppConfig, repeat: int) -> dict[str, tuple[float, int, int]]:
    store = Store.for_config(cfg)
    factory = store.session_factory
    builder = FeedBuilder(cfg, factory)

    def page(n: int) -> Callable[[], bytes]:
        def render() -> bytes:
            with factory() as session:
                return front_page.render_index(builder, session, n)
        return render

    out: dict[str, tuple[float, int, int]] = {}
    last = (len(cfg.sources) + front_page.SOURCES_PER_PAGE - 1) // front_page.SOURCES_PER_PAGE
    builder.build(FeedSpec("new"), "atom", FeedFilter())  # warm caches and imports for both alike
    page(1)()
    ms, body = median_ms(lambda: builder.build(FeedSpec("new"), "atom", FeedFilter()).body, repeat)
    out["feed /feeds/new.atom (baseline)"] = (ms, len(body), len(gzip.compress(body)))
    ms, body = median_ms(page(1), repeat)
    out["front page, page 1"] = (ms, len(body), len(gzip.compress(body)))
    ms, body = median_ms(page(last), repeat)
    out[f"front page, page {last}"] = (ms, len(body), len(gzip.compress(body)))
    store.close()
    return out


def report(results: dict[str, tuple[float, int, int]], sources: int, items: int) -> None:
    base = results["feed /feeds/new.atom (baseline)"][0]
    print(f"\n{sources:,} sources, {items:,} items (SQLite)")
    print(f"{'document':34} {'size KB':>9} {'gzip KB':>8} {'median ms':>10} {'x baseline':>11}")
    for name, (ms, size, packed) in results.items():
        print(f"{name:34} {size / 1024:9.1f} {packed / 1024:8.1f} {ms:10.1f} {ms / base:11.1f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", help="keep the database here (reused when present)")
    args = parser.parse_args(argv)
    work = Path(args.workdir) if args.workdir else Path(tempfile.mkdtemp(prefix="index-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / f"index-{args.sources}-{args.items}.db"
    cfg = parse_config(config_raw(f"sqlite:///{db}", args.sources))
    try:
        if not db.exists():
            generate(db, cfg, args.items)
        report(measure(cfg, args.repeat), args.sources, args.items)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
