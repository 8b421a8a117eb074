"""feedsvc/related/ranking.py: the cut, the order and the near-duplicate screen of a block's candidates, and when
a document's few best candidates settle its list."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from feedsvc.related.docs import Doc
from feedsvc.related.ranking import Ranked, lists, padded, rank

DOCS = [Doc(10 + k, f"title {k}", f"text {k}") for k in range(6)]
IDS = np.array([d.id for d in DOCS], dtype=np.int64)
HAS_TEXT = np.ones(len(DOCS), dtype=bool)


def _rank(rows: list[list[tuple[int, float]]], want: int, top_n: int | None, min_score: float = 0.08) -> Ranked:
    data = [s for row in rows for _c, s in row]
    cols = [c for row in rows for c, _s in row]
    indptr = np.cumsum([0] + [len(row) for row in rows])
    product = sp.csr_matrix((np.array(data, np.float32), np.array(cols, np.int32), indptr),
                            shape=(len(rows), len(DOCS)))
    own = np.ones(len(rows))
    return rank(IDS, HAS_TEXT, DOCS[: len(rows)], *padded(product), own, want, min_score, 0.7, top_n)


def test_the_cut_follows_a_weak_best_match_and_ties_go_to_the_lower_row() -> None:
    # Document 0 (itself 1.0): its best weak match 0.06 is under min_score, so the cut is 0.7 of it (0.042).
    ranked = _rank([[(0, 1.0), (3, 0.05), (2, 0.05), (4, 0.06), (5, 0.04)]], want=10, top_n=None)
    assert ranked.rows[0, : ranked.taken[0]].tolist() == [0, 4, 2, 3]
    related, duplicates = lists(DOCS, DOCS[0], ranked, 0, limit=2, min_score=0.08, relative_cut=0.7)
    assert [s.id for s in related] == [14, 12] and duplicates == []


def test_the_best_candidates_settle_a_list_unless_all_of_them_are_near_duplicate_strength() -> None:
    # Top 3 of each row at hand, 2 wanted. Row 0 has a weak candidate among them: settled. Row 1 has three
    # candidates at near-duplicate strength (>= 0.6 of its own score) and maybe more beyond: not settled.
    # Row 2 has fewer candidates than the top 3: they are all there are.
    ranked = _rank([[(0, 1.0), (1, 0.7), (2, 0.3)], [(1, 1.0), (2, 0.9), (3, 0.8)], [(2, 1.0), (4, 0.9)]],
                   want=2, top_n=3)
    assert ranked.exact.tolist() == [True, False, True]
    assert _rank([[(1, 1.0), (2, 0.9), (3, 0.8)]], want=2, top_n=None).exact.tolist() == [True]
