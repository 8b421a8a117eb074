"""Stored signatures: an item's heaviest TF-IDF terms packed into bytes, and indexes built from them.

Pure (no I/O): feedsvc/related/refresh.py reads and writes them through feedsvc/store/signatures.py.
A signature is computed once, when the item is first related (or by a rebuild), with the idf of that
moment; after a crawl the new items are compared with the stored signatures of the newest items instead
of re-tokenising all of them (8-10 s with 100,000 items stored, bench/related_bench.py --db). The price
is idf drift: older signatures keep the weights of the collection they were computed in, until
`feedsvc related --rebuild` recomputes every signature with one idf.

Layout: float32 weights (n), then int64 term keys (n), then one flag byte (1 = the item has body text;
the near-duplicate rules treat title-only items differently). Little-endian.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from feedsvc.related.docs import Doc
from feedsvc.related.index import RelatedIndex


def pack(keys: np.ndarray, weights: np.ndarray, has_text: bool) -> bytes:
    return (np.asarray(weights, dtype="<f4").tobytes() + np.asarray(keys, dtype="<i8").tobytes()
            + (b"\x01" if has_text else b"\x00"))


def unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray, bool]:
    """(term keys, weights, has text) of a packed signature."""
    n = (len(blob) - 1) // 12
    weights = np.frombuffer(blob, dtype="<f4", count=n)
    keys = np.frombuffer(blob, dtype="<i8", count=n, offset=4 * n)
    return keys, weights, blob[-1:] == b"\x01"


def packed_row(index: RelatedIndex, row: int) -> bytes:
    """The signature of an index's document, packed."""
    keys, weights = index.signature(row)
    return pack(keys, weights, index.has_text(row))


def index_from_signatures(ids: Sequence[int], docs: Sequence[Doc], blobs: Sequence[bytes]) -> RelatedIndex:
    """A ranking index over packed signatures, one per id (docs may be placeholders: see neighbours_of)."""
    parts = [unpack(b) for b in blobs]
    lengths = np.fromiter((len(k) for k, _w, _t in parts), dtype=np.int64, count=len(parts))
    all_keys = np.concatenate([k for k, _w, _t in parts]) if parts else np.zeros(0, np.int64)
    weights = np.concatenate([w for _k, w, _t in parts]) if parts else np.zeros(0, np.float32)
    keys, cols = np.unique(all_keys, return_inverse=True)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    matrix = sp.csr_matrix((weights.astype(np.float32), cols.astype(np.int32), indptr),
                           shape=(len(parts), len(keys)))
    has_text = np.fromiter((t for _k, _w, t in parts), dtype=bool, count=len(parts))
    return RelatedIndex.from_matrix(np.asarray(ids, dtype=np.int64), docs, has_text, keys, matrix)
