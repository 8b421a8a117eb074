"""Stored signatures: an item's heaviest TF-IDF terms packed into bytes, and indexes built from them.

Pure (no I/O): feedsvc/related/refresh.py reads and writes them through feedsvc/store/signatures.py.
A signature is computed once, when the item is first related (or by a rebuild), with the idf of that
moment; after a crawl the new items are compared with the stored signatures of the newest items instead
of re-tokenising all of them (8-10 s with 100,000 items stored, bench/related_bench.py --db). The price
is idf drift: older signatures keep the weights of the collection they were computed in, until
`feedsvc related --rebuild` recomputes every signature with one idf.

Layout: n records of (int64 term key, float32 weight), 12 bytes each, then one record (-1, 1.0 if the item
has body text else 0.0: the near-duplicate rules treat title-only items differently). Little-endian. Fixed-size
records let the blobs of a whole window be parsed as one array (b"".join, no per-item work): reading 50,000
signatures after a crawl was a fixed cost of every refresh. Blobs of the older layout (weights, then keys,
then a flag byte: 12n + 1 bytes) are still read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from feedsvc.related.docs import Doc
from feedsvc.related.index import RelatedIndex

RECORD = np.dtype([("key", "<i8"), ("weight", "<f4")])
_FLAG_KEY = -1


def pack(keys: np.ndarray, weights: np.ndarray, has_text: bool) -> bytes:
    out = np.empty(len(keys) + 1, dtype=RECORD)
    out["key"][:-1], out["weight"][:-1] = keys, weights
    out[-1] = (_FLAG_KEY, 1.0 if has_text else 0.0)
    return out.tobytes()


def _unpack_old(blob: bytes) -> tuple[np.ndarray, np.ndarray, bool]:
    n = (len(blob) - 1) // 12
    weights = np.frombuffer(blob, dtype="<f4", count=n)
    keys = np.frombuffer(blob, dtype="<i8", count=n, offset=4 * n)
    return keys, weights, blob[-1:] == b"\x01"


def unpack(blob: bytes) -> tuple[np.ndarray, np.ndarray, bool]:
    """(term keys, weights, has text) of a packed signature."""
    if len(blob) % RECORD.itemsize:
        return _unpack_old(blob)
    records = np.frombuffer(blob, dtype=RECORD)
    return records["key"][:-1], records["weight"][:-1], bool(records["weight"][-1] > 0)


def packed_row(index: RelatedIndex, row: int) -> bytes:
    """The signature of an index's document, packed."""
    keys, weights = index.signature(row)
    return pack(keys, weights, index.has_text(row))


def _records(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """(all records of these signatures in order, records per signature including its flag record)."""
    sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    if (sizes % RECORD.itemsize).any():  # some in the older layout: convert them
        blobs = [pack(*unpack(b)) if len(b) % RECORD.itemsize else b for b in blobs]
        sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    return np.frombuffer(b"".join(blobs), dtype=RECORD), sizes // RECORD.itemsize


def _member(values: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """values in wanted (sorted, distinct). A 16-bit table screens first: a binary search on millions of keys
    costs ten times more than the table lookup, and few keys pass the screen."""
    if not len(wanted):
        return np.zeros(len(values), dtype=bool)
    table = np.zeros(1 << 16, dtype=bool)
    table[wanted & 0xFFFF] = True
    out: np.ndarray = table[values & 0xFFFF]
    maybe = np.flatnonzero(out)
    found = np.minimum(np.searchsorted(wanted, values[maybe]), len(wanted) - 1)
    out[maybe] = wanted[found] == values[maybe]
    return out


def index_from_signatures(ids: Sequence[int], docs: Sequence[Doc], blobs: Sequence[bytes],
                          only_keys: np.ndarray | None = None) -> RelatedIndex:
    """A ranking index over packed signatures, one per id (docs may be placeholders: see neighbours_of).

    With `only_keys`, terms outside it are left out of the index (the rows keep their weights): enough to
    rank those signatures against documents whose terms are all in `only_keys` (a crawl's new items), at a
    fraction of the cost of indexing every term of the window.
    """
    records, counts = _records(blobs)
    rows = np.repeat(np.arange(len(blobs), dtype=np.int64), counts)
    flags = records["key"] == _FLAG_KEY
    has_text = np.zeros(len(blobs), dtype=bool)
    has_text[rows[flags]] = records["weight"][flags] > 0
    keep = ~flags
    if only_keys is not None:
        keep &= _member(records["key"], np.unique(only_keys))
    rows, all_keys, weights = rows[keep], records["key"][keep], records["weight"][keep]
    keys, cols = np.unique(all_keys, return_inverse=True)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=len(blobs)))))
    matrix = sp.csr_matrix((weights.astype(np.float32), cols.astype(np.int32), indptr),
                           shape=(len(blobs), len(keys)))
    return RelatedIndex.from_matrix(np.asarray(ids, dtype=np.int64), docs, has_text, keys, matrix)
