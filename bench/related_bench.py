"""Relatedness benchmark: full rebuild time and peak memory, and the time to relate a crawl's new items.

Usage:
    python bench/related_bench.py --items 100000              # the documented figures
    python bench/related_bench.py --items 20000 --crawls 3    # a quick look
    python bench/related_bench.py --items 1000000 --rebuild-only   # the 1,000,000-item rebuild alone

A synthetic corpus (bench/related_corpus.py: mixed Chinese and English, realistic lengths, ~1% reposts) is
generated once and handed to fresh child processes, so each peak-memory figure is that measurement's own.
Engine child (one run):
  baseline   tokenising every item (what any content-based method must pay at least), and one item alone
  rebuild    feedsvc.related.scoring.compute_related over every item: index + all neighbours + near-duplicates,
             the whole of `feedsvc related --rebuild` except database reads and writes; with its phases
  peak RSS   the child's maximum resident memory, and how much of it the corpus itself takes
  quality    precision@5 against the synthetic topics, and repost (near-duplicate) recall
Store child: the corpus stored in a SQLite file through store_items; DB child (another process, so its peak
memory is the rebuild's own): `rebuild_related` (what `feedsvc related --rebuild` runs).
Crawl children, the path production runs after every crawl (crawler/run.py): new items stored, then
`refresh_related` in one transaction and its commit, each crawl in a fresh process (time, peak RSS growth):
  one item   `--crawls` crawls of 1 new item each into the corpus (p50 and max), against tokenising one item
  20 items   a crawl of 20 new items into the corpus (time per new item)
Small-DB child: a crawl of 2,000 new items into a database holding 300, stored as a crawl run stores them
(a 'latest' listing plus a curated 'recommended' one, so co-appearance is exercised), then `refresh_related`.
Wall times depend on what else the machine runs: the load average is printed; CPU times are given too.
Targets (issue 20): `feedsvc related --rebuild` of 100,000 items <= 20 s and <= 1 GB peak, a crawl of one new
item <= 50 ms, of 20 <= 0.3 s, every item with comparable items related.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.related_corpus import Synth  # noqa: E402
from feedsvc.related.docs import Doc  # noqa: E402

LIMIT = 10  # [related] limit default
MIN_SCORE = 0.08  # [related] min_score default


def _rss_mb() -> float:
    """This process's peak RSS. VmHWM where /proc has it: ru_maxrss carries over an exec the peak of the process
    that spawned it, here the parent holding the whole corpus (3.5 GB at 1,000,000 items)."""
    try:
        with open("/proc/self/status") as fh:
            return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _cpu_s() -> float:
    """CPU of this process (its threads included) and of its children reaped so far."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Phases:
    """Wall time from one progress phase to the next (and the CPU of this process in it)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.marks: dict[str, float] = {}
        self.cpu: dict[str, float] = {}
        self.peak: dict[str, float] = {}  # the process's peak RSS when the phase began

    def __call__(self, phase: str, done: int, total: int) -> None:
        if phase not in self.marks:
            self.marks[phase] = time.perf_counter() - self.started
            self.cpu[phase] = time.process_time()
            self.peak[phase] = _rss_mb()
            # Live on stderr: a run stopped part-way (the 1,000,000-item one) still says how far it got.
            print(f"phase {phase} began at {self.marks[phase]:.1f} s, cpu {self.cpu[phase]:.1f} s, peak RSS so far "
                  f"{self.peak[phase]:.0f} MB", file=sys.stderr, flush=True)

    def spans(self, end: float) -> dict[str, float]:
        names = list(self.marks)
        return {n: (self.marks[names[i + 1]] if i + 1 < len(names) else end) - self.marks[n]
                for i, n in enumerate(names)}

    def cpu_spans(self) -> dict[str, float]:
        names, now = list(self.cpu), time.process_time()
        return {n: (self.cpu[names[i + 1]] if i + 1 < len(names) else now) - self.cpu[n]
                for i, n in enumerate(names)}


def engine_child(docs: list[Doc], topics: dict[int, int], queries: list[Doc]) -> dict[str, Any]:
    from feedsvc.related.docs import doc_text
    from feedsvc.related.index import BATCH
    from feedsvc.related.scoring import compute_related
    from feedsvc.related.tokens import batch_keys

    out: dict[str, Any] = {"rss_corpus_mb": _rss_mb()}
    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, len(docs), BATCH):
        batch_keys([doc_text(d) for d in docs[start : start + BATCH]])
    out["baseline_tokenise_s"] = time.perf_counter() - t0
    out["baseline_tokenise_cpu_s"] = time.process_time() - c0

    phases = Phases()
    t0, c0 = time.perf_counter(), time.process_time()
    lists, dup_of = compute_related(docs, LIMIT, MIN_SCORE, progress=phases)
    out["rebuild_s"] = time.perf_counter() - t0
    out["rebuild_cpu_s"] = time.process_time() - c0
    out["phases"] = phases.spans(out["rebuild_s"])
    out["rss_peak_mb"] = _rss_mb()

    reposts = {d.id for d in docs if d.title.endswith("（转载）")}
    out["repost_recall"] = sum(1 for r in reposts if r in dup_of) / max(1, len(reposts))
    out["false_duplicates"] = sum(1 for d in dup_of if d not in reposts)
    shown = [(i, [j for j, _ in v[:5]]) for i, v in lists.items() if v and i not in reposts]
    out["precision_at_5_topics"] = sum(
        sum(topics[j] == topics[i] for j in js) / 5 for i, js in shown) / max(1, len(shown))
    # Reposts are near-duplicates: a reader asking for one is shown its original's list, so they count apart.
    out["items_with_related"] = len(shown) / max(1, len(docs) - len(reposts))
    del lists

    tok = []
    for doc in queries:
        t0 = time.perf_counter()
        batch_keys([doc_text(doc)])
        tok.append((time.perf_counter() - t0) * 1000)
    out["tok_one_p50_ms"] = _pct(tok, 0.5)
    return out


def _bench_config(folder: str) -> Any:
    from feedsvc.config import parse_config

    return parse_config({"database": {"url": f"sqlite:///{folder}/bench.db"},
                         "sources": [{"id": "bench", "title": "Bench", "start_urls": ["http://127.0.0.1/"],
                                      "listings": [{"id": "latest", "heading": "最新"}]}]})


def store_child(docs: list[Doc], folder: str) -> dict[str, Any]:
    """The corpus stored in a SQLite file, as crawls store items (its own process: the rebuild's peak memory
    is then the rebuild's alone, not the generated corpus's)."""
    from feedsvc.store import Store
    from feedsvc.store.items import store_items
    from feedsvc.store.sources import sync_sources

    cfg = _bench_config(folder)
    _store = Store.open(cfg.database.url)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    t0 = time.perf_counter()
    with _store.session_factory() as session:
        sync_sources(session, cfg.sources, at)
        for start in range(0, len(docs), 5000):
            store_items(session, _records(docs[start : start + 5000]), None, at + timedelta(seconds=start))
            session.commit()
    _store.engine.dispose()
    return {"store_s": time.perf_counter() - t0}


def db_child(folder: str) -> dict[str, Any]:
    """`feedsvc related --rebuild`'s code on the stored corpus."""
    from feedsvc.related.refresh import rebuild_related
    from feedsvc.store import Store

    cfg = _bench_config(folder)
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    at = datetime(2026, 1, 1, tzinfo=UTC)
    out: dict[str, Any] = {}
    out["rss_before_mb"] = _rss_mb()
    phases = Phases()
    t0, c0 = time.perf_counter(), _cpu_s()
    stats = rebuild_related(factory, cfg, at + timedelta(days=1), progress=phases)
    out["db_rebuild_s"] = time.perf_counter() - t0
    out["db_rebuild_cpu_s"] = _cpu_s() - c0  # worker processes included, once they have exited
    out["db_phases"] = phases.spans(out["db_rebuild_s"])
    out["db_phases_cpu"] = phases.cpu_spans()
    out["db_phases_peak"] = phases.peak
    out["db_rss_peak_mb"] = _rss_mb()
    # Worker processes (if any): the largest one's peak; the rebuild's peak is at most the sum of both.
    out["db_children_rss_peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out["db_links"] = stats.links
    engine.dispose()
    return out


def _records(batch: list[Doc]) -> list[Any]:
    from feedsvc.store.items import ItemRecord

    return [ItemRecord(source_id="bench", url=f"http://bench.test/{d.id}", title=d.title, summary=d.text[:200],
                       content=f"<p>{d.text}</p>", is_article=True) for d in batch]


def crawl_child(queries: list[Doc], folder: str, first: int, count: int) -> dict[str, Any]:
    """A crawl's new items after a rebuild: stored, then related as crawler/run.py does (refresh + commit)."""
    from feedsvc.config import parse_config
    from feedsvc.related.refresh import refresh_related
    from feedsvc.store import Store
    from feedsvc.store.items import store_items

    cfg = parse_config({"database": {"url": f"sqlite:///{folder}/bench.db"}, "sources": []})
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    at = datetime(2026, 1, 3, tzinfo=UTC) + timedelta(minutes=first)
    with factory() as session:
        new_ids = store_items(session, _records(queries[first : first + count]), None, at).new_item_ids
        session.commit()
    with factory() as session:
        rss0 = _rss_mb()
        t0, c0 = time.perf_counter(), time.process_time()
        refresh_related(session, new_ids, cfg, at)
        session.commit()
        out = {"s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "rss_mb": _rss_mb() - rss0,
               "items": len(new_ids)}
    engine.dispose()
    return out


def small_db_child(docs: list[Doc], folder: str, stored: int = 300, new: int = 2000) -> dict[str, Any]:
    """A crawl of `new` items into a database of `stored`, with listings and a run, then its refresh
    (smaller when the corpus is: a smoke run)."""
    stored = min(stored, len(docs) // 4)
    new = min(new, len(docs) - stored)
    from feedsvc.config import parse_config
    from feedsvc.related.refresh import refresh_related
    from feedsvc.store import Store
    from feedsvc.store.items import ItemRecord, store_items
    from feedsvc.store.runs import start_run
    from feedsvc.store.sources import sync_sources

    cfg = parse_config({"database": {"url": f"sqlite:///{folder}/small.db"},
                        "sources": [{"id": "bench", "title": "Bench", "start_urls": ["http://127.0.0.1/"],
                                     "listings": [{"id": "latest", "heading": "最新"},
                                                  {"id": "tj", "heading": "推荐", "kind": "recommended"}]}]})
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    at = datetime(2026, 1, 1, tzinfo=UTC)

    def records(batch: list[Doc]) -> list[ItemRecord]:
        out = []
        for rank, d in enumerate(batch, start=1):
            out.append(ItemRecord(source_id="bench", url=f"http://bench.test/{d.id}", title=d.title,
                                  summary=d.text[:200], content=f"<p>{d.text}</p>", is_article=True,
                                  listing_id="latest", listing_kind="latest", rank=rank))
            if rank % 100 <= 10:  # every listing page also shows ten recommended items
                out.append(ItemRecord(source_id="bench", url=f"http://bench.test/{d.id}", title=d.title,
                                      listing_id="tj", listing_kind="recommended", rank=rank % 100))
        return out

    out: dict[str, Any] = {}
    crawls = [(docs[:stored], at), (docs[stored : stored + new], at + timedelta(days=1))]
    for n, (batch, when) in enumerate(crawls):
        with factory() as session:
            sync_sources(session, cfg.sources, at)
            run_id = start_run(session, "bench", when)
            new_ids = store_items(session, records(batch), run_id, when).new_item_ids
            session.commit()
            rss0 = _rss_mb()
            t0 = time.perf_counter()
            refresh_related(session, new_ids, cfg, when)
            session.commit()
            if n:
                out["refresh_2000_s"] = time.perf_counter() - t0
                out["refresh_2000_rss_mb"] = _rss_mb() - rss0
                out["refresh_2000_items"] = len(new_ids)
                out["small_stored"] = stored
    engine.dispose()
    return out


def run_child(mode: str, payload: Path, extra: list[str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", mode, str(payload), *extra],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"benchmark child ({mode}) failed:\n{done.stderr}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report(args: argparse.Namespace, gen_s: float, chars: float, r: dict[str, Any]) -> None:
    print(f"corpus: {args.items:,} items (half Chinese, half English), {chars:,.0f} chars/item on average, "
          f"generated in {gen_s:.1f} s; load average before/after: {r['load_before']:.1f} / {r['load_after']:.1f}"
          f" on {os.cpu_count()} CPUs")
    base = r["baseline_tokenise_s"]
    print(f"baseline  tokenise every item      {base:7.2f} s  (cpu {r['baseline_tokenise_cpu_s']:.2f} s)")
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in r["phases"].items())
    print(f"rebuild   index + all neighbours   {r['rebuild_s']:7.2f} s  (cpu {r['rebuild_cpu_s']:.2f} s; {phases}) "
          f"= {r['rebuild_s'] / base:.1f}x baseline")
    print(f"memory    peak RSS                 {r['rss_peak_mb']:7.0f} MB (of which the corpus {r['rss_corpus_mb']:.0f} MB)"
          f"   (engine only)")
    print(f"quality   precision@5 vs synthetic topics {r['precision_at_5_topics']:.3f}; reposts caught "
          f"{r['repost_recall']:.3f}; false duplicates {r['false_duplicates']}; "
          f"items with related items {r['items_with_related']:.3f} (reposts, shown their original's list, apart)")
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in r["db_phases"].items())
    print(f"sqlite    store corpus {r['store_s']:.1f} s; `related --rebuild` {r['db_rebuild_s']:.1f} s "
          f"(cpu {r['db_rebuild_cpu_s']:.1f} s; {phases}; {r['db_links']:,} links), peak RSS "
          f"{r['db_rss_peak_mb']:.0f} MB   target <= 20 s, <= 1024 MB at 100,000 items")
    ones = [c["s"] * 1000 for c in r["crawls_of_one"]]
    one, one_cpu = _pct(ones, 0.5), _pct([c["cpu_s"] * 1000 for c in r["crawls_of_one"]], 0.5)
    tok = r["tok_one_p50_ms"]
    print(f"one item  a crawl of 1 new item into {args.items:,}, refresh + commit: p50 {one:.0f} ms "
          f"(cpu {one_cpu:.0f} ms), max {max(ones):.0f} ms over {len(ones)} crawls; tokenising the item alone "
          f"{tok:.2f} ms (ratio {one / tok:.0f}x)   target <= 50 ms")
    twenty = r["crawl_of_20"]
    n = max(2, twenty["items"])
    print(f"refresh   a crawl of {twenty['items']} new items into {args.items:,}: {twenty['s']:.2f} s "
          f"(cpu {twenty['cpu_s']:.2f} s) = {twenty['s'] * 1000 / n:.0f} ms per new item; each item beyond the "
          f"first adds {(twenty['s'] * 1000 - one) / (n - 1):.1f} ms (peak RSS +{twenty['rss_mb']:.0f} MB)"
          f"   target <= 0.3 s")
    print(f"refresh   a crawl of {r['refresh_2000_items']:,} new items into {r['small_stored']:,}: "
          f"{r['refresh_2000_s']:.2f} s "
          f"(peak RSS +{r['refresh_2000_rss_mb']:.0f} MB)   target < 5 s")


def report_rebuild(args: argparse.Namespace, gen_s: float, chars: float, r: dict[str, Any],
                   one: dict[str, Any]) -> None:
    print(f"corpus: {args.items:,} items, {chars:,.0f} chars/item on average, generated in {gen_s:.1f} s; "
          f"load average before: {r['load_before']:.1f} / now {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in r["db_phases"].items())
    cpu = ", ".join(f"{k} {v:.1f}" for k, v in r["db_phases_cpu"].items())
    print(f"sqlite    store corpus {r['store_s']:.1f} s; `related --rebuild` {r['db_rebuild_s']:.1f} s "
          f"(cpu {r['db_rebuild_cpu_s']:.1f} s; {phases}; {r['db_links']:,} links), peak RSS "
          f"{r['db_rss_peak_mb']:.0f} MB (largest worker process {r['db_children_rss_peak_mb']:.0f} MB)")
    peaks = ", ".join(f"{k} {v:.0f}" for k, v in r["db_phases_peak"].items())
    print(f"          cpu of the main process per phase (worker processes apart): {cpu}; its peak RSS (MB) as "
          f"each phase began: {peaks}")
    print(f"one item  a crawl of 1 new item after it, refresh + commit: {one['s'] * 1000:.0f} ms "
          f"(cpu {one['cpu_s'] * 1000:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000, help="new items for the one-item tokenising baseline")
    parser.add_argument("--crawls", type=int, default=5, help="crawls of one new item each (the one-item figure)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rebuild-only", action="store_true",
                        help="only the SQLite store and `related --rebuild` (and one crawl of one item after it)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, path, *rest = args.child
        if mode == "db":  # reads the database only: the corpus stays out of its memory
            print(json.dumps(db_child(rest[0])))
            return
        with open(path, "rb") as fh:
            corpus, topics, queries = pickle.load(fh)
        if mode == "engine":
            result = engine_child(corpus, topics, queries)
        elif mode == "small":
            result = small_db_child(corpus, rest[0])
        elif mode == "crawl":
            result = crawl_child(queries, rest[0], int(rest[1]), int(rest[2]))
        else:
            result = store_child(corpus, rest[0])
        print(json.dumps(result))
        return
    t0 = time.perf_counter()
    synth = Synth(seed=args.seed, lexicon=min(30_000, 20 * args.items))  # a small lexicon for a smoke run
    docs: list[Doc] = synth.corpus(args.items)
    queries = Synth(seed=args.seed + 1).corpus(max(args.queries, 20 + args.crawls), first_id=args.items + 1,
                                               dup_share=0.0)
    gen_s = time.perf_counter() - t0
    chars = sum(len(d.title) + len(d.text) for d in docs) / args.items
    with tempfile.TemporaryDirectory() as folder:
        payload = Path(folder) / "corpus.pickle"
        with payload.open("wb") as fh:
            pickle.dump((docs, synth.labels, queries), fh, protocol=pickle.HIGHEST_PROTOCOL)
        del docs
        results: dict[str, Any] = {"load_before": os.getloadavg()[0]}
        if args.rebuild_only:
            results.update(run_child("store", payload, [folder]))
            results.update(run_child("db", payload, [folder]))
            one = run_child("crawl", payload, [folder, "0", "1"])
            report_rebuild(args, gen_s, chars, results, one)
            return
        results.update(run_child("engine", payload, []))
        results.update(run_child("small", payload, [folder]))
        results.update(run_child("store", payload, [folder]))
        results.update(run_child("db", payload, [folder]))
        results["crawl_of_20"] = run_child("crawl", payload, [folder, "0", "20"])
        results["crawls_of_one"] = [run_child("crawl", payload, [folder, str(20 + k), "1"]) for k in range(args.crawls)]
        results["load_after"] = os.getloadavg()[0]
    report(args, gen_s, chars, results)


if __name__ == "__main__":
    main()
