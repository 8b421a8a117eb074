"""feedsvc/related/signatures.py: packed signatures round-trip and rank exactly as the index they came from."""

from __future__ import annotations

import numpy as np

from feedsvc.related.index import RelatedIndex
from feedsvc.related.signatures import index_from_signatures, pack, packed_row, unpack
from tests.support.related_corpus import build_corpus

CORPUS = build_corpus(sentences=3, boilerplate=2)


def test_pack_round_trip() -> None:
    keys, weights = np.array([5, 1 << 40], dtype=np.int64), np.array([0.6, 0.8], dtype=np.float32)
    got_keys, got_weights, has_text = unpack(pack(keys, weights, True))
    assert got_keys.tolist() == keys.tolist() and got_weights.tolist() == weights.tolist() and has_text
    assert unpack(pack(keys[:0], weights[:0], False))[2] is False


def _old_layout(keys: np.ndarray, weights: np.ndarray, has_text: bool) -> bytes:
    """A signature as stored before the record layout: weights, keys, flag byte."""
    return (np.asarray(weights, "<f4").tobytes() + np.asarray(keys, "<i8").tobytes()
            + (b"\x01" if has_text else b"\x00"))


def test_signatures_stored_in_the_older_layout_still_read_and_rank_the_same() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    new = [packed_row(index, r) for r in range(len(docs))]
    old = [_old_layout(*index.signature(r), index.has_text(r)) for r in range(len(docs))]
    keys, weights, has_text = unpack(old[0])
    assert (keys.tolist(), weights.tolist(), has_text) == (index.signature(0)[0].tolist(),
                                                           index.signature(0)[1].tolist(), index.has_text(0))
    mixed = [o if k % 2 else n for k, (n, o) in enumerate(zip(new, old, strict=True))]
    ids = [d.id for d in docs]
    rows = list(range(0, len(docs), 7))
    assert list(index_from_signatures(ids, docs, mixed).neighbours_of(rows, limit=8)) == list(
        index_from_signatures(ids, docs, new).neighbours_of(rows, limit=8))


def test_an_index_of_only_the_new_items_terms_ranks_them_as_the_full_one() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    blobs = [packed_row(index, r) for r in range(len(docs))]
    ids = [d.id for d in docs]
    new_rows = [len(docs) - 3, len(docs) - 2, len(docs) - 1]
    only = np.concatenate([index.signature(r)[0] for r in new_rows])
    narrow = index_from_signatures(ids, docs, blobs, only_keys=only)
    assert narrow.matrix.shape[1] < index.matrix.shape[1] / 3  # most of the window's terms are left out
    assert list(narrow.neighbours_of(new_rows, limit=8, min_score=0.05)) == list(
        index_from_signatures(ids, docs, blobs).neighbours_of(new_rows, limit=8, min_score=0.05))


def test_an_index_from_stored_signatures_ranks_as_the_original() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    stored = index_from_signatures([d.id for d in docs], docs, [packed_row(index, r) for r in range(len(docs))])
    rows = list(range(0, len(docs), 5))
    assert list(stored.neighbours_of(rows, limit=8, min_score=0.05)) == list(
        index.neighbours_of(rows, limit=8, min_score=0.05))
