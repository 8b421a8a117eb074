"""Stored term statistics: each term's document frequency and postings (the items whose signature holds it,
with their weights), packed into bytes. Pure (no I/O): feedsvc/related/refresh.py reads and writes them
through feedsvc/store/related.py (table `related_terms`).

Why: after a crawl the new items need the collection's idf and the items they share terms with. Reading the
newest 50,000 stored signatures and a sample of texts for that was a fixed ~0.3-1 s of every refresh; the
terms of the new items (a few hundred rows) are enough. A rebuild writes every term; a refresh adds its new
items' counts and appends their postings. Stored weights keep the idf they were computed with until the next
`feedsvc related --rebuild`.

Postings layout: records of (int64 item id, float32 weight of the term in that item's unit-length signature),
12 bytes each, little-endian, in no particular order (a refresh appends).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import scipy.sparse as sp

from feedsvc.related.index import RelatedIndex

RECORD = np.dtype([("id", "<i8"), ("weight", "<f4")])
# The row of `related_terms` whose df is the number of items counted.
COLLECTION_KEY = -1
# Terms packed at a time when writing them (bounds the memory of a rebuild's write).
_TERMS_PER_SLICE = 50_000


def pack(ids: np.ndarray, weights: np.ndarray) -> bytes:
    out = np.empty(len(ids), dtype=RECORD)
    out["id"], out["weight"] = ids, weights
    return out.tobytes()


def unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(item ids, weights) of packed postings."""
    records = np.frombuffer(blob, dtype=RECORD)
    return records["id"], records["weight"]


def term_rows(index: RelatedIndex, rows: Iterable[int]) -> Iterator[tuple[int, int, bytes]]:
    """(key, df, postings) for every term of the index, postings from the posted signatures
    (`RelatedIndex.posted`) of its documents at `rows` (the others, near-duplicates, are not listed), in row
    order, plus the collection row. df is the index's own count of documents holding the term (and the
    collection row every indexed document), not any prior. A generator, packing a slice of terms at a time:
    a rebuild writes millions of them."""
    listed = np.zeros(len(index.ids), dtype=bool)
    listed[np.fromiter(rows, dtype=np.int64)] = True
    df = index.local_df
    for lo in range(0, len(index.keys), _TERMS_PER_SLICE):
        hi = min(lo + _TERMS_PER_SLICE, len(index.keys))
        by_term = index.posted_terms(lo, hi)
        keep = listed[by_term.indices]
        records = np.empty(int(keep.sum()), dtype=RECORD)
        records["id"] = index.ids[by_term.indices[keep]]
        records["weight"] = by_term.data[keep]
        buffer = records.tobytes()
        kept_before = np.concatenate(([0], np.cumsum(keep)))
        bounds = kept_before[by_term.indptr] * RECORD.itemsize
        # Iterated in C (zip, map): a rebuild yields ~2 million rows.
        blobs = map(buffer.__getitem__, map(slice, bounds[:-1].tolist(), bounds[1:].tolist()))
        yield from zip(index.keys[lo:hi].tolist(), df[lo:hi].astype(np.int64).tolist(), blobs, strict=True)
    yield COLLECTION_KEY, len(index.ids), b""


def candidates(index: RelatedIndex, postings: dict[int, bytes],
               skip: set[int]) -> tuple[np.ndarray, sp.csr_matrix]:
    """(stored item ids, their weights on the index's terms: one row each) from the postings of those terms;
    items in `skip` (the index's own documents) are left out."""
    cols, ids, weights = [], [], []
    for col, key in enumerate(index.keys.tolist()):
        blob = postings.get(key)
        if blob:
            found, w = unpack(blob)
            cols.append(np.full(len(found), col, dtype=np.int32))
            ids.append(found)
            weights.append(w)
    if not ids:
        return np.zeros(0, np.int64), sp.csr_matrix((0, len(index.keys)), dtype=np.float32)
    all_ids, all_cols, all_w = np.concatenate(ids), np.concatenate(cols), np.concatenate(weights)
    if skip:
        keep = ~np.isin(all_ids, np.fromiter(skip, dtype=np.int64))
        all_ids, all_cols, all_w = all_ids[keep], all_cols[keep], all_w[keep]
    unique, rows = np.unique(all_ids, return_inverse=True)
    # An item related twice by refreshes has its postings twice: one weight per (item, term) is kept.
    _, first = np.unique(rows.astype(np.int64) * len(index.keys) + all_cols, return_index=True)
    matrix = sp.csr_matrix((all_w[first].astype(np.float32), (rows[first], all_cols[first])),
                           shape=(len(unique), len(index.keys)))
    return unique, matrix
