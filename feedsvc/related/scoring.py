"""Related lists from neighbours: weak-signal boosts, near-duplicates set aside, the cut to `limit`; and the
whole-collection computation the rebuild runs. Pure (no I/O): feedsvc/related/refresh.py reads and writes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from feedsvc.related import index as related_index
from feedsvc.related.boilerplate import remove_boilerplate
from feedsvc.related.docs import Doc, Scored
from feedsvc.related.duplicates import assign_duplicates
from feedsvc.related.index import RelatedIndex

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


def compute_related(docs: list[Doc], limit: int, min_score: float, site_pairs: SitePairs | None = None,
                    coappear: Coappearance | None = None, progress: Progress | None = None,
                    on_index: Callable[[RelatedIndex], None] | None = None,
                    ) -> tuple[dict[int, list[tuple[int, float]]], dict[int, int]]:
    """Every document's related list and the near-duplicate marks (duplicate id -> original id).

    The collection's boilerplate is removed from `docs` first, in place. `on_index` receives the index (the
    rebuild stores its signatures).
    """
    report = progress or (lambda phase, done, total: None)
    report("index", 0, len(docs))
    remove_boilerplate(docs)
    index = RelatedIndex(docs, min_df=related_index.MIN_DF, shared_slots=True)
    if on_index is not None:
        on_index(index)
    report("score", 0, len(docs))
    found: dict[int, list[Scored]] = {}
    dups: dict[int, list[Scored]] = {}
    for doc, rel, dup in index.neighbours(limit + EXTRA_CANDIDATES, min_score,
                                          progress=lambda n: report("score", n, len(docs))):
        found[doc.id] = rel
        if dup:
            dups[doc.id] = dup
    report("finish", 0, len(docs))
    dup_of = assign_duplicates({d.id: d for d in docs}, dups)
    hidden = set(dup_of)
    pairs, counts = site_pairs or set(), coappear or Counter()
    # pop as we go: at 100,000 items the candidate lists are a few hundred MB of small objects.
    lists = {d.id: related_list(d.id, found.pop(d.id, []), limit, hidden, pairs, counts)
             for d in docs if d.id not in hidden}
    return lists, dup_of
