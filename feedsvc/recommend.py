"""Relatedness orchestration: read items through the repository, score with feedsvc.related, store links.

`refresh_related` runs after every crawl for the new items (and updates the lists of the items they now
relate to); `rebuild_related` recomputes everything. Both mark near-duplicates (`items.duplicate_of` = the
earlier item) and never store a near-duplicate as related. Datetimes passed in are timezone-aware UTC.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import AppConfig
from feedsvc.related import Doc, Scored, plain_text
from feedsvc.related_index import RelatedIndex
from feedsvc.repository import related as repo

# Weak signals, added only to candidates already similar in content (as in related.apply_boosts):
# the site's own lists are mostly its latest items, and co-listing in a curated list is a hint, not proof.
SITE_LINK_BOOST = 0.05
COAPPEARANCE_BOOST = 0.02
COAPPEARANCE_MAX = 3
# After a crawl, new items are related to the newest this-many items (the whole database when smaller):
# it bounds the work per crawl (8-15 s with 100,000 items stored: bench/related_bench.py --db) however
# large the database grows; `feedsvc related --rebuild` relates everything with everything.
REFRESH_WINDOW = 50_000
# Candidates fetched beyond `limit`, so dropping near-duplicates still leaves a full list.
EXTRA_CANDIDATES = 5

Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass(frozen=True, slots=True)
class RelatedStats:
    items: int = 0
    linked: int = 0
    links: int = 0
    duplicates: int = 0
    refreshed: int = 0


def to_doc(text: repo.ItemText) -> Doc:
    return Doc(text.id, text.title, plain_text(text.summary, text.content), text.first_seen.timestamp())


def _boosts(site_pairs: set[tuple[int, int]], coappear: Counter[tuple[int, int]], item_id: int,
            candidates: Iterable[int]) -> dict[int, float]:
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


def _finish(item_id: int, found: Sequence[Scored], limit: int, hidden: set[int],
            site_pairs: set[tuple[int, int]], coappear: Counter[tuple[int, int]]) -> list[tuple[int, float]]:
    """Drop duplicates, add weak signals, cut to `limit`."""
    kept = [s for s in found if s.id not in hidden and s.id != item_id]
    boosts = _boosts(site_pairs, coappear, item_id, (s.id for s in kept))
    rescored = sorted(((s.id, round(min(1.0, s.score + boosts.get(s.id, 0.0)), 6)) for s in kept),
                      key=lambda p: (-p[1], p[0]))
    return rescored[:limit]


def _root(dup_of: dict[int, int], item_id: int) -> int:
    while item_id in dup_of:
        item_id = dup_of[item_id]
    return item_id


def _assign_duplicates(docs_by_id: dict[int, Doc], dups: dict[int, list[Scored]],
                       known: dict[int, int]) -> dict[int, int]:
    """duplicate id -> original id: within each near-duplicate group the earliest item is the original."""
    dup_of = dict(known)
    for item_id in sorted(dups, key=lambda i: (docs_by_id[i].order, i)):
        if item_id in dup_of:
            continue
        me = docs_by_id[item_id]
        earlier = [s.id for s in dups[item_id]
                   if s.id in docs_by_id and (docs_by_id[s.id].order, s.id) < (me.order, item_id)]
        if earlier:
            first = min(earlier, key=lambda i: (docs_by_id[i].order, i))
            dup_of[item_id] = _root(dup_of, first)
    return {d: _root(dup_of, o) for d, o in dup_of.items() if d not in known}


def refresh_related(session: Session, new_item_ids: Sequence[int], cfg: AppConfig, at: datetime) -> RelatedStats:
    """Relate the new items to the stored ones, mark their near-duplicates, update affected lists.

    Runs in the caller's transaction (the crawler commits afterwards). Items the new ones now relate to
    get them merged into their lists when they score high enough, so those lists stay current too.
    """
    if not new_item_ids:
        return RelatedStats()
    limit, min_score = cfg.related.limit, cfg.related.min_score
    wanted = set(new_item_ids)
    texts = {t.id: t for t in repo.recent_item_texts(session, REFRESH_WINDOW)}
    texts.update((t.id, t) for t in repo.item_texts(session, sorted(wanted - texts.keys())) if t.duplicate_of is None)
    docs = [to_doc(t) for t in texts.values()]
    index = RelatedIndex(docs)
    new_docs = sorted((d for d in docs if d.id in wanted), key=lambda d: (d.order, d.id))
    site_pairs = repo.site_link_pairs(session, [d.id for d in new_docs])
    coappear = repo.coappearance_counts(session, [d.id for d in new_docs])

    found: dict[int, list[Scored]] = {}
    dups: dict[int, list[Scored]] = {}
    position = {d.id: i for i, d in enumerate(docs)}
    for doc, rel, dup in index.neighbours_of([position[d.id] for d in new_docs], limit + EXTRA_CANDIDATES,
                                             min_score):
        found[doc.id], dups[doc.id] = rel, dup
    docs_by_id = {d.id: d for d in docs}
    dup_of = _assign_duplicates(docs_by_id, dups, {})
    hidden = set(dup_of)

    lists = {doc.id: _finish(doc.id, found[doc.id], limit, hidden, site_pairs, coappear)
             for doc in new_docs if doc.id not in hidden}
    # Merge each new item into the lists of the items it relates to (cosine is symmetric).
    incoming: dict[int, list[tuple[int, float]]] = {}
    for from_id, scored in lists.items():
        for to_id, score in scored:
            if to_id not in wanted:
                incoming.setdefault(to_id, []).append((from_id, score))
    current = repo.computed_links(session, sorted(incoming))
    refreshed: dict[int, list[tuple[int, float]]] = {}
    for to_id, additions in incoming.items():
        merged = {i: s for i, s in current.get(to_id, []) if i not in hidden}
        for from_id, score in additions:
            merged[from_id] = max(score, merged.get(from_id, 0.0))
        best = sorted(merged.items(), key=lambda p: (-p[1], p[0]))[:limit]
        if best != current.get(to_id, []):
            refreshed[to_id] = best

    repo.mark_duplicates(session, dup_of)
    repo.replace_computed_links_many(session, {**refreshed, **lists}, at)
    return RelatedStats(items=len(new_docs), linked=sum(1 for v in lists.values() if v),
                        links=sum(len(v) for v in lists.values()), duplicates=len(dup_of),
                        refreshed=len(refreshed))


def compute_related(docs: Sequence[Doc], limit: int, min_score: float,
                    site_pairs: set[tuple[int, int]] | None = None,
                    coappear: Counter[tuple[int, int]] | None = None,
                    progress: Progress | None = None) -> tuple[dict[int, list[tuple[int, float]]], dict[int, int]]:
    """Pure: every document's related list and the near-duplicate marks (duplicate id -> original id)."""
    report = progress or (lambda phase, done, total: None)
    report("index", 0, len(docs))
    index = RelatedIndex(docs)
    report("score", 0, len(docs))
    found: dict[int, list[Scored]] = {}
    dups: dict[int, list[Scored]] = {}
    for doc, rel, dup in index.neighbours(limit + EXTRA_CANDIDATES, min_score,
                                          progress=lambda n: report("score", n, len(docs))):
        found[doc.id] = rel
        if dup:
            dups[doc.id] = dup
    report("finish", 0, len(docs))
    dup_of = _assign_duplicates({d.id: d for d in docs}, dups, {})
    hidden = set(dup_of)
    pairs, counts = site_pairs or set(), coappear or Counter()
    # pop as we go: at 100,000 items the candidate lists are a few hundred MB of small objects.
    lists = {d.id: _finish(d.id, found.pop(d.id, []), limit, hidden, pairs, counts)
             for d in docs if d.id not in hidden}
    return lists, dup_of


def rebuild_related(session_factory: sessionmaker[Session], cfg: AppConfig, at: datetime,
                    progress: Progress | None = None) -> RelatedStats:
    """Recompute every item's related list and every near-duplicate mark, in one transaction."""
    report = progress or (lambda phase, done, total: None)
    with session_factory() as session:
        total = repo.count_related_items(session)
        report("read", 0, total)
        docs: list[Doc] = []
        for text in repo.iter_item_texts(session):
            docs.append(to_doc(text))
            if len(docs) % 5000 == 0:
                report("read", len(docs), total)
        report("read", len(docs), total)
        lists, dup_of = compute_related(docs, cfg.related.limit, cfg.related.min_score,
                                        repo.site_link_pairs(session), repo.coappearance_counts(session), report)
        report("write", 0, len(lists))
        repo.clear_computed_links(session)
        repo.clear_duplicates(session)
        repo.mark_duplicates(session, dup_of)
        ids = sorted(lists)
        step = 5000
        for start in range(0, len(ids), step):
            part = ids[start : start + step]
            repo.replace_computed_links_many(session, {i: lists[i] for i in part if lists[i]}, at)
            report("write", min(start + step, len(ids)), len(ids))
        session.commit()
    return RelatedStats(items=len(docs), linked=sum(1 for v in lists.values() if v),
                        links=sum(len(v) for v in lists.values()), duplicates=len(dup_of))
