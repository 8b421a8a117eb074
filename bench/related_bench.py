"""Relatedness benchmark: full rebuild time and peak memory, and the time to relate one new item.

Usage:
    python bench/related_bench.py --items 100000            # the README figures
    python bench/related_bench.py --items 20000 --queries 300  # a quick look

A synthetic corpus (bench/related_corpus.py: mixed Chinese and English, realistic lengths, ~1% reposts) is
generated and handed to a fresh child process, which measures, in one run:
  baseline   tokenising every item (what any content-based method must pay at least)
  rebuild    feedsvc.recommend.compute_related over every item: index + all neighbours + near-duplicates
             (the pure part of `feedsvc related --rebuild`; database reads/writes excluded)
  peak RSS   the child's maximum resident memory, and how much of it the corpus itself takes
  one item   RelatedIndex.query for new items not in the index (p50/p99), against tokenising one item
It also reports quality at scale: precision@5 against the synthetic topics, and repost recall.
Targets (issue 5): rebuild < 60 s, peak memory < 1.5 GB, one new item < 20 ms.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.related_corpus import Synth  # noqa: E402
from feedsvc.related import Doc  # noqa: E402

LIMIT = 10  # [related] limit default
MIN_SCORE = 0.08  # [related] min_score default


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def child(path: str) -> None:
    from feedsvc.recommend import compute_related
    from feedsvc.related_index import BATCH, RelatedIndex, batch_keys, doc_text

    with open(path, "rb") as fh:
        docs, topics, queries = pickle.load(fh)
    rss_corpus = _rss_mb()
    out: dict[str, float] = {"rss_corpus_mb": rss_corpus}

    t0, c0 = time.perf_counter(), time.process_time()
    for start in range(0, len(docs), BATCH):
        batch_keys([doc_text(d) for d in docs[start : start + BATCH]])
    out["baseline_tokenise_s"] = time.perf_counter() - t0
    out["baseline_tokenise_cpu_s"] = time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    lists, dup_of = compute_related(docs, LIMIT, MIN_SCORE)
    out["rebuild_s"] = time.perf_counter() - t0
    out["rebuild_cpu_s"] = time.process_time() - c0
    out["rss_peak_mb"] = _rss_mb()

    by_id = {d.id: d for d in docs}
    reposts = {d.id for d in docs if d.title.endswith("（转载）")}
    out["repost_recall"] = sum(1 for r in reposts if r in dup_of) / max(1, len(reposts))
    out["false_duplicates"] = sum(1 for d in dup_of if d not in reposts)
    shown = [(i, [j for j, _ in v[:5]]) for i, v in lists.items() if v and i not in reposts]
    out["precision_at_5_topics"] = sum(
        sum(topics[j] == topics[i] for j in js) / 5 for i, js in shown) / max(1, len(shown))
    out["items_with_related"] = len(shown) / len(docs)
    del by_id

    index = RelatedIndex(docs)
    lat, tok = [], []
    for doc in queries:
        t0 = time.perf_counter()
        index.query(doc, LIMIT)
        lat.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        batch_keys([doc_text(doc)])
        tok.append((time.perf_counter() - t0) * 1000)
    out.update(one_p50_ms=_pct(lat, 0.5), one_p99_ms=_pct(lat, 0.99), tok_one_p50_ms=_pct(tok, 0.5))
    out["rss_peak_with_second_index_mb"] = _rss_mb()
    print(json.dumps(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000, help="new items to relate one at a time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    t0 = time.perf_counter()
    synth = Synth(seed=args.seed)
    docs: list[Doc] = synth.corpus(args.items)
    topics = synth.labels
    queries = Synth(seed=args.seed + 1).corpus(args.queries, first_id=args.items + 1, dup_share=0.0)
    gen_s = time.perf_counter() - t0
    chars = sum(len(d.title) + len(d.text) for d in docs)
    with tempfile.NamedTemporaryFile(suffix=".pickle", delete=False) as fh:
        pickle.dump((docs, topics, queries), fh, protocol=pickle.HIGHEST_PROTOCOL)
        path = fh.name
    del docs
    try:
        done = subprocess.run([sys.executable, __file__, "--child", path], capture_output=True, text=True, check=False)
    finally:
        Path(path).unlink(missing_ok=True)
    if done.returncode != 0:
        sys.exit(f"benchmark child failed:\n{done.stderr}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"corpus: {args.items:,} items (half Chinese, half English), {chars / args.items:,.0f} chars/item on "
          f"average, generated in {gen_s:.1f} s")
    print(f"baseline  tokenise every item      {r['baseline_tokenise_s']:7.2f} s  (cpu {r['baseline_tokenise_cpu_s']:.2f} s)")
    print(f"rebuild   index + all neighbours   {r['rebuild_s']:7.2f} s  (cpu {r['rebuild_cpu_s']:.2f} s) "
          f"= {r['rebuild_s'] / r['baseline_tokenise_s']:.1f}x baseline   target < 60 s")
    print(f"memory    peak RSS                 {r['rss_peak_mb']:7.0f} MB (corpus alone {r['rss_corpus_mb']:.0f} MB)"
          f"   target < 1536 MB")
    print(f"one item  relate a new item        p50 {r['one_p50_ms']:.2f} ms  p99 {r['one_p99_ms']:.2f} ms "
          f"(tokenising it alone: p50 {r['tok_one_p50_ms']:.2f} ms = {r['one_p50_ms'] / r['tok_one_p50_ms']:.1f}x)"
          f"   target < 20 ms")
    print(f"quality   precision@5 vs synthetic topics {r['precision_at_5_topics']:.3f}; reposts caught "
          f"{r['repost_recall']:.3f}; false duplicates {r['false_duplicates']:.0f}; "
          f"items with related items {r['items_with_related']:.3f}")


if __name__ == "__main__":
    main()
