"""Relatedness quality on the labelled corpora: the measurements behind the method.

Usage:
    python bench/related_quality.py                      # real text, then the generated corpora
    python bench/related_quality.py --quick              # a smoke run: one setting, one seed
    python bench/related_quality.py --real               # only the real-text table (every variant)
    python bench/related_quality.py --corpus DIR         # real text from DIR (default /work/corpus/related,
                                                         # or $FEEDSVC_RELATED_CORPUS; format: bench/related_real.py)

Real labelled text (bench/related_real.py; bench/related_manifest_*.json say which: 20 Newsgroups, the Fudan
Chinese corpus, AG News), each set related on its own: every item stored in a
SQLite store and related by `rebuild_related` (what `feedsvc related --rebuild` runs), precision@5 over the
items that got a list and the share that got one, beside plain TF-IDF (scikit-learn) in the same run, and
the method with one setting changed at a time (the pure computation, same texts).

Real pages (tests/support/related_pages.py): full article pages from six site templates (three Chinese, three
English) with navigation, notices, share bars, author boxes, other articles' titles and footers, long bodies;
through the crawler's article extraction. precision@5 of the chosen method (production path:
feedsvc.related.scoring.compute_related) against plain TF-IDF over whole cleaned bodies, measured in the same
run, and with one part of the method left out at a time; over several seeds.

Sentence corpus (tests/support/related_corpus.py):
Prints precision@5 (a related item shares the category) per language, near-duplicate recall, near-duplicates
shown as related, and false duplicate alarms, for the chosen method and the alternatives it was chosen over:
Chinese tokenisers (character bigrams, jieba words, both), idf weighting (idf, idf^1.5, idf squared), signature size
(terms kept per document), and set overlap (Jaccard of term sets, the quantity MinHash/LSH estimates). Three
corpus settings: topical sentences per item / site-boilerplate sentences per item.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import feedsvc.related.boilerplate as boilerplate_module  # noqa: E402
import feedsvc.related.docs as docs_module  # noqa: E402
import feedsvc.related.index as index_module  # noqa: E402
import feedsvc.related.signatures as signatures_module  # noqa: E402
import feedsvc.related.tokens as tokens_module  # noqa: E402
from bench import related_real  # noqa: E402
from feedsvc.related.tokens import batch_keys, normalize, term_counts  # noqa: E402
from tests.support.related_corpus import Corpus, Quality, build_corpus, evaluate  # noqa: E402
from tests.support.related_pages import build_pages, evaluate_pages, long_bodies  # noqa: E402

SETTINGS = [(4, 1), (3, 2), (2, 2)]  # (topical sentences, boilerplate sentences); (3, 2) is the test's


def jaccard_quality(corpus: Corpus, k: int = 5) -> dict[str, float]:
    """precision@k when items are ranked by Jaccard overlap of their term sets (what MinHash approximates)."""
    sets = {it.doc.id: set(term_counts(it.doc.title + "\n" + it.doc.text)) for it in corpus.items}
    label = {it.doc.id: it for it in corpus.items}
    dup_ids = {d for _, d in corpus.duplicate_pairs}
    pairs = {frozenset(p) for p in corpus.duplicate_pairs}
    hits: dict[str, list[float]] = {"zh": [], "en": []}
    for me in corpus.items:
        if me.doc.id in dup_ids:
            continue
        mine = sets[me.doc.id]
        scored = sorted(((len(mine & s) / len(mine | s), i) for i, s in sets.items()
                         if i != me.doc.id and i not in dup_ids and frozenset((i, me.doc.id)) not in pairs),
                        reverse=True)[:k]
        hits[me.lang].append(sum(label[i].category == me.category for _, i in scored) / k)
    return {lang: sum(v) / len(v) for lang, v in hits.items()}


def row(name: str, results: list[Quality | dict[str, float]]) -> str:
    cells = []
    for q in results:
        if isinstance(q, Quality):
            cells.append(f"{q.precision_at_5['zh']:.3f} {q.precision_at_5['en']:.3f}  "
                         f"{q.duplicate_recall:.2f}/{q.duplicates_recommended}/{q.false_duplicates}")
        else:
            cells.append(f"{q['zh']:.3f} {q['en']:.3f}  {'-':>8}")
    return f"{name:<34}" + " | ".join(f"{c:<22}" for c in cells)


SHORT = {"zh": ((3, 5), (10, 15)), "en": ((3, 5), (10, 15))}  # (topical, neutral) sentences: short bodies


def pages_report(seeds: list[int], lengths: dict[str, tuple[tuple[int, int], tuple[int, int]]] | None = None) -> None:
    """precision@5 on the real-page corpus: chosen, baseline, and the chosen method without one of its parts."""
    corpora = [build_pages(seed=seed, lengths=lengths) for seed in seeds]
    print(f"real pages: {len(corpora[0])} pages per seed (6 site templates, 6 Chinese + 6 English categories), "
          f"{long_bodies(corpora[0]):.0%} longer than relatedness reads; seeds {seeds}")
    print(f"{'method':<44}{'p@5 zh':>8}{'p@5 en':>8}   (mean over seeds; min)")

    def show(name: str, results: list[dict[str, float]]) -> None:
        zh, en = [r["zh"] for r in results], [r["en"] for r in results]
        print(f"{name:<44}{sum(zh) / len(zh):8.3f}{sum(en) / len(en):8.3f}   (min {min(zh):.3f} / {min(en):.3f})")

    runs = [evaluate_pages(pages) for pages in corpora]
    show("chosen (production path)", [r.chosen for r in runs])
    show("baseline: plain TF-IDF, whole cleaned bodies", [r.baseline for r in runs])
    saved_docs = boilerplate_module.MIN_DOCS
    boilerplate_module.MIN_DOCS = 10**9
    show("  without boilerplate removal", [evaluate_pages(p).chosen for p in corpora])
    boilerplate_module.MIN_DOCS = saved_docs
    saved_cap = docs_module.cap
    docs_module.cap = lambda text, limit=None: text[:1200]  # type: ignore[assignment]
    show("  body read as 1,200 characters (the old cap)", [evaluate_pages(p).chosen for p in corpora])
    docs_module.cap = saved_cap
    saved_power = index_module.IDF_POWER
    index_module.IDF_POWER = 1.0
    show("  plain idf (not idf squared)", [evaluate_pages(p).chosen for p in corpora])
    index_module.IDF_POWER = 1.5
    show("  idf^1.5", [evaluate_pages(p).chosen for p in corpora])
    index_module.IDF_POWER = saved_power
    tokens_module.WORD_PAIRS = False
    show("  no word pairs", [evaluate_pages(p).chosen for p in corpora])
    tokens_module.WORD_PAIRS = True
    index_module.FULL_NORM = False
    show("  own-length signatures, one-off terms kept", [evaluate_pages(p).chosen for p in corpora])
    index_module.FULL_NORM = True
    index_module.RELATIVE_CUT = 0.5
    show("  relative cut 0.5 (before)", [evaluate_pages(p).chosen for p in corpora])
    index_module.RELATIVE_CUT = 0.7


def longer_bodies(docs: list[related_real.RealDoc], limit: int, idf_power: float | None = None) -> dict[int, list[int]]:
    """The pure computation reading more of each body (and optionally another idf power)."""
    saved = docs_module.MAX_BODY_BYTES, docs_module.MAX_BODY_CHARS, index_module.IDF_POWER
    docs_module.MAX_BODY_BYTES = docs_module.MAX_BODY_CHARS = limit
    index_module.IDF_POWER = idf_power if idf_power is not None else saved[2]
    try:
        return related_real.engine_lists(docs)
    finally:
        docs_module.MAX_BODY_BYTES, docs_module.MAX_BODY_CHARS, index_module.IDF_POWER = saved


def real_report(folder: Path, quick: bool) -> None:
    """The real-text table: production path, plain TF-IDF, and one setting changed at a time."""
    docs = related_real.load_corpus(folder)
    variants = [("chosen (production path: store + rebuild_related)", lambda: related_real.production_lists(docs)),
                ("plain TF-IDF (scikit-learn, same run)", lambda: related_real.tfidf_lists(docs)),
                # Precision is over the items shown: the fair baseline shows lists as short as ours.
                ("plain TF-IDF, relative cut 0.7 (short lists too)",
                 lambda: related_real.tfidf_lists(docs, cut=index_module.RELATIVE_CUT)),
                ("BM25 (k1 1.2, b 0.75; same terms, same run)", lambda: related_real.bm25_lists(docs)),
                ("LSA: plain TF-IDF in 100 dimensions", lambda: related_real.lsa_lists(docs, 100))]
    variants.append(("  chosen, ranking only (min_score 0: full top 5)",
                     lambda: related_real.engine_lists(docs, min_score=0.0)))
    if not quick:
        def changed(name: str, **values: float) -> tuple[str, object]:
            def run() -> dict[int, list[int]]:
                modules = {key: tokens_module if key == "WORD_PAIRS" else signatures_module
                           if key == "SIGNATURE_TERMS" else index_module for key in values}
                saved = {key: getattr(modules[key], key) for key in values}
                for key, value in values.items():
                    setattr(modules[key], key, value)
                try:
                    return related_real.engine_lists(docs)
                finally:
                    for key, value in saved.items():
                        setattr(modules[key], key, value)
            return name, run
        variants += [("LSA: plain TF-IDF in 50 dimensions", lambda: related_real.lsa_lists(docs, 50)),
                     changed("  no word pairs (single English words only)", WORD_PAIRS=False),
                     changed("  idf^1.5", IDF_POWER=1.5),
                     changed("  plain idf", IDF_POWER=1.0),
                     changed("  relative cut at 0.5 of the best match", RELATIVE_CUT=0.5),
                     changed("  signatures of their own length, one-off terms kept", FULL_NORM=False),
                     changed("  before: 0.5 cut, no word pairs, own length", RELATIVE_CUT=0.5, WORD_PAIRS=False,
                             FULL_NORM=False),
                     changed("  64-term signatures (the old cap)", SIGNATURE_TERMS=64),
                     changed("  every term (no signature cap)", SIGNATURE_TERMS=100_000),
                     changed("  terms seen in one item dropped", MIN_DF=2),
                     changed("  absolute min_score only (no relative cut)", RELATIVE_CUT=1e9),
                     changed("  old method: idf^2, 64 terms, absolute cut", IDF_POWER=2.0, SIGNATURE_TERMS=64,
                             RELATIVE_CUT=1e9, WORD_PAIRS=False, FULL_NORM=False),
                     ("  body read up to 14,400 bytes (4x)", lambda: longer_bodies(docs, 14_400)),
                     ("  body up to 14,400 bytes and plain idf", lambda: longer_bodies(docs, 14_400, 1.0))]
    related_real.report(docs, variants)  # type: ignore[arg-type]
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: one seed, one corpus setting")
    parser.add_argument("--real", action="store_true", help="only the real-text table")
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("FEEDSVC_RELATED_CORPUS", related_real.DEFAULT_CORPUS)),
                        help="folder of real labelled text (manifest_<lang>.json files)")
    args = parser.parse_args()
    if not list(args.corpus.glob("manifest_*.json")):
        print(f"error: no real labelled corpus in {args.corpus} (manifest_<lang>.json files). Fetch the files "
              "that bench/related_manifest_en.json lists into it, or pass --corpus DIR.", file=sys.stderr)
        sys.exit(2)
    real_report(args.corpus, args.quick)
    if args.real:
        return
    pages_report([11] if args.quick else [11, 12, 13, 14, 15])
    if not args.quick:
        print("short bodies:")
        pages_report([11, 12, 13, 14, 15], SHORT)
    print()
    if args.quick:
        print(row("chosen: bigram+pairs, idf^2, 128", [evaluate(build_corpus(sentences=3, boilerplate=2))]))
        return
    corpora = [build_corpus(sentences=s, boilerplate=b) for s, b in SETTINGS]
    print(f"labelled corpus: {len(corpora[0].items)} items, 6 Chinese and 6 English categories, "
          f"{len(corpora[0].duplicate_pairs)} near-duplicate pairs, 2 same-template new editions")
    header = " | ".join(f"{f'{s} topical + {b} boilerplate':<22}" for s, b in SETTINGS)
    print(f"{'':<34}{header}")
    print(f"{'method':<34}" + " | ".join(f"{'p@5 zh / en  dup r/rec/false':<22}" for _ in SETTINGS))
    print(row("chosen: bigram+pairs, idf^2, 128", [evaluate(c) for c in corpora]))
    for mode in ("jieba", "both"):
        print(row(f"  tokens: {mode}", [evaluate(c, mode) for c in corpora]))
    saved = index_module.IDF_POWER
    index_module.IDF_POWER = 1.0
    print(row("  weighting: plain idf", [evaluate(c) for c in corpora]))
    index_module.IDF_POWER = 1.5
    print(row("  weighting: idf^1.5", [evaluate(c) for c in corpora]))
    index_module.IDF_POWER = saved
    tokens_module.WORD_PAIRS = False
    print(row("  no word pairs", [evaluate(c) for c in corpora]))
    tokens_module.WORD_PAIRS = True
    index_module.FULL_NORM = False
    print(row("  own-length signatures (before)", [evaluate(c) for c in corpora]))
    index_module.FULL_NORM = True
    saved_cut = index_module.RELATIVE_CUT
    index_module.RELATIVE_CUT = 0.5
    print(row("  relative cut 0.5 (before)", [evaluate(c) for c in corpora]))
    index_module.RELATIVE_CUT = saved_cut
    saved_terms = signatures_module.SIGNATURE_TERMS
    for terms in (32, 48, 96, 100_000):
        signatures_module.SIGNATURE_TERMS = terms
        label = "all" if terms == 100_000 else str(terms)
        print(row(f"  signature: {label} terms", [evaluate(c) for c in corpora]))
    signatures_module.SIGNATURE_TERMS = saved_terms
    print(row("  set overlap (Jaccard ~ MinHash)", [jaccard_quality(c) for c in corpora]))

    texts = [normalize(it.doc.title + "\n" + it.doc.text) for it in corpora[0].items if it.lang == "zh"] * 40
    size = sum(len(t.encode()) for t in texts) / 1e6
    for mode in ("bigram", "jieba"):
        batch_keys(texts[:1], mode)  # jieba loads its dictionary once
        started = time.perf_counter()
        for start in range(0, len(texts), 500):
            batch_keys(texts[start : start + 500], mode)
        print(f"tokenise Chinese, {mode:<6}: {size / (time.perf_counter() - started):5.1f} MB/s")


if __name__ == "__main__":
    main()
