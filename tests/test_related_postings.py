"""feedsvc/related/postings.py: packed postings, the rows a rebuild or refresh stores, and candidates read back."""

from __future__ import annotations

import numpy as np

from feedsvc.related.index import Prior, RelatedIndex
from feedsvc.related.postings import COLLECTION_KEY, candidates, pack, term_rows, unpack
from tests.support.related_corpus import build_corpus

CORPUS = build_corpus(sentences=3, boilerplate=2)
DOCS = [it.doc for it in CORPUS.items]


def test_pack_round_trip() -> None:
    ids, weights = unpack(pack(np.array([3, 1 << 40]), np.array([0.5, 0.25], dtype=np.float32)))
    assert ids.tolist() == [3, 1 << 40] and weights.tolist() == [0.5, 0.25]
    assert unpack(b"")[0].tolist() == []


def test_term_rows_hold_every_term_df_and_signature_postings() -> None:
    index = RelatedIndex(DOCS)
    rows = {key: (df, blob) for key, df, blob in term_rows(index, range(1, len(index)))}
    assert rows[COLLECTION_KEY][0] == len(DOCS)
    assert len(rows) == len(index.keys) + 1
    keys, weights = index.signature(0)
    for key in keys.tolist():
        assert DOCS[0].id not in unpack(rows[key][1])[0].tolist()  # row 0 was left out of postings
    keys, weights = index.signature(1)
    for key, weight in zip(keys.tolist(), weights.tolist(), strict=True):
        ids, posted = unpack(rows[key][1])
        assert posted[ids.tolist().index(DOCS[1].id)] == weight
        assert rows[key][0] >= len(ids)


def test_new_documents_weighted_with_stored_df_rank_as_in_one_index() -> None:
    """A refresh's view (stored df + postings of the others, the new document alone in its index) gives the
    same signature and the same scores as indexing everything together."""
    whole = RelatedIndex(DOCS, shared_slots=True)
    stored = RelatedIndex(DOCS[:-1], shared_slots=True)
    rows = {key: (df, blob) for key, df, blob in term_rows(stored, range(len(stored)))}
    new = RelatedIndex(DOCS[-1:], prior=Prior(lambda keys: {k: rows[k][0] for k in keys if k in rows},
                                              rows[COLLECTION_KEY][0]), shared_slots=True)
    keys, weights = new.signature(0)
    want_keys, want_weights = whole.signature(len(DOCS) - 1)
    # The same weights (terms tied at the 128th place may be chosen differently).
    assert np.allclose(np.sort(weights), np.sort(want_weights), atol=1e-6)
    assert len(set(keys.tolist()) & set(want_keys.tolist())) >= len(keys) - 16
    ids, matrix = candidates(new, {k: rows[k][1] for k in keys.tolist()}, {DOCS[-1].id})
    assert DOCS[-1].id not in ids.tolist()
    scores = (new.matrix @ matrix.T).toarray()[0]
    mine = dict(zip(keys.tolist(), weights.tolist(), strict=True))
    for item_id, score in zip(ids.tolist(), scores.tolist(), strict=True):
        # The stored rows keep the weights they were stored with: the score is the cosine with them.
        row = int(np.flatnonzero(stored.ids == item_id)[0])
        posted = stored.posted[row]  # the signature stored as postings
        other_keys, other_weights = stored.keys[posted.indices], posted.data
        expected = sum(mine.get(k, 0.0) * w for k, w in zip(other_keys.tolist(), other_weights.tolist(), strict=True))
        assert abs(score - expected) < 1e-5


def test_postings_appended_twice_count_once() -> None:
    index = RelatedIndex(DOCS[:3])
    rows = {key: blob for key, _df, blob in term_rows(index, range(len(index)))}
    doubled = {key: blob + blob for key, blob in rows.items()}
    query = RelatedIndex(DOCS[:1])
    once = candidates(query, rows, set())
    twice = candidates(query, doubled, set())
    assert once[0].tolist() == twice[0].tolist()
    assert np.allclose(once[1].toarray(), twice[1].toarray())
