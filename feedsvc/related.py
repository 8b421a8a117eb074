"""Pure relatedness scoring: tokenising (Chinese and English), TF-IDF vectors, near-duplicate rules, top-k.

No I/O and no database: feedsvc/recommend.py feeds documents in and stores what comes out.

Method (measured in bench/related_quality.py and bench/related_bench.py; see the README):
- Chinese runs become overlapping character bigrams (one character alone stays a unigram). jieba words
  scored the same precision@5 on the labelled corpus but tokenise ~20x slower (~0.3 MB/s against ~7 MB/s),
  which alone would break the 60 s budget for rebuilding 100,000 items. `tokenize(..., mode="jieba")` stays
  available for comparison.
- English: lowercase words, a stopword list and a light suffix stemmer (plural/-ing/-ed).
- Weights: sublinear tf x (smoothed idf squared), the title counted twice (titles are short and say what a document
  is about), L2-normalised, so the dot product is the cosine.
- Cosine over sparse vectors (scipy), computed in row blocks for a rebuild and as one sparse product for a
  single new item. Terms in more than `MAX_DF_RATIO` of the documents are skipped when *looking for*
  candidates (their idf is tiny, and they are what makes all-pairs products expensive) but still count in
  every vector's norm, so scores stay true cosines of what they share.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import scipy.sparse as sp

TokenMode = Literal["bigram", "jieba", "both"]

# Only so much body text is needed to say what a document is about; capping it bounds the cost of long pages.
MAX_BODY_CHARS = 1200
TITLE_WEIGHT = 2
# idf squared: boilerplate shared across a site ("转载请注明出处", "subscribe to our newsletter") otherwise
# makes unrelated pages look alike; on the evaluation corpus with two boilerplate sentences per item this
# lifts Chinese precision@5 from 0.75 to 0.84 and English from 0.86 to 0.87 (bench/related_quality.py).
IDF_POWER = 2.0
# Terms in more than this share of documents are not used to look for candidates (see module docstring).
MAX_DF_RATIO = 0.05
# ... but never below this document frequency: small collections are cheap to compare in full.
MIN_PRUNED_DF = 500
# Candidates found with the rough (common-terms-skipped) scores, rescored exactly: limit * 4 + 16.


def _shortlist(limit: int) -> int:
    return limit * 4 + 16

# Near-duplicate rules: the same document under two URLs, or reposted with a tiny title change.
# | rule                          | value | why                                                                  |
# | cosine of title + text        | 0.90  | reposts in the evaluation corpus score >= 0.97; different documents  |
# |                               |       | on one subject stay below 0.7; 0.9 leaves room for small edits       |
# | title bigram overlap (Jaccard)| 0.50  | a tiny title change keeps most of the title; a shared template body  |
# |                               |       | under a different title is a different document                      |
# | numbers in the titles         | equal | "2023年…总结" and "2024年…总结" are different editions, even when the  |
# |                               |       | text follows the same template                                       |
# | title-only items (no text)    | same  | without text, only an identical normalised title of >= 6 characters  |
# |                               | title | is evidence enough                                                   |
DUPLICATE_MIN_COSINE = 0.90
DUPLICATE_MIN_TITLE_OVERLAP = 0.50
DUPLICATE_MIN_TITLE_CHARS = 6

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:'[a-z]+)?")
_NUMBER_RE = re.compile(r"\d+")
_TITLE_NOISE_RE = re.compile(rf"[^{_CJK}a-z0-9]+")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    new says said one two may might must us via per use used using get got make made many much""".split()  # noqa: SIM905
)

_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba_cut(text: str) -> list[str]:
    """jieba initialised once, quietly (it logs its dictionary loading to stderr by default)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return [w for w in jieba.lcut(text, HMM=False) if len(w) > 1 or len(text) == 1]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English stemmer: enough to meet 'markets'/'market', 'rising'/'rise' without a dependency."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("'s"):
        word = word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ingly", "ing", "edly", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # running -> run
            break
    # A final e goes too, so rise / rises / rising / rised all meet at "ris".
    return word[:-1] if len(word) >= 4 and word.endswith("e") else word


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII) and lowercase."""
    return unicodedata.normalize("NFKC", text).lower()


def tokenize(text: str, mode: TokenMode = "bigram") -> list[str]:
    """Terms of a text: CJK bigrams (or jieba words) and stemmed English words without stopwords."""
    out: list[str] = []
    for run in _TOKEN_RE.findall(normalize(text)):
        first = run[0]
        if "a" <= first <= "z" or "0" <= first <= "9":
            if run in STOPWORDS or (run.isdigit() and len(run) < 3):
                continue
            out.append(stem(run))
            continue
        if mode != "jieba":
            if len(run) == 1:
                out.append(run)
            else:
                out.extend([run[i : i + 2] for i in range(len(run) - 1)])
        if mode != "bigram":
            out.extend(_jieba_cut(run))
    return out


@dataclass(frozen=True, slots=True)
class Doc:
    """One item as the scorer sees it. `order` breaks ties on who came first (first_seen, then id)."""

    id: int
    title: str
    text: str = ""
    order: float = 0.0


@dataclass(frozen=True, slots=True)
class Scored:
    id: int
    score: float


def doc_terms(doc: Doc, mode: TokenMode = "bigram") -> Counter[str]:
    terms = Counter(tokenize(doc.text[:MAX_BODY_CHARS], mode)) if doc.text else Counter()
    for term in tokenize(doc.title, mode):
        terms[term] += TITLE_WEIGHT
    return terms


_TAG_RE = re.compile(r"<[^>]*>")


def plain_text(*parts: str | None) -> str:
    """Summary and (HTML) body as one plain text, tags and entities removed, capped at MAX_BODY_CHARS."""
    import html

    out: list[str] = []
    size = 0
    for part in parts:
        if not part:
            continue
        text = html.unescape(_TAG_RE.sub(" ", part)) if "<" in part or "&" in part else part
        text = " ".join(text.split())
        if text and (not out or text[:60] not in out[-1]):  # a summary is often the body's first lines
            out.append(text)
            size += len(text)
        if size >= MAX_BODY_CHARS:
            break
    return " ".join(out)[:MAX_BODY_CHARS]


def title_key(title: str) -> str:
    """A title without spaces and punctuation, for comparing titles."""
    return _TITLE_NOISE_RE.sub("", normalize(title))


def _bigrams(key: str) -> set[str]:
    return {key[i : i + 2] for i in range(len(key) - 1)} or {key}


def is_near_duplicate(a: Doc, b: Doc, cosine: float) -> bool:
    """Apply the near-duplicate table above to two documents whose vectors have this cosine."""
    ka, kb = title_key(a.title), title_key(b.title)
    if _NUMBER_RE.findall(ka) != _NUMBER_RE.findall(kb):
        return False
    if not a.text.strip() or not b.text.strip():
        return ka == kb and len(ka) >= DUPLICATE_MIN_TITLE_CHARS
    if cosine < DUPLICATE_MIN_COSINE:
        return False
    ba, bb = _bigrams(ka), _bigrams(kb)
    return len(ba & bb) / len(ba | bb) >= DUPLICATE_MIN_TITLE_OVERLAP


class RelatedIndex:
    """TF-IDF vectors of a set of documents, able to list every document's neighbours or query a new one."""

    def __init__(self, docs: Sequence[Doc], mode: TokenMode = "bigram",
                 terms: Sequence[Counter[str]] | None = None) -> None:
        self.mode: TokenMode = mode
        self.docs = list(docs)
        self.ids = np.fromiter((d.id for d in self.docs), dtype=np.int64, count=len(self.docs))
        self.row_of = {d.id: row for row, d in enumerate(self.docs)}
        counted = list(terms) if terms is not None else [doc_terms(d, mode) for d in self.docs]
        self.vocab: dict[str, int] = {}
        indptr = np.zeros(len(counted) + 1, dtype=np.int64)
        cols: list[int] = []
        tfs: list[int] = []
        vocab = self.vocab
        for row, bag in enumerate(counted):
            cols.extend([vocab.setdefault(t, len(vocab)) for t in bag])
            tfs.extend(bag.values())
            indptr[row + 1] = len(cols)
        col_arr = np.asarray(cols, dtype=np.int32)
        n = len(counted)
        self.df = np.bincount(col_arr, minlength=len(vocab)).astype(np.float32)
        self.idf = ((np.log((n + 1) / (self.df + 1)) + 1.0) ** IDF_POWER).astype(np.float32)
        data = (1.0 + np.log(np.asarray(tfs, dtype=np.float32))) * self.idf[col_arr] if len(col_arr) else \
            np.zeros(0, dtype=np.float32)
        matrix = sp.csr_matrix((data.astype(np.float32), col_arr, indptr), shape=(n, len(vocab)))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.matrix = sp.csr_matrix(sp.diags(1.0 / norms).astype(np.float32) @ matrix)
        # Candidate lookup skips very common terms (module docstring); a document made only of them
        # still finds its matches through the full vectors in `query` when the index is small.
        common = self.df > max(MIN_PRUNED_DF, MAX_DF_RATIO * n)
        keep = sp.diags((~common).astype(np.float32))
        self._search = sp.csr_matrix(self.matrix @ keep)
        self._inverted = sp.csr_matrix(self._search.T)

    def __len__(self) -> int:
        return len(self.docs)

    def vector(self, doc: Doc) -> sp.csr_matrix:
        """A new document's vector in this index's space; unseen terms count in its norm (idf of df=0)."""
        bag = doc_terms(doc, self.mode)
        n = len(self.docs)
        cols, vals, norm2 = [], [], 0.0
        unseen_idf = (math.log(n + 1) + 1.0) ** IDF_POWER
        for term, tf in bag.items():
            col = self.vocab.get(term)
            weight = (1.0 + math.log(tf)) * (float(self.idf[col]) if col is not None else unseen_idf)
            norm2 += weight * weight
            if col is not None:
                cols.append(col)
                vals.append(weight)
        norm = math.sqrt(norm2) or 1.0
        return sp.csr_matrix((np.asarray(vals, dtype=np.float32) / norm, (np.zeros(len(cols), dtype=np.int32),
                              np.asarray(cols, dtype=np.int32))), shape=(1, len(self.vocab)))

    def query(self, doc: Doc, limit: int, min_score: float = 0.0) -> tuple[list[Scored], list[Scored]]:
        """(related, duplicates) of a document not necessarily in the index, best first."""
        if not self.docs:
            return [], []
        vec = self.vector(doc)
        rough = np.asarray((vec @ self._inverted).todense()).ravel()
        rows = np.flatnonzero(rough > 0)
        want = _shortlist(limit)
        if len(rows) > want:
            rows = rows[np.argpartition(-rough[rows], want)[:want]]
        exact = np.asarray((self.matrix[rows] @ vec.T).todense()).ravel()
        return self._ranked(doc, rows, exact, limit, min_score)

    def _ranked(self, doc: Doc, rows: np.ndarray, exact: np.ndarray, limit: int,
                min_score: float) -> tuple[list[Scored], list[Scored]]:
        keep = exact > min_score
        rows, exact = rows[keep], exact[keep]
        order = np.argsort(-exact, kind="stable")
        return self._split(doc, rows[order], exact[order], limit)

    def _split(self, doc: Doc, rows: np.ndarray, scores: np.ndarray, limit: int) -> tuple[list[Scored], list[Scored]]:
        related: list[Scored] = []
        duplicates: list[Scored] = []
        for row, score in zip(rows.tolist(), scores.tolist(), strict=True):
            other = self.docs[row]
            if other.id == doc.id:
                continue
            maybe_dup = score >= DUPLICATE_MIN_COSINE or not other.text or not doc.text
            if maybe_dup and is_near_duplicate(doc, other, min(score, 1.0)):
                duplicates.append(Scored(other.id, round(min(score, 1.0), 6)))
                continue
            if len(related) < limit:
                related.append(Scored(other.id, round(min(score, 1.0), 6)))
        return related, duplicates

    def neighbours(self, limit: int, min_score: float = 0.0, block: int = 512,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[Doc, list[Scored], list[Scored]]]:
        """Every document's (related, duplicates), block by block to bound memory; progress(documents done)."""
        for start in range(0, len(self.docs), block):
            stop = min(start + block, len(self.docs))
            product = sp.csr_matrix(self._search[start:stop] @ self._inverted)
            want = _shortlist(limit)
            picked: list[np.ndarray] = []
            for offset in range(stop - start):
                lo, hi = product.indptr[offset], product.indptr[offset + 1]
                cols, vals = product.indices[lo:hi], product.data[lo:hi]
                if len(cols) > want:
                    cols = cols[np.argpartition(-vals, want)[:want]]
                picked.append(cols)
            # Exact cosines for the shortlisted pairs of the whole block in one vectorised step.
            sizes = np.fromiter((len(c) for c in picked), dtype=np.int64, count=len(picked))
            left = np.repeat(np.arange(start, stop), sizes)
            right = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int32)
            exact = np.asarray(self.matrix[left].multiply(self.matrix[right]).sum(axis=1)).ravel()
            bounds = np.concatenate(([0], np.cumsum(sizes)))
            for offset in range(stop - start):
                lo, hi = bounds[offset], bounds[offset + 1]
                related, dups = self._ranked(self.docs[start + offset], right[lo:hi], exact[lo:hi], limit, min_score)
                yield self.docs[start + offset], related, dups
            if progress is not None:
                progress(stop)


def related(target: Doc, candidates: Sequence[Doc], limit: int, min_score: float = 0.0,
            boosts: dict[int, float] | None = None, mode: TokenMode = "bigram") -> list[Scored]:
    """The candidates most related to `target`, best first; near-duplicates of it and itself excluded.

    `boosts` adds weak evidence (site related links, co-appearance in listings) to candidates that are
    already similar in content, so it reorders close calls but never makes an unrelated item related.
    """
    index = RelatedIndex([d for d in candidates if d.id != target.id], mode)
    found, _dups = index.query(target, limit=max(limit * 3, limit + 10), min_score=min_score)
    return apply_boosts(found, boosts or {}, limit)


def apply_boosts(found: Iterable[Scored], boosts: dict[int, float], limit: int) -> list[Scored]:
    rescored = [Scored(s.id, round(s.score + boosts.get(s.id, 0.0), 6)) for s in found]
    rescored.sort(key=lambda s: (-s.score, s.id))
    return rescored[:limit]
