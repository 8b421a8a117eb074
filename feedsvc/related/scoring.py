"""Related lists from neighbours: weak-signal boosts, near-duplicates set aside, the cut to `limit`; and the
whole-collection computation the rebuild runs. Pure (no I/O): feedsvc/related/refresh.py reads and writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from typing import NamedTuple

import numpy as np

from feedsvc.related import index as related_index
from feedsvc.related import ranking
from feedsvc.related.boilerplate import Boilerplate, remove_boilerplate
from feedsvc.related.docs import Doc, Scored, placeholder
from feedsvc.related.duplicates import assign_duplicates
from feedsvc.related.index import RelatedIndex
from feedsvc.related.signatures import small_pages

# Weak signals, added only to candidates already similar in content, so they reorder close calls but never
# make an unrelated item related: the site's own lists are mostly its latest items, and co-listing in a
# curated list is a hint, not proof.
SITE_LINK_BOOST = 0.05
COAPPEARANCE_BOOST = 0.02
COAPPEARANCE_MAX = 3
# Candidates fetched beyond `limit`, so dropping near-duplicates still leaves a full list.
EXTRA_CANDIDATES = 5

Progress = Callable[[str, int, int], None]  # (phase, done, total)
SitePairs = set[tuple[int, int]]  # (from, to) of the sites' own related links
Coappearance = Counter[tuple[int, int]]  # (smaller id, larger id) -> runs listing both in a curated list


def boosts(item_id: int, candidates: Iterable[int], site_pairs: SitePairs,
           coappear: Coappearance) -> dict[int, float]:
    """candidate id -> bonus for this item: SITE_LINK_BOOST for a site link either way, plus
    COAPPEARANCE_BOOST scaled by co-appearances (at most COAPPEARANCE_MAX count)."""
    out: dict[int, float] = {}
    if not site_pairs and not coappear:
        return out
    for other in candidates:
        bonus = 0.0
        if (item_id, other) in site_pairs or (other, item_id) in site_pairs:
            bonus += SITE_LINK_BOOST
        count = coappear.get((min(item_id, other), max(item_id, other)), 0)
        bonus += COAPPEARANCE_BOOST * min(count, COAPPEARANCE_MAX) / COAPPEARANCE_MAX
        if bonus:
            out[other] = bonus
    return out


def related_list(item_id: int, found: Sequence[Scored], limit: int, hidden: set[int],
                 site_pairs: SitePairs, coappear: Coappearance) -> list[tuple[int, float]]:
    """An item's stored list from its content neighbours: hidden (duplicate) items and itself dropped,
    boosts added (score capped at 1.0), best first (ties: lower id), cut to `limit`."""
    kept = [s for s in found if s.id not in hidden and s.id != item_id]
    bonus = boosts(item_id, (s.id for s in kept), site_pairs, coappear)
    rescored = sorted(((s.id, round(min(1.0, s.score + bonus.get(s.id, 0.0)), 6)) for s in kept),
                      key=lambda p: (-p[1], p[0]))
    return rescored[:limit]


class LinkColumns(NamedTuple):
    """Related lists as columns, one entry per link, grouped by `from_ids` ascending, rank 1.. within each."""

    from_ids: np.ndarray
    to_ids: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray


def _ranks_in_groups(group_ids: np.ndarray) -> np.ndarray:
    """1, 2, 3... within each run of equal values of `group_ids` (grouped already)."""
    if not len(group_ids):
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], group_ids[1:] != group_ids[:-1])))
    return np.arange(1, len(group_ids) + 1) - np.repeat(starts, np.diff(np.append(starts, len(group_ids))))


class RelatedLists(Mapping[int, list[tuple[int, float]]]):
    """Every listed item's related list (item id -> `related_list`), made when asked from the candidates kept
    as flat arrays. Held as Python lists, 1,000,000 items' candidates and then their lists took ~1.5 GB and
    ~1.2 GB (tuples, ints and floats of ~100 bytes each); as arrays, 16 bytes a candidate. Iterates in the
    order of the documents."""

    def __init__(self, ids: np.ndarray, offsets: np.ndarray, found_ids: np.ndarray, found_scores: np.ndarray,
                 limit: int, hidden: set[int], site_pairs: SitePairs, coappear: Coappearance) -> None:
        self._ids, self._offsets = ids, offsets  # offsets[k]..offsets[k + 1]: candidates of ids[k]
        self._found_ids, self._found_scores = found_ids, found_scores
        self._order = np.argsort(ids, kind="stable")
        self._limit, self._hidden, self._pairs, self._coappear = limit, hidden, site_pairs, coappear

    def __getitem__(self, item_id: int) -> list[tuple[int, float]]:
        return self._list(item_id, self._hidden)

    def _list(self, item_id: int, hidden: set[int]) -> list[tuple[int, float]]:
        """`related_list` of an item from its kept candidates, these items hidden."""
        k = self._position(item_id)
        lo, hi = int(self._offsets[k]), int(self._offsets[k + 1])
        found = list(map(Scored, self._found_ids[lo:hi].tolist(), self._found_scores[lo:hi].tolist()))
        return related_list(item_id, found, self._limit, hidden, self._pairs, self._coappear)

    def columns(self, leave_out: set[int] | None = None, items: int = 50_000) -> Iterator[LinkColumns]:
        """Every non-empty list, by item id then rank, in parts of `items` items: the rows a rebuild writes. The
        same lists as `self[item_id]`, with the items in `leave_out` (deleted meanwhile) treated as hidden and
        given no list. Items a boost may apply to (a site link or a co-appearance) get theirs one by one from
        `related_list`; the others, nearly all, by numpy: 100,000 items' lists one by one took 1.6 s of a
        rebuild's write. In parts, as the candidates of 1,000,000 items at once (with their rounded scores as
        Python floats) took ~340 MB more at the rebuild's peak."""
        gone = set(leave_out or ())
        hidden_set = self._hidden | gone
        hidden = np.fromiter(hidden_set, dtype=np.int64, count=len(hidden_set))
        boosted = {i for pair in self._pairs for i in pair} | {i for pair in self._coappear for i in pair}
        apart = np.fromiter(boosted | gone, dtype=np.int64, count=len(boosted | gone))
        for lo in range(0, len(self._ids), items):
            positions = self._order[lo : lo + items]  # documents in id order
            starts, stops = self._offsets[positions], self._offsets[positions + 1]
            lengths = stops - starts
            entries = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths) + np.arange(
                int(lengths.sum()))
            own, found_ids = np.repeat(self._ids[positions], lengths), self._found_ids[entries]
            keep = (found_ids != own) & ~np.isin(found_ids, hidden) & ~np.isin(own, apart)
            from_ids, to_ids = own[keep], found_ids[keep]
            # Python's round, as related_list's: numpy's rounds a few values differently in the last bit.
            scores = np.fromiter(map(round, np.minimum(self._found_scores[entries[keep]], 1.0).tolist(), repeat(6)),
                                 dtype=np.float64, count=len(to_ids))
            order = np.lexsort((to_ids, -scores, from_ids))  # by item, best first, ties: lower id
            from_ids, to_ids, scores = from_ids[order], to_ids[order], scores[order]
            ranks = _ranks_in_groups(from_ids)
            top = ranks <= self._limit
            parts = [(from_ids[top], to_ids[top], scores[top], ranks[top])]
            for item_id in sorted(boosted.intersection(self._ids[positions].tolist()) - gone):
                if listed := self._list(item_id, hidden_set):
                    parts.append((np.full(len(listed), item_id, dtype=np.int64),
                                  np.asarray([t for t, _ in listed], dtype=np.int64),
                                  np.asarray([s for _, s in listed], dtype=np.float64),
                                  np.arange(1, len(listed) + 1, dtype=np.int64)))
            columns = LinkColumns(*(np.concatenate(column) for column in zip(*parts, strict=True)))
            if len(parts) > 1:
                columns = LinkColumns(*(c[np.lexsort((columns.ranks, columns.from_ids))] for c in columns))
            yield columns

    def _position(self, item_id: int) -> int:
        at = int(np.searchsorted(self._ids, item_id, sorter=self._order))
        if at == len(self._ids) or self._ids[self._order[at]] != item_id:
            raise KeyError(item_id)
        return int(self._order[at])

    def __iter__(self) -> Iterator[int]:
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return len(self._ids)


@small_pages()  # the rebuild's arrays are short-lived: see small_pages
def compute_related(docs: list[Doc], limit: int, min_score: float, site_pairs: SitePairs | None = None,
                    coappear: Coappearance | None = None, progress: Progress | None = None,
                    on_index: Callable[[RelatedIndex], None] | None = None,
                    reload: Callable[[list[int]], list[Doc]] | None = None,
                    ) -> tuple[RelatedLists, dict[int, int]]:
    """Every document's related list and the near-duplicate marks (duplicate id -> original id).

    The collection's boilerplate is removed from `docs` first, in place. `on_index` receives the index (the
    rebuild stores its signatures). `reload(ids)`: these documents again, as `docs` held them; given it,
    each document's text is let go once it is tokenised (`docs` then holds placeholders: feedsvc/related/docs.py)
    and only the texts the near-duplicate rules read are reloaded, a block at a time: the texts of 1,000,000
    items are ~1.6 GB.
    """
    report = progress or (lambda phase, done, total: None)
    report("index", 0, len(docs))
    boilerplate = remove_boilerplate(docs)
    index = RelatedIndex(docs, min_df=related_index.MIN_DF, shared_slots=True, keep_texts=reload is None)
    if on_index is not None:
        on_index(index)
    report("score", 0, len(docs))
    parts: list[ranking.BlockLists] = []
    dups: dict[int, list[Scored]] = {}
    for rows, ranked in _ranked_blocks(index, limit + EXTRA_CANDIDATES, min_score, boilerplate, reload,
                                       lambda n: report("score", n, len(docs))):
        part = ranking.block_lists(index.docs, [index.docs[r] for r in rows.tolist()], ranked,
                                   limit + EXTRA_CANDIDATES, min_score, related_index.RELATIVE_CUT)
        parts.append(part)
        dups.update(part.duplicates)
    report("finish", 0, len(docs))
    dup_of = assign_duplicates({d.id: d for d in docs}, dups)
    hidden = set(dup_of)
    ids = index.ids
    listed = ~np.isin(ids, np.fromiter(hidden, dtype=np.int64, count=len(hidden)))
    counts = np.concatenate([p.counts for p in parts] + [np.zeros(0, np.int64)])
    kept = np.repeat(listed, counts)
    found_ids = np.concatenate([p.ids for p in parts] + [np.zeros(0, np.int64)])[kept]
    found_scores = np.concatenate([p.scores for p in parts] + [np.zeros(0, np.float64)])[kept]
    del parts
    lists = RelatedLists(ids[listed], np.concatenate(([0], np.cumsum(counts[listed]))), found_ids, found_scores,
                         limit, hidden, site_pairs or set(), coappear or Counter())
    return lists, dup_of


def _ranked_blocks(index: RelatedIndex, limit: int, min_score: float, boilerplate: Boilerplate,
                   reload: Callable[[list[int]], list[Doc]] | None,
                   progress: Callable[[int], None]) -> Iterator[tuple[np.ndarray, ranking.Ranked]]:
    """Every document's ranked candidates, a block of rows at a time, in index order; with `reload`, the texts
    the near-duplicate rules read are reloaded (boilerplate removed again) for each block and let go after it."""
    loaded: list[int] = []

    def let_go() -> None:
        for row in loaded:
            index.docs[row] = placeholder(index.docs[row])

    resolve: Callable[[np.ndarray], None] | None = None
    if reload is not None:
        fetch = reload

        def resolve(rows: np.ndarray) -> None:
            let_go()
            loaded[:] = rows.tolist()  # every row holds a placeholder now
            texts = fetch([index.docs[r].id for r in loaded])
            boilerplate.strip_docs(texts)
            by_id = {d.id: d for d in texts}
            for row in loaded:
                index.docs[row] = by_id[index.docs[row].id]

    for rows, ranked in index.ranked_blocks(range(len(index)), limit, min_score, related_index.NEIGHBOUR_BLOCK,
                                            resolve):
        yield rows, ranked
        progress(int(rows[-1]) + 1)
    let_go()
