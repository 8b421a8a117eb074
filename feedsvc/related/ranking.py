"""Ranking a block of documents' candidates into related lists: the cut relative to each document's best weak
match, the order, the near-duplicate screen, the cut to `limit`. Pure (no I/O): feedsvc/related/index.py
finds the candidates and passes its rows' ids, texts and settings in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import cast

import numpy as np
import scipy.sparse as sp

from feedsvc.related.docs import Doc, Scored
from feedsvc.related.duplicates import DUPLICATE_MIN_COSINE, is_near_duplicate


@dataclass(slots=True)
class Ranked:
    """A block of documents' ranked candidates, one row each, `taken[k]` of them filled (the rest padding):
    index rows, ids, scores (rounded), likeness, which may be near-duplicates; `exact`: whether the row is
    the answer the full product gives."""

    rows: np.ndarray
    ids: np.ndarray
    scores: np.ndarray
    alike: np.ndarray
    maybe: np.ndarray
    taken: np.ndarray
    exact: np.ndarray

    def replace(self, at: np.ndarray, other: Ranked) -> None:
        """Put `other`'s rows in place of rows `at` (padding widths may differ)."""
        width = max(self.rows.shape[1], other.rows.shape[1])
        for name in ("rows", "ids", "scores", "alike", "maybe"):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine.shape[1] < width:
                mine = np.pad(mine, ((0, 0), (0, width - mine.shape[1])))
            mine[at, : theirs.shape[1]] = theirs
            mine[at, theirs.shape[1] :] = 0
            setattr(self, name, mine)
        self.taken[at] = other.taken
        self.exact[at] = True


def padded(matrix: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(columns, values, count) of each row of a CSR matrix as rectangular arrays, padded with zeros."""
    counts = np.diff(matrix.indptr).astype(np.int64)
    width = int(counts.max()) if len(counts) else 0
    filled = np.arange(width) < counts[:, None]
    cols = np.zeros((len(counts), width), dtype=np.int64)
    values = np.zeros((len(counts), width), dtype=np.float32)
    cols[filled] = matrix.indices[: matrix.indptr[-1]]  # an empty top-n product has one padding entry
    values[filled] = matrix.data[: matrix.indptr[-1]]
    return cols, values, counts


def rank(ids: np.ndarray, has_text: np.ndarray, docs: Sequence[Doc], cols: np.ndarray, scores: np.ndarray,
         counts: np.ndarray, own: np.ndarray, want: int, min_score: float, relative_cut: float,
         top_n: int | None) -> Ranked:
    """The candidates of each document (`cols`, `scores`: one row per document, `counts` filled, the
    rest padding; rows of an index whose `ids` and `has_text` are given), cut, and the best `want` ranked
    best first (ties: lower row), with likeness and which may be near-duplicates. `own` is each document's
    score against itself: likeness = score / own (0..1) is what the near-duplicate rules screen on, as a
    signature scaled by the whole vector's length (index.FULL_NORM) scores below 1 even against its copy. `top_n`: the rows hold each document's `top_n` best candidates
    only (None: every candidate), and `exact` says for which documents those settle the answer."""
    own = np.where(own > 0, own, 1.0)
    width = scores.shape[1]
    filled = np.arange(width) < counts[:, None]
    # The cut is min_score, or a share of the item's own best match when that is weaker: an item whose
    # closest neighbour scores low still gets its closest neighbours (every item with comparable items
    # is answered), and a strong match still keeps weak ones out.
    # Here the cut is loose: the best match may turn out to be a near-duplicate (never listed), so it is
    # taken among candidates too weak to be one (the document itself, scoring `own`, is not one of them);
    # `lists` cuts again from the best match actually listed. Comparisons in float32, as the scores.
    weak = filled & (scores < (DUPLICATE_MIN_COSINE * own).astype(np.float32)[:, None])
    best = np.where(weak, scores, 0.0).max(axis=1, initial=0.0).astype(np.float64)
    cut = np.minimum(min_score, relative_cut * best).astype(np.float32)
    keep = filled & (scores > cut[:, None])
    order = np.lexsort((cols, np.where(keep, -scores, np.inf)), axis=1)[:, :want]
    taken = np.minimum(keep.sum(axis=1), want)
    if top_n is None:
        exact = np.ones(len(counts), dtype=bool)
    else:
        # Only the best candidates are at hand. They settle the answer when they are all there are, or
        # when one of them is weak (then it is the best weak match: the rest score no higher) and what is
        # cut beyond them is either below the cut or ranked after `want` better ones.
        lowest = np.where(filled, scores, np.inf).min(axis=1, initial=np.inf)
        above = (keep & (scores > lowest[:, None])).sum(axis=1)
        exact = (counts < top_n) | (weak.any(axis=1) & ((lowest <= cut) | (above >= want)))
    rows = np.take_along_axis(cols, order, axis=1)
    found = np.take_along_axis(scores, order, axis=1).astype(np.float64)
    alike = np.minimum(found / own[:, None], 1.0)
    found = np.minimum(found, 1.0).round(6)
    valid = np.arange(rows.shape[1]) < taken[:, None]
    rows = np.where(valid, rows, 0)
    found_ids = ids[rows] if len(ids) else np.zeros(rows.shape, np.int64)
    own_ids = np.fromiter((d.id for d in docs), dtype=np.int64, count=len(docs))
    others = valid & (found_ids != own_ids[:, None])
    texted = np.fromiter((bool(d.text.strip()) for d in docs), dtype=bool, count=len(docs))
    # Only these can be near-duplicates (rules in feedsvc/related/duplicates.py); the check runs on few pairs.
    maybe = np.where(texted[:, None], (alike >= DUPLICATE_MIN_COSINE) | ~has_text[rows], True)
    return Ranked(rows, found_ids, found, alike, maybe & others, taken, exact)


# tuple.__new__ in C: a rebuild makes a million of them, and Scored(...) runs a Python function each.
_as_scored = cast(Callable[[tuple[int, float]], Scored], partial(tuple.__new__, Scored))


def lists(candidates: Sequence[Doc], doc: Doc, ranked: Ranked, k: int, limit: int, min_score: float,
          relative_cut: float) -> tuple[list[Scored], list[Scored]]:
    """(related, near-duplicates) of the document at entry `k` of a ranked block; `candidates`: the Docs of
    the index's rows (the near-duplicate rules read those they screen)."""
    n = int(ranked.taken[k])
    ids, scores = ranked.ids[k, :n].tolist(), ranked.scores[k, :n].tolist()
    duplicates: list[Scored] = []
    suspects = np.flatnonzero(ranked.maybe[k, :n]).tolist() if n else []
    for j in suspects:
        if is_near_duplicate(doc, candidates[int(ranked.rows[k, j])], float(ranked.alike[k, j])):
            duplicates.append(Scored(ids[j], scores[j]))
            ids[j] = doc.id  # set aside: skipped below like the document itself
    kept = [pair for pair in zip(ids, scores, strict=True) if pair[0] != doc.id]
    if not kept:
        return [], duplicates
    # The cut relative to the best match listed (near-duplicates are set aside by now; see `rank`).
    cut = min(min_score, relative_cut * kept[0][1])
    return list(map(_as_scored, [pair for pair in kept[:limit] if pair[1] > cut])), duplicates


@dataclass(slots=True)
class BlockLists:
    """`lists` for every document of a ranked block at once: `counts[k]` related items for entry k, their ids and
    scores concatenated in entry order; `duplicates`: document id -> its near-duplicates (only those with any)."""

    counts: np.ndarray
    ids: np.ndarray
    scores: np.ndarray
    duplicates: dict[int, list[Scored]]


def block_lists(candidates: Sequence[Doc], docs: Sequence[Doc], ranked: Ranked, limit: int, min_score: float,
                relative_cut: float) -> BlockLists:
    """The answers `lists` gives for each entry of a ranked block (`docs`: the block's documents, in order), the
    same values, made as arrays: a rebuild ranks every item, and one Python call per item cost more than the
    ranking itself. Entries with a candidate the near-duplicate rules must look at (a few percent) still go
    through `lists`."""
    entries, width = ranked.ids.shape
    if width == 0:  # no document of the block has a term (blank titles and texts): no candidates at all
        return BlockLists(np.zeros(entries, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float64), {})
    own = np.fromiter((d.id for d in docs), dtype=np.int64, count=len(docs))
    valid = np.arange(width) < ranked.taken[:, None]
    looked_at = (ranked.maybe & valid).any(axis=1)
    kept = valid & (ranked.ids != own[:, None])
    # As in `lists`: the cut relative to the best match listed, then the first `limit` of those kept above it.
    best = ranked.scores[np.arange(entries), kept.argmax(axis=1)]
    cut = np.minimum(min_score, relative_cut * best)
    listed = kept & (np.cumsum(kept, axis=1) <= limit) & (ranked.scores > cut[:, None])
    duplicates: dict[int, list[Scored]] = {}
    for k in np.flatnonzero(looked_at).tolist():
        related, found = lists(candidates, docs[k], ranked, k, limit, min_score, relative_cut)
        # Its list is some of its candidates in their order (ids are distinct within an entry): marked in place.
        listed[k] = valid[k] & np.isin(ranked.ids[k], [s.id for s in related])
        if found:
            duplicates[docs[k].id] = found
    return BlockLists(listed.sum(axis=1), ranked.ids[listed], ranked.scores[listed], duplicates)
