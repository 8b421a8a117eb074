"""Term weights as the arrays an index is built from: the distinct keys of a batch, each document's signature
(its SIGNATURE_TERMS heaviest terms, scaled to unit length or by the whole vector's length), the CSR matrix of
them, and the memory the temporaries leave behind. Pure numpy and scipy, no I/O.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import scipy.sparse as sp

from feedsvc.related.docs import Doc, doc_text
from feedsvc.related.tokens import KEY_BITS, TokenMode, batch_vocabulary

# Terms kept per document vector: 128 is within 0.005 of keeping every term on real text, where 64 loses
# 0.03 (20 Newsgroups, bench/related_quality.py); it bounds the all-pairs work at 100,000 items.
SIGNATURE_TERMS = 128


def release_memory() -> None:
    """Give the memory of freed temporary arrays back to the system. glibc keeps freed blocks in its heap for
    reuse (its mmap threshold grows after large frees, so later large arrays land in the heap too); after
    building the index of 100,000 generated items ~170 MB of the process's RSS was such free space, counted
    in the rebuild's peak (bench/related_bench.py). A no-op where the C library has no malloc_trim."""
    trim = getattr(_LIBC, "malloc_trim", None)
    if trim is not None:
        trim(0)


try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None)
except OSError:  # pragma: no cover - a platform without a loadable C library
    _LIBC = None


@contextmanager
def small_pages() -> Iterator[None]:
    """Arrays made inside get no transparent huge pages. numpy asks the kernel for huge pages for every array
    of 4 MB or more, and each fresh one is zeroed in full when first touched: a rebuild of 100,000 items
    makes some 5 GB of short-lived arrays, and that zeroing took half the index phase's CPU on the 2-core
    machine (index phase 14 -> 9 s). The matrices the products read at random did not score faster on huge
    pages (within the noise) and cost ~4 s more to make (bench/README.md). Process-wide while inside (not
    for nested use from several threads); a no-op where numpy has no such setting."""
    toggle: Any = getattr(getattr(getattr(np, "_core", None), "multiarray", None), "_set_madvise_hugepage", None)
    if toggle is None:  # pragma: no cover - a numpy without the setting
        yield
        return
    before = toggle(False)
    try:
        yield
    finally:
        toggle(before)


def distinct(values: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """The sorted distinct values; `overwrite`: sort `values` itself instead of a copy (a rebuild's vocabulary
    of every batch, ~120 MB at 100,000 items, is not held twice)."""
    ordered = values if overwrite else np.sort(values)
    if overwrite:
        ordered.sort()
    return ordered[np.concatenate(([True], ordered[1:] != ordered[:-1]))] if len(ordered) else ordered


def merge_counts(parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct keys, summed counts) of (keys, counts) parts, each part's keys distinct."""
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = np.concatenate([k for k, _c in parts])
    counts = np.concatenate([c for _k, c in parts]).astype(np.int64)
    count_bits = 63 - KEY_BITS
    if len(keys) and keys.min() >= 0 and keys.max() >> KEY_BITS == 0 and counts.max() >> count_bits == 0:
        # Term keys with their counts in the low bits, sorted as plain integers: numpy's vectorised sort,
        # several times faster than an argsort and two gathers (the order among equal keys does not matter).
        packed = (keys << count_bits) | counts
        del keys, counts
        packed.sort()
        keys, counts = packed >> count_bits, packed & ((1 << count_bits) - 1)
        del packed
    else:
        order = np.argsort(keys)
        keys, counts = keys[order], counts[order]
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else np.zeros(0, np.int64)
    return keys[first], (np.add.reduceat(counts, first) if len(keys) else counts)


def add_counts(keys: np.ndarray, counts: np.ndarray, more_keys: np.ndarray,
               more_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keys, counts) with (more_keys, more_counts) added, both sorted and distinct: known keys' counts summed
    (in place), new keys inserted in order. Two arrays the size of the result at most, where sorting the
    concatenation of every batch's keys at once took ~1.8 GB more at 1,000,000 items."""
    at = np.searchsorted(keys, more_keys)
    known = at < len(keys)
    known[known] = keys[at[known]] == more_keys[known]
    counts[at[known]] += more_counts[known]
    new = ~known
    return np.insert(keys, at[new], more_keys[new]), np.insert(counts, at[new], more_counts[new])


def compact_keys(docs: Sequence[Doc], mode: TokenMode) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A batch of documents as compact entries, grouped by document: (terms per document, each entry's
    position in the batch's sorted distinct keys int32, count uint16, those keys); 6 bytes an entry, so
    100,000 long items stay within a few hundred MB."""
    lengths, inverse, counts, vocab = batch_vocabulary([doc_text(d) for d in docs], mode)
    return lengths, inverse.astype(np.int32), np.minimum(counts, 65535).astype(np.uint16), vocab


def signatures(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n_rows: int,
               matchable: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: the SIGNATURE_TERMS heaviest non-zero entries, grouped by row, scaled to unit length; with
    `matchable`, only among the matchable entries, scaled by the length of the whole row."""
    keep = weights > 0
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    full = (np.sqrt(np.bincount(rows, weights=weights.astype(np.float64) ** 2, minlength=n_rows))
            if matchable is not None else None)
    if matchable is not None:
        keep = matchable[keep]
        rows, cols, weights = rows[keep], cols[keep], weights[keep]
    if len(weights):
        # One float sort orders by row, then by weight (heaviest first) within a row: cheaper than lexsort.
        order = np.argsort(rows + (1.0 - weights / (float(weights.max()) * 1.000001)))
        rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows))[:-1]))
    top = (np.arange(len(rows)) - first[rows]) < SIGNATURE_TERMS
    rows, cols, weights = rows[top], cols[top], weights[top]
    norms = full if full is not None else np.sqrt(np.bincount(rows, weights=weights.astype(np.float64) ** 2,
                                                       minlength=n_rows))
    weights = (weights / np.where(norms > 0, norms, 1.0)[rows]).astype(np.float32)
    return rows, cols, weights


def shared_signatures(rows: np.ndarray, cols: np.ndarray, weights: np.ndarray, n_rows: int, shared: np.ndarray,
                       postable: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray],
                                                      tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(ranked, extra) entries, grouped by row, weights scaled by the length of the whole row: ranked = the
    SIGNATURE_TERMS heaviest entries of each row whose column is `shared` (a mask over columns); extra = those
    among the SIGNATURE_TERMS heaviest `postable` ones that are not ranked (posted, not ranked). One sort for
    both."""
    keep = np.flatnonzero(weights > 0)
    kept_rows, kept = rows[keep], weights[keep]
    norms = np.sqrt(np.bincount(kept_rows, weights=kept.astype(np.float64) ** 2, minlength=n_rows))
    if len(kept):
        # Positions in the arrays given, so only the sorted entries are gathered (a rebuild sorts ~30 million).
        keep = keep[np.argsort(kept_rows + (1.0 - kept / (float(kept.max()) * 1.000001)))]
    del kept_rows, kept
    rows, cols, weights = rows[keep], cols[keep], weights[keep]
    scaled = (weights / np.where(norms > 0, norms, 1.0)[rows]).astype(np.float32)
    first = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_rows))[:-1]))

    def heaviest(mask: np.ndarray) -> np.ndarray:
        before = np.cumsum(mask) - mask  # masked entries before each entry, then before its row's first
        return np.asarray(mask & ((before - before[first[rows]]) < SIGNATURE_TERMS), dtype=bool)

    ranked = heaviest(shared[cols])
    extra = heaviest(postable[cols]) & ~ranked
    return (rows[ranked], cols[ranked], scaled[ranked]), (rows[extra], cols[extra], scaled[extra])


def to_csr(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_rows: int, n_cols: int) -> sp.csr_matrix:
    """One CSR matrix from (entries per row, cols, values) parts, each grouped by row, in row order; the parts
    are emptied as they are copied (the list is cleared), so the entries are not held twice."""
    lengths = np.concatenate([r for r, _c, _v in parts]) if parts else np.zeros(0, np.int32)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1 : len(lengths) + 1])
    indptr[len(lengths) + 1 :] = indptr[len(lengths)]
    total = int(indptr[-1])
    data, indices = np.empty(total, dtype=np.float32), np.empty(total, dtype=np.int32)
    at = 0
    parts.reverse()
    while parts:
        _r, cols, values = parts.pop()
        data[at : at + len(values)], indices[at : at + len(cols)] = values, cols
        at += len(values)
    return sp.csr_matrix((data, indices, indptr), shape=(n_rows, n_cols))


# Rows whose self-scores are summed at a time: the whole matrix at once took three temporaries the size of its
# entries (~0.8 GB more at the end of the index of 1,000,000 items).
_SELF_SCORE_ROWS = 65536


def self_scores(matrix: sp.csr_matrix) -> np.ndarray:
    """Each row's score against itself (its squared length): 1 for a unit-length signature."""
    n = matrix.shape[0]
    out = np.zeros(n, dtype=np.float64)
    for lo in range(0, n, _SELF_SCORE_ROWS):
        hi = min(lo + _SELF_SCORE_ROWS, n)
        first, last = matrix.indptr[lo], matrix.indptr[hi]
        rows = np.repeat(np.arange(hi - lo), np.diff(matrix.indptr[lo : hi + 1]))
        out[lo:hi] = np.bincount(rows, weights=matrix.data[first:last].astype(np.float64) ** 2, minlength=hi - lo)
    return out
