"""The relatedness index: documents as TF-IDF signatures, all-pairs neighbours in blocks, one-item queries.

Pure (no I/O). Tokens become integer keys so the hot paths run in numpy: a Chinese bigram is its two code
points packed into one int64 (computed for a whole text at once), an English word is `hash()` of its stem
(cached). Python's string hash differs between processes, so an index lives and dies in one process; it
is never stored. A document's vector keeps its `SIGNATURE_TERMS` heaviest terms (renormalised): with idf
squared those carry nearly all the weight, and it caps the cost of comparing everything with everything.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import scipy.sparse as sp

from feedsvc.related import (
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
# makes unrelated pages look alike; on the evaluation corpus with two boilerplate sentences per item this
# lifts Chinese precision@5 from 0.75 to 0.84 and English from 0.86 to 0.87 (bench/related_quality.py).
IDF_POWER = 2.0
# Terms kept per document vector (see module docstring and bench/related_quality.py for the measurement).
SIGNATURE_TERMS = 64
# Candidates ranked per document before near-duplicates are set aside and the list is cut to `limit`.
SLACK = 10

_SHIFT = 21  # code points fit in 21 bits
_WORD_FLAG = 1 << 62
_JIEBA_FLAG = 1 << 61
_MASK = (1 << 60) - 1
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


class _WordKeys(dict[str, int]):
    """word -> key (0 for stopwords), filled on first sight; lookups stay in C via map(__getitem__)."""

    def __missing__(self, word: str) -> int:
        if len(self) > 500_000:
            self.clear()
        key = 0 if word in STOPWORDS or (word.isdigit() and len(word) < 3) else _WORD_FLAG | (hash(stem(word)) & _MASK)
        self[word] = key
        return key


_word_keys = _WordKeys()


def _cjk_keys(text: str) -> np.ndarray:
    """Bigram keys of every CJK run (a lone character keeps a unigram key), for the whole text at once."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    cjk = ((codes >= 0x3400) & (codes <= 0x4DBF)) | ((codes >= 0x4E00) & (codes <= 0x9FFF)) | (
        (codes >= 0xF900) & (codes <= 0xFAFF))
    if not cjk.any():
        return np.zeros(0, dtype=np.int64)
    pair = cjk[:-1] & cjk[1:]
    bigrams = (codes[:-1][pair] << _SHIFT) | codes[1:][pair]
    left = np.concatenate(([False], cjk[:-1]))
    right = np.concatenate((cjk[1:], [False]))
    return np.concatenate((bigrams, codes[cjk & ~left & ~right] << _SHIFT))


def text_keys(text: str, mode: TokenMode = "bigram") -> np.ndarray:
    """Term keys of a normalised text, with repeats (the same terms as related.tokenize)."""
    words = np.fromiter(map(_word_keys.__getitem__, _WORD_RE.findall(text)), dtype=np.int64)
    parts = [words[words != 0]]
    if mode != "jieba":
        parts.append(_cjk_keys(text))
    if mode != "bigram":
        cut = [w for w in _jieba_cut(text) if not w.isascii()]
        parts.append(np.asarray([_JIEBA_FLAG | (hash(w) & _MASK) for w in cut], dtype=np.int64))
    return np.concatenate(parts)


def doc_keys(doc: Doc, mode: TokenMode = "bigram") -> tuple[np.ndarray, np.ndarray]:
    """(unique term keys, term counts) of title + text; the title counts TITLE_WEIGHT times."""
    # One pass over "title / title / text": line breaks are separators, so no bigram spans two parts.
    text = "\n".join([doc.title] * TITLE_WEIGHT + [doc.text[:MAX_BODY_CHARS]])
    keys, counts = np.unique(text_keys(normalize(text), mode), return_counts=True)
    return keys, counts.astype(np.float32)


def _signature(cols: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the heaviest SIGNATURE_TERMS entries and scale them to unit length."""
    if len(weights) > SIGNATURE_TERMS:
        top = np.argpartition(-weights, SIGNATURE_TERMS)[:SIGNATURE_TERMS]
        top.sort()
        cols, weights = cols[top], weights[top]
    norm = float(np.sqrt(np.dot(weights, weights))) or 1.0
    return cols, (weights / norm).astype(np.float32)


class RelatedIndex:
    """Signatures of a set of documents: every document's neighbours, or any document's matches."""

    def __init__(self, docs: Sequence[Doc], mode: TokenMode = "bigram") -> None:
        self.mode: TokenMode = mode
        self.docs = list(docs)
        n = len(self.docs)
        per_doc = [doc_keys(d, mode) for d in self.docs]
        lengths = np.fromiter((len(k) for k, _ in per_doc), dtype=np.int64, count=n)
        all_keys = np.concatenate([k for k, _ in per_doc]) if n else np.zeros(0, dtype=np.int64)
        all_tf = np.concatenate([c for _, c in per_doc]) if n else np.zeros(0, dtype=np.float32)
        del per_doc
        self.keys, cols = np.unique(all_keys, return_inverse=True)
        del all_keys
        cols = cols.astype(np.int32)
        self.df = np.bincount(cols, minlength=len(self.keys)).astype(np.float32)
        self.idf = ((np.log((n + 1) / (self.df + 1)) + 1.0) ** IDF_POWER).astype(np.float32)
        self._unseen_idf = (math.log(n + 1) + 1.0) ** IDF_POWER
        weights = (1.0 + np.log(all_tf)) * self.idf[cols]
        bounds = np.concatenate(([0], np.cumsum(lengths)))
        sig_cols: list[np.ndarray] = []
        sig_vals: list[np.ndarray] = []
        for row in range(n):
            c, w = _signature(cols[bounds[row]:bounds[row + 1]], weights[bounds[row]:bounds[row + 1]])
            sig_cols.append(c)
            sig_vals.append(w)
        indptr = np.concatenate(([0], np.cumsum([len(c) for c in sig_cols]))).astype(np.int64)
        data = np.concatenate(sig_vals) if n else np.zeros(0, dtype=np.float32)
        indices = np.concatenate(sig_cols) if n else np.zeros(0, dtype=np.int32)
        self.matrix = sp.csr_matrix((data, indices, indptr), shape=(n, len(self.keys)))
        self._inverted = sp.csr_matrix(self.matrix.T)

    def __len__(self) -> int:
        return len(self.docs)

    def vector(self, doc: Doc) -> sp.csr_matrix:
        """A document's signature in this index's space; terms the index has never seen weigh as df=0."""
        keys, tf = doc_keys(doc, self.mode)
        pos = np.searchsorted(self.keys, keys)
        pos[pos >= len(self.keys)] = 0
        known = self.keys[pos] == keys if len(self.keys) else np.zeros(len(keys), dtype=bool)
        idf = np.where(known, self.idf[pos] if len(self.keys) else 0.0, self._unseen_idf)
        cols = np.where(known, pos, -1 - np.arange(len(keys)))  # unseen terms: placeholders, never matched
        sig_cols, sig_vals = _signature(cols, ((1.0 + np.log(tf)) * idf).astype(np.float32))
        keep = sig_cols >= 0
        return sp.csr_matrix((sig_vals[keep], sig_cols[keep].astype(np.int32), np.array([0, int(keep.sum())])),
                             shape=(1, len(self.keys)))

    def query(self, doc: Doc, limit: int, min_score: float = 0.0) -> tuple[list[Scored], list[Scored]]:
        """(related, near-duplicates) of any document, best first; the document itself is skipped by id."""
        if not self.docs:
            return [], []
        product = sp.csr_matrix(self.vector(doc) @ self._inverted)
        return self._ranked(doc, product.indices, product.data, limit, min_score)

    def _ranked(self, doc: Doc, rows: np.ndarray, scores: np.ndarray, limit: int,
                min_score: float) -> tuple[list[Scored], list[Scored]]:
        keep = scores > min_score
        rows, scores = rows[keep], scores[keep]
        want = limit + SLACK
        if len(rows) > want:
            top = np.argpartition(-scores, want)[:want]
            rows, scores = rows[top], scores[top]
        order = np.lexsort((rows, -scores))
        related: list[Scored] = []
        duplicates: list[Scored] = []
        for row, score in zip(rows[order].tolist(), scores[order].tolist(), strict=True):
            other = self.docs[row]
            if other.id == doc.id:
                continue
            score = min(round(score, 6), 1.0)
            maybe_dup = score >= DUPLICATE_MIN_COSINE or not other.text or not doc.text
            if maybe_dup and is_near_duplicate(doc, other, score):
                duplicates.append(Scored(other.id, score))
            elif len(related) < limit:
                related.append(Scored(other.id, score))
        return related, duplicates

    def neighbours(self, limit: int, min_score: float = 0.0, block: int = 1024,
                   progress: Callable[[int], None] | None = None) -> Iterator[tuple[Doc, list[Scored], list[Scored]]]:
        """Every document's (related, near-duplicates), block by block to bound memory; progress(done)."""
        for start in range(0, len(self.docs), block):
            stop = min(start + block, len(self.docs))
            product = sp.csr_matrix(self.matrix[start:stop] @ self._inverted)
            for offset in range(stop - start):
                lo, hi = product.indptr[offset], product.indptr[offset + 1]
                doc = self.docs[start + offset]
                yield doc, *self._ranked(doc, product.indices[lo:hi], product.data[lo:hi], limit, min_score)
            if progress is not None:
                progress(stop)
