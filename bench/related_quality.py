"""Relatedness quality on the labelled corpus (tests/related_corpus.py): the measurements behind the method.

Usage:
    python bench/related_quality.py

Prints precision@5 (a related item shares the category) per language, near-duplicate recall, near-duplicates
shown as related, and false duplicate alarms, for the chosen method and the alternatives it was chosen over:
Chinese tokenisers (character bigrams, jieba words, both), idf weighting (idf, idf squared), signature size
(terms kept per document), and set overlap (Jaccard of term sets, the quantity MinHash/LSH estimates). Three
corpus settings: topical sentences per item / site-boilerplate sentences per item.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import feedsvc.related.index as index_module  # noqa: E402
from feedsvc.related.tokens import batch_keys, normalize, term_counts  # noqa: E402
from tests.related_corpus import Corpus, Quality, build_corpus, evaluate  # noqa: E402

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


def main() -> None:
    corpora = [build_corpus(sentences=s, boilerplate=b) for s, b in SETTINGS]
    print(f"labelled corpus: {len(corpora[0].items)} items, 6 Chinese and 6 English categories, "
          f"{len(corpora[0].duplicate_pairs)} near-duplicate pairs, 2 same-template new editions")
    header = " | ".join(f"{f'{s} topical + {b} boilerplate':<22}" for s, b in SETTINGS)
    print(f"{'':<34}{header}")
    print(f"{'method':<34}" + " | ".join(f"{'p@5 zh / en  dup r/rec/false':<22}" for _ in SETTINGS))
    print(row("chosen: bigram, idf^2, 64 terms", [evaluate(c) for c in corpora]))
    for mode in ("jieba", "both"):
        print(row(f"  tokens: {mode}", [evaluate(c, mode) for c in corpora]))
    saved = index_module.IDF_POWER
    index_module.IDF_POWER = 1.0
    print(row("  weighting: plain idf", [evaluate(c) for c in corpora]))
    index_module.IDF_POWER = saved
    saved_terms = index_module.SIGNATURE_TERMS
    for terms in (32, 48, 96, 100_000):
        index_module.SIGNATURE_TERMS = terms
        label = "all" if terms == 100_000 else str(terms)
        print(row(f"  signature: {label} terms", [evaluate(c) for c in corpora]))
    index_module.SIGNATURE_TERMS = saved_terms
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
