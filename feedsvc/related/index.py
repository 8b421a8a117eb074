"""The relatedness index: documents as TF-IDF signatures, all-pairs neighbours in blocks, one-item queries.

Pure (no I/O). Tokens become integer keys so the hot paths run in numpy: a Chinese bigram is its two code
points packed into one int64 (computed for a whole text at once), an English word is a 40-bit blake2b hash of its stem (cached; stable
across processes, so signatures can be stored: feedsvc/related_signatures.py). A document's vector keeps
its `SIGNATURE_TERMS` heaviest terms (renormalised): with idf squared those carry nearly all the weight,
and it caps the cost of comparing everything with everything.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain, islice

import numpy as np
import scipy.sparse as sp

from feedsvc.related.scoring import (
    DUPLICATE_MIN_COSINE,
    MAX_BODY_CHARS,
    STOPWORDS,
    TITLE_WEIGHT,
    Doc,
    Scored,
    TokenMode,
    _jieba_cut,
    is_near_duplicate,
    normalize,
    stem,
)

# idf squared: boilerplate shared across a site ("转载请注明出处", "subscribe to our newsletter") otherwise
# makes unrelated pages look alike; with two boilerplate sentences per item in the evaluation corpus it
# lifts precision@5 from 0.80 to 0.84 (Chinese) and 0.86 to 0.87 (English), and is within 0.01 of plain
# idf elsewhere (bench/related_quality.py).
IDF_POWER = 2.0
# Terms kept per document vector: 64 matches keeping every term on the evaluation corpus, while 32 loses
# 0.2 of Chinese precision@5 (bench/related_quality.py); it bounds the all-pairs work at 100,000 items.
SIGNATURE_TERMS = 64
# Terms in more than max(MIN_MAX_DF, MAX_DF_RATIO * n) documents are left out of signatures.
MIN_MAX_DF = 1000
MAX_DF_RATIO = 0.01
# Candidates ranked per document before near-duplicates are set aside and the list is cut to `limit`.
SLACK = 10

_KEY_BITS = 41  # term keys are below 2**41: CJK pairs < 2**32, jieba words [2**39, 2**40), words [2**40, 2**41)
_JIEBA_BASE = 1 << 39
_WORD_BASE = 1 << 40
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Documents tokenised together: numpy's per-call overhead is paid per batch instead of per document.
BATCH = 2000


def stable_hash(word: str) -> int:
    """The same 64-bit value in every process (Python's own str hash is salted per process)."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


class _WordKeys(dict[str, int]):
    """word -> key (0 for stopwords), filled on first sight; lookups stay in C via map(__getitem__)."""

    def __missing__(self, word: str) -> int:
        if len(self) > 500_000:
            self.clear()
        skip = word in STOPWORDS or (word.isdigit() and len(word) < 3)
        key = 0 if skip else _WORD_BASE | (stable_hash(stem(word)) & (_WORD_BASE - 1))
        self[word] = key
        return key


_word_keys = _WordKeys()


def doc_text(doc: Doc) -> str:
    """What is vectorised: the title TITLE_WEIGHT times, then the text, normalised.

    Line breaks separate the parts, so no bigram spans two of them.
    """
    return normalize("\n".join([doc.title] * TITLE_WEIGHT + [doc.text[:MAX_BODY_CHARS]]))


def batch_keys(texts: Sequence[str], mode: TokenMode = "bigram") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, term key, count) for every distinct term of every text; the same terms as related.tokenize."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    word_lists = [_WORD_RE.findall(t) for t in texts]
    words = np.fromiter(map(_word_keys.__getitem__, chain.from_iterable(word_lists)), dtype=np.int64)
    word_rows = np.repeat(np.arange(len(texts), dtype=np.int64), [len(w) for w in word_lists])
    keys, rows = [words[words != 0]], [word_rows[words != 0]]
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    if mode != "jieba":
        # All CJK bigrams of the batch at once; "\x00" between texts is a separator like any non-CJK char.
        codes = np.frombuffer("\x00".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        cjk = ((codes >= 0x3400) & (codes <= 0x4DBF)) | ((codes >= 0x4E00) & (codes <= 0x9FFF)) | (
            (codes >= 0xF900) & (codes <= 0xFAFF))
        pairs = np.flatnonzero(cjk[:-1] & cjk[1:])
        lone = np.flatnonzero(cjk & ~np.concatenate(([False], cjk[:-1])) & ~np.concatenate((cjk[1:], [False])))
        keys += [(codes[pairs] << 16) | codes[pairs + 1], codes[lone] << 16]
        rows += [np.searchsorted(starts, pairs, side="right") - 1, np.searchsorted(starts, lone, side="right") - 1]
    if mode != "bigram":
        for row, text in enumerate(texts):
            cut = [w for w in _jieba_cut(text) if not w.isascii()]
            keys.append(np.asarray([_JIEBA_BASE | (stable_hash(w) & (_JIEBA_BASE - 1)) for w in cut], dtype=np.int64))
            rows.append(np.full(len(cut), row, dtype=np.int64))
    combined, counts = np.unique((np.concatenate(rows) << _KEY_BITS) | np.concatenate(keys), return_counts=True)
    return combined >> _KEY_BITS, combined & ((1 << _KEY_BITS) - 1), counts.astype(np.float32)


def _distinct(values: np.ndarray) -> np.ndarray:
    ordered = np.sort(values)
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def _sorted_unique(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, index of each value among them): np.unique's sort path, without its overhead."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    new = np.concatenate(([True], ordered[1:] != ordered[:-1])) if len(ordered) else np.zeros(0, bool)
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def _signatures(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray,
                n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the SIGNATURE_TERMS heaviest non-zero entries, scaled to unit length; grouped by row."""
    keep = weights > 0
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    if len(weights):
        # One float sort orders by row, then by weight (heaviest first) within a row: cheaper than lexsort.
        order = np.argsort(rows + (1.0 - weights / (float(weights.max()) * 1.000001)))
        rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows))[:-1]))
    top = (np.arange(len(rows)) - first[rows]) < SIGNATURE_TERMS
    rows, cols, weights = rows[top], cols[top], weights[top]
    norms = np.sqrt(np.bincount(rows, weights=weights.astype(np.float64) ** 2, minlength=n_rows))
    weights = (weights / np.where(norms > 0, norms, 1.0)[rows]).astype(np.float32)
    return rows, cols, weights


class RelatedIndex:
    """Signatures of a set of documents: every document's neighbours, or any document's matches."""

    def __init__(self, docs: Sequence[Doc], mode: TokenMode = "bigram", max_df: int | None = None) -> None:
        self.mode: TokenMode = mode
        self.docs = list(docs)
        n = len(self.docs)
        self.ids = np.fromiter((d.id for d in self.docs), dtype=np.int64, count=n)
        self._has_text = np.fromiter((bool(d.text.strip()) for d in self.docs), dtype=bool, count=n)
        # Pass 1, per batch: compact (row, position in the batch's sorted distinct keys, count) entries;
        # 8 bytes an entry, so 100,000 long items stay within a few hundred MB.
        compact: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for i in range(0, n, BATCH):
            rows, keys, counts = batch_keys([doc_text(d) for d in self.docs[i : i + BATCH]], mode)
            vocab, inverse = _sorted_unique(keys)
            compact.append((rows.astype(np.int16), inverse.astype(np.int32),
                            np.minimum(counts, 65535).astype(np.uint16), vocab))
            del rows, keys, counts
        self.keys = _distinct(np.concatenate([v for *_, v in compact])) if compact else np.zeros(0, np.int64)
        df = np.zeros(len(self.keys), dtype=np.int64)
        coded: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        while compact:
            rows16, inverse, counts16, vocab = compact.pop(0)
            cols = np.searchsorted(self.keys, vocab).astype(np.int32)[inverse]  # sorted lookups: fast
            df += np.bincount(cols, minlength=len(self.keys))
            coded.append((rows16, cols, counts16))
        self.df = df.astype(np.float32)
        self.idf = ((np.log((n + 1) / (self.df + 1)) + 1.0) ** IDF_POWER).astype(np.float32)
        self.max_df = max_df if max_df is not None else max(MIN_MAX_DF, int(MAX_DF_RATIO * n))
        # Terms more common than that are left out of signatures: they say little about any one document
        # and their long postings lists are what makes comparing everything with everything slow.
        self.idf[self.df > self.max_df] = 0.0
        self._unseen_idf = (math.log(n + 1) + 1.0) ** IDF_POWER
        sig_rows, sig_cols, sig_vals = [], [], []
        for start in range(0, n, BATCH):
            rows16, cols, counts16 = coded.pop(0)
            weights = (1.0 + np.log(counts16.astype(np.float32))) * self.idf[cols]
            r, c, v = _signatures(rows16.astype(np.int64), cols, weights, min(BATCH, n - start))
            sig_rows.append(r + start)
            sig_cols.append(c)
            sig_vals.append(v)
        all_rows = np.concatenate(sig_rows) if sig_rows else np.zeros(0, np.int64)
        indptr = np.concatenate(([0], np.cumsum(np.bincount(all_rows, minlength=n))))
        data = np.concatenate(sig_vals) if sig_vals else np.zeros(0, np.float32)
        indices = np.concatenate(sig_cols) if sig_cols else np.zeros(0, np.int32)
        self.matrix = sp.csr_matrix((data, indices, indptr), shape=(n, len(self.keys)))
        self._inverted = sp.csr_matrix(self.matrix.T)

    @classmethod
    def from_matrix(cls, ids: np.ndarray, docs: Sequence[Doc], has_text: np.ndarray, keys: np.ndarray,
                    matrix: sp.csr_matrix) -> RelatedIndex:
        """An index over ready signatures (rows of `matrix`, columns = sorted term `keys`), for ranking only:
        it has no idf, so `neighbours`/`neighbours_of` work and `vector`/`query` do not apply. `ids` are
        the documents' ids; `docs` may hold placeholders where a Doc is not needed (see neighbours_of)."""
        index = cls.__new__(cls)
        index.mode, index.docs, index.ids = "bigram", list(docs), np.asarray(ids, dtype=np.int64)
        index._has_text, index.keys, index.matrix = has_text.astype(bool), keys, matrix
        index.df = index.idf = np.zeros(len(keys), dtype=np.float32)
        index.max_df, index._unseen_idf = 0, 0.0
        index._inverted = sp.csr_matrix(matrix.T)
        return index

    def signature(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """(term keys, unit-length weights) of the document at this row."""
        lo, hi = self.matrix.indptr[row], self.matrix.indptr[row + 1]
        return self.keys[self.matrix.indices[lo:hi]], self.matrix.data[lo:hi]

    def vector(self, doc: Doc) -> sp.csr_matrix:
        """A document's signature in this index's space; terms the index has never seen weigh as df=0."""
        _rows, keys, counts = batch_keys([doc_text(doc)], self.mode)
        pos = np.searchsorted(self.keys, keys)
        pos[pos >= len(self.keys)] = 0
        known = self.keys[pos] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        idf = np.where(known, self.idf[pos] if len(self.keys) else 0.0, self._unseen_idf)
        # Unseen terms take part in choosing and scaling the signature, then drop out: nothing matches them.
        cols = np.where(known, pos, -1 - np.arange(len(keys)))
        _r, sig_cols, sig_vals = _signatures(np.zeros(len(keys), np.int64), cols,
                                             ((1.0 + np.log(counts)) * idf).astype(np.float32), 1)
        keep = sig_cols >= 0
        return sp.csr_matrix((sig_vals[keep], sig_cols[keep].astype(np.int32), np.array([0, int(keep.sum())])),
                             shape=(1, len(self.keys)))

    def __len__(self) -> int:
        return len(self.docs)

    def query(self, doc: Doc, limit: int, min_score: float = 0.0) -> tuple[list[Scored], list[Scored]]:
        """(related, near-duplicates) of any document, best first; the document itself is skipped by id."""
        if not self.docs:
            return [], []
        product = sp.csr_matrix(self.vector(doc) @ self._inverted)
        return self._ranked(doc, product.indices, product.data, limit, min_score)

    def neighbours_of(self, positions: Sequence[int], limit: int, min_score: float = 0.0, block: int = 1024,
                      resolve: Callable[[np.ndarray], None] | None = None,
                      ) -> Iterator[tuple[Doc, list[Scored], list[Scored]]]:
        """(document, related, near-duplicates) for the documents at these positions of the index.

        The same answers as `neighbours` for them, from their rows in one sparse product per block (a
        crawl's new items are indexed anyway). `resolve(rows)` is called before each block is ranked with
        the candidate rows whose Doc the near-duplicate rules will read: an index built from stored
        signatures (`from_signatures`) holds placeholders and loads only those.
        """
        for start in range(0, len(positions), block):
            rows = np.asarray(positions[start : start + block], dtype=np.int64)
            product = sp.csr_matrix(self.matrix[rows] @ self._inverted)
            indptr, indices, data = product.indptr, product.indices, product.data
            tops = [self._top(self.docs[row], indices[indptr[k]:indptr[k + 1]], data[indptr[k]:indptr[k + 1]],
                              limit, min_score) for k, row in enumerate(rows.tolist())]
            if resolve is not None:
                wanted = [cand[maybe] for cand, _scores, maybe in tops]
                resolve(_distinct(np.concatenate(wanted)) if wanted else np.zeros(0, np.int64))
            for row, (cand, scores, maybe) in zip(rows.tolist(), tops, strict=True):
                yield self.docs[row], *self._split(self.docs[row], cand, scores, maybe, limit)

    def _top(self, doc: Doc, rows: np.ndarray, scores: np.ndarray, limit: int,
             min_score: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(candidate rows, scores, which may be near-duplicates), best first."""
        keep = scores > min_score
        rows, scores = rows[keep], scores[keep]
        want = limit + SLACK
        if len(rows) > want:
            top = np.argpartition(-scores, want)[:want]
            rows, scores = rows[top], scores[top]
        order = np.lexsort((rows, -scores))
        rows = rows[order]
        scores = np.minimum(scores[order].astype(np.float64), 1.0).round(6)
        others = self.ids[rows] != doc.id
        # Only these can be near-duplicates (rules in feedsvc/related.py); the check runs on few pairs.
        maybe = (scores >= DUPLICATE_MIN_COSINE) | ~self._has_text[rows] if doc.text.strip() else others.copy()
        return rows, scores, maybe & others

    def _split(self, doc: Doc, rows: np.ndarray, scores: np.ndarray, maybe: np.ndarray,
               limit: int) -> tuple[list[Scored], list[Scored]]:
        ids = self.ids[rows]
        others = ids != doc.id
        duplicates: list[Scored] = []
        for k in np.flatnonzero(maybe).tolist():
            if is_near_duplicate(doc, self.docs[int(rows[k])], float(scores[k])):
                others[k] = False
                duplicates.append(Scored(int(ids[k]), float(scores[k])))
        related = list(map(Scored, ids[others][:limit].tolist(), scores[others][:limit].tolist()))
        return related, duplicates

    def _ranked(self, doc: Doc, rows: np.ndarray, scores: np.ndarray, limit: int,
                min_score: float) -> tuple[list[Scored], list[Scored]]:
        return self._split(doc, *self._top(doc, rows, scores, limit, min_score), limit)

    def _product(self, start: int, stop: int) -> sp.csr_matrix:
        return sp.csr_matrix(self.matrix[start:stop] @ self._inverted)

    def neighbours(self, limit: int, min_score: float = 0.0, block: int = 1024,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[Doc, list[Scored], list[Scored]]]:
        """Every document's (related, near-duplicates), block by block to bound memory; progress(done).

        scipy's sparse product releases the GIL, so the next blocks' products run in worker threads while
        this thread ranks the current block: about 1.5x faster on two cores.
        """
        n = len(self.docs)
        starts = iter(range(0, n, block))
        workers = max(1, min(4, os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            pending: deque[tuple[int, Future[sp.csr_matrix]]] = deque()
            for start in islice(starts, workers + 1):
                pending.append((start, pool.submit(self._product, start, min(start + block, n))))
            while pending:
                start, future = pending.popleft()
                product = future.result()
                following = next(starts, None)
                if following is not None:
                    pending.append((following, pool.submit(self._product, following, min(following + block, n))))
                indptr, indices, data = product.indptr, product.indices, product.data
                for offset in range(product.shape[0]):
                    lo, hi = indptr[offset], indptr[offset + 1]
                    doc = self.docs[start + offset]
                    yield doc, *self._ranked(doc, indices[lo:hi], data[lo:hi], limit, min_score)
                if progress is not None:
                    progress(start + product.shape[0])
