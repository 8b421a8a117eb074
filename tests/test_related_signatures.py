"""feedsvc/related/signatures.py: packed signatures round-trip and rank exactly as the index they came from."""

from __future__ import annotations

import numpy as np

from feedsvc.related.index import RelatedIndex
from feedsvc.related.signatures import index_from_signatures, pack, packed_row, unpack
from tests.related_corpus import build_corpus

CORPUS = build_corpus(sentences=3, boilerplate=2)


def test_pack_round_trip() -> None:
    keys, weights = np.array([5, 1 << 40], dtype=np.int64), np.array([0.6, 0.8], dtype=np.float32)
    got_keys, got_weights, has_text = unpack(pack(keys, weights, True))
    assert got_keys.tolist() == keys.tolist() and got_weights.tolist() == weights.tolist() and has_text
    assert unpack(pack(keys[:0], weights[:0], False))[2] is False


def test_an_index_from_stored_signatures_ranks_as_the_original() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    stored = index_from_signatures([d.id for d in docs], docs, [packed_row(index, r) for r in range(len(docs))])
    rows = list(range(0, len(docs), 5))
    assert list(stored.neighbours_of(rows, limit=8, min_score=0.05)) == list(
        index.neighbours_of(rows, limit=8, min_score=0.05))
