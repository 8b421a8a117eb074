"""feedsvc/related/signatures.py: signatures keep each row's heaviest terms at unit length (or scaled by the whole
row when only matchable terms may take slots), the shared/posted split, distinct keys, the CSR built from parts."""

from __future__ import annotations

import numpy as np

import feedsvc.related.signatures as signatures_module
from feedsvc.related.signatures import (
    SIGNATURE_TERMS,
    add_counts,
    distinct,
    merge_counts,
    release_memory,
    self_scores,
    shared_signatures,
    signatures,
    small_pages,
    to_csr,
)


def _row_norms(rows: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    return np.sqrt(np.bincount(rows, weights=weights.astype(np.float64) ** 2, minlength=n))


def test_each_row_keeps_its_heaviest_terms_at_unit_length() -> None:
    n_terms = SIGNATURE_TERMS + 20
    rows = np.array([0] * n_terms + [1, 1, 1], dtype=np.int64)
    cols = np.concatenate([np.arange(n_terms), [5, 6, 7]])
    weights = np.concatenate([np.arange(1, n_terms + 1, dtype=np.float32), np.array([0.0, 2.0, 1.0], np.float32)])
    r, c, w = signatures(rows, cols, weights, 2)
    first = c[r == 0]
    assert len(first) == SIGNATURE_TERMS and set(first) == set(range(20, n_terms))  # the 20 lightest went
    assert list(c[r == 1]) == [6, 7]  # a zero weight is no term; heaviest first
    assert np.allclose(_row_norms(r, w, 2), [1.0, 1.0])


def test_only_matchable_terms_take_slots_but_the_whole_row_sets_the_length() -> None:
    rows = np.zeros(3, dtype=np.int64)
    cols = np.array([1, 2, 3])
    weights = np.array([3.0, 4.0, 12.0], np.float32)  # whole length 13
    r, c, w = signatures(rows, cols, weights, 1, matchable=np.array([True, True, False]))
    assert list(c) == [2, 1] and np.allclose(w, [4 / 13, 3 / 13])  # below 1: it shares only part of itself
    assert np.allclose(self_scores(to_csr([(np.bincount(r, minlength=1), c, w)], 1, 4)), [(9 + 16) / 169])


def test_shared_terms_are_ranked_and_the_heaviest_others_only_posted() -> None:
    rows = np.zeros(3, dtype=np.int64)
    cols = np.array([1, 2, 3])
    weights = np.array([3.0, 4.0, 12.0], np.float32)
    (r, c, w), (r2, c2, w2) = shared_signatures(rows, cols, weights, 1, shared=np.array([False, True, True, False]),
                                                postable=np.ones(4, dtype=bool))
    assert list(c) == [2, 1] and np.allclose(w, [4 / 13, 3 / 13])
    assert list(c2) == [3] and np.allclose(w2, [12 / 13]) and list(r2) == [0]


def test_distinct_keys_match_numpy() -> None:
    values = np.array([9, 3, 9, 1, 3, 7], dtype=np.int64)
    assert list(distinct(values)) == [1, 3, 7, 9] and len(distinct(np.zeros(0, np.int64))) == 0
    release_memory()  # a no-op where the C library has no malloc_trim; must never fail


def test_counts_merged_per_part_and_added_up_match_counting_everything_at_once() -> None:
    rng = np.random.default_rng(3)
    parts = [np.unique(rng.integers(0, 50, size=30)) for _ in range(6)]
    counted = [(keys, np.full(len(keys), k + 1)) for k, keys in enumerate(parts)]
    keys, counts = np.zeros(0, np.int64), np.zeros(0, np.int64)
    for pair in (counted[:2], counted[2:5], counted[5:]):
        keys, counts = add_counts(keys, counts, *merge_counts(pair))
    expected: dict[int, int] = {}
    for part_keys, part_counts in counted:
        for key, count in zip(part_keys.tolist(), part_counts.tolist(), strict=True):
            expected[key] = expected.get(key, 0) + count
    assert keys.tolist() == sorted(expected) and counts.tolist() == [expected[k] for k in sorted(expected)]


def test_counts_too_large_to_pack_beside_their_keys_are_merged_the_same() -> None:
    keys = np.array([5, 1, 9], dtype=np.int64)
    small = merge_counts([(keys, np.array([1, 2, 3])), (keys[:2], np.array([4, 5]))])
    large = merge_counts([(keys, np.array([1, 2, 3]) << 40), (keys[:2], np.array([4, 5]) << 40)])
    assert small[0].tolist() == large[0].tolist() == [1, 5, 9]
    assert small[1].tolist() == [7, 5, 3] and large[1].tolist() == [7 << 40, 5 << 40, 3 << 40]


def test_small_pages_gives_numpy_its_setting_back() -> None:
    toggle = np._core.multiarray._set_madvise_hugepage  # type: ignore[attr-defined]
    before = toggle(True)
    try:
        with small_pages():
            assert toggle(False) is False  # off inside
            assert np.ones(1 << 20).sum() == 1 << 20
        assert toggle(True) is True  # back on after
    finally:
        toggle(before)


def test_self_scores_by_slices_of_rows_are_those_of_the_whole(monkeypatch: object) -> None:
    matrix = to_csr([(np.array([2, 0, 1, 3]), np.array([0, 1, 1, 0, 1, 2]),
                      np.array([0.5, 0.5, 1.0, 0.6, 0.8, 0.1], np.float32))], 4, 3)
    whole = self_scores(matrix)
    monkeypatch.setattr(signatures_module, "_SELF_SCORE_ROWS", 3)  # type: ignore[attr-defined]
    assert self_scores(matrix).tolist() == whole.tolist()
    assert np.allclose(whole, [0.5, 0.0, 1.0, 0.36 + 0.64 + 0.01])
