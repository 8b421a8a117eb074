"""Relatedness against the store: read items, score with the pure modules of feedsvc/related/, store links.

`refresh_related` runs after every crawl for the new items (and updates the lists of the items they now
relate to); `rebuild_related` recomputes everything. Both mark near-duplicates (`items.duplicate_of` = the
earlier item) and never store a near-duplicate as related. Datetimes passed in are timezone-aware UTC.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import scipy.sparse as sp
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import AppConfig
from feedsvc.related.boilerplate import remove_boilerplate
from feedsvc.related.docs import Doc, Scored, to_doc
from feedsvc.related.duplicates import assign_duplicates
from feedsvc.related.index import SLACK, Prior, RelatedIndex
from feedsvc.related.postings import COLLECTION_KEY, candidates, term_rows
from feedsvc.related.scoring import EXTRA_CANDIDATES, LinkColumns, Progress, compute_related, related_list
from feedsvc.related.signatures import release_memory, small_pages
from feedsvc.store.db import session_without_fk_checks
from feedsvc.store.items import count_items
from feedsvc.store.related import (
    ItemText,
    add_terms,
    clear_duplicates,
    coappearance_counts,
    computed_links,
    item_texts,
    iter_item_texts,
    live_items,
    mark_duplicates,
    missing_items,
    recent_item_texts,
    replace_computed_links_many,
    replace_terms,
    rewrite_computed_links,
    site_link_pairs,
    term_df,
    term_postings,
)

# Site boilerplate is learned from a crawl's new items plus the newest this-many stored items of each of their
# sites (a segment must recur in max(5, 10%) of a site's documents: feedsvc/related/boilerplate.py).
BOILERPLATE_SAMPLE = 50
# Candidates ranked by score per new item before the stored ones are checked (still there, not duplicates):
# a few times what a list needs, so items merged away or hidden since their postings were written leave
# enough behind.
CANDIDATE_FACTOR = 3
# A rebuild turns stored rows into texts in this many worker processes at most (one per core): pure CPU on
# independent batches. Forked as the first rows arrive, so each starts small (~100 MB at 100,000 items).
REBUILD_PROCESSES = 4
# Stored rows per batch a worker turns into texts; at most two batches per worker wait, bounding the rows held.
READ_BATCH = 2500


@dataclass(frozen=True, slots=True)
class RelatedStats:
    items: int = 0
    linked: int = 0
    links: int = 0
    duplicates: int = 0
    refreshed: int = 0


def _boilerplate_sample(session: Session, docs: list[Doc], skip: set[int]) -> list[Doc]:
    sample: list[Doc] = []
    for source in sorted({d.source for d in docs}):
        sample += [to_doc(t) for t in recent_item_texts(session, BOILERPLATE_SAMPLE + len(skip), source_id=source)
                   if t.id not in skip][:BOILERPLATE_SAMPLE]
    return sample


def refresh_related(session: Session, new_item_ids: Sequence[int], cfg: AppConfig, at: datetime) -> RelatedStats:
    """Relate the new items to the stored ones, mark their near-duplicates, update affected lists.

    Runs in the caller's transaction (the crawler commits afterwards). Items the new ones now relate to
    get them merged into their lists when they score high enough, so those lists stay current too.

    Bounded work, whatever the size of the database: the new items are tokenised and weighted with the
    stored document frequencies of their terms (table `related_terms`); their candidates come from the
    stored postings of their signature terms; texts are read only of the new items, a sample of their
    sites' newest items (boilerplate), and candidates the near-duplicate rules look at. Their counts and
    postings are then added to the stored terms. Reads and writes are a fixed number of statements per
    900 items or terms.
    """
    if not new_item_ids:
        return RelatedStats()
    limit, min_score = cfg.related.limit, cfg.related.min_score
    wanted = set(new_item_ids)
    new_docs = sorted((to_doc(t) for t in item_texts(session, sorted(wanted)) if t.duplicate_of is None),
                      key=lambda d: (d.order, d.id))
    if not new_docs:
        return RelatedStats()
    docs = new_docs + _boilerplate_sample(session, new_docs, wanted)
    boilerplate = remove_boilerplate(docs)
    new_docs = docs[: len(new_docs)]
    known = {d.id: d for d in new_docs}
    stored_items = term_df(session, [COLLECTION_KEY]).get(COLLECTION_KEY, 0)
    index = RelatedIndex(new_docs, prior=Prior(lambda keys: term_df(session, keys), stored_items),
                         shared_slots=True)
    signature_keys = index.keys[np.unique(index.matrix.indices)]
    stored_ids, stored_rows = candidates(index, term_postings(session, signature_keys.tolist()), wanted)

    # The best few candidates of each new item, then only those still live (not merged away, not hidden).
    scores = sp.csr_matrix(index.matrix @ stored_rows.T)
    keep = CANDIDATE_FACTOR * (limit + EXTRA_CANDIDATES + SLACK)
    picked: list[np.ndarray] = []
    for row in range(scores.shape[0]):
        lo, hi = scores.indptr[row], scores.indptr[row + 1]
        cols, values = scores.indices[lo:hi], scores.data[lo:hi]
        picked.append(cols if len(cols) <= keep else cols[np.argpartition(-values, keep)[:keep]])
    chosen = np.unique(np.concatenate(picked)) if picked else np.zeros(0, np.int64)
    live = live_items(session, stored_ids[chosen].tolist())
    chosen = np.asarray([c for c in chosen.tolist() if int(stored_ids[c]) in live], dtype=np.int64)
    ids = np.concatenate((stored_ids[chosen], index.ids))
    has_text = np.concatenate((np.fromiter((live[int(i)] for i in stored_ids[chosen]), dtype=bool,
                                           count=len(chosen)),
                               np.fromiter((index.has_text(r) for r in range(len(index))), dtype=bool,
                                           count=len(index))))
    # One shared placeholder for stored candidates: only those the near-duplicate rules read get a Doc.
    placeholder = Doc(0, "")
    ranking = RelatedIndex.from_matrix(ids, [placeholder] * len(chosen) + new_docs, has_text, index.keys,
                                       sp.csr_matrix(sp.vstack([stored_rows[chosen], index.matrix])))

    def resolve(rows: np.ndarray) -> None:
        """Read the texts of the candidates the near-duplicate rules will look at."""
        missing = {int(ranking.ids[r]): int(r) for r in rows.tolist() if int(ranking.ids[r]) not in known}
        texts = [to_doc(text) for text in item_texts(session, sorted(missing))]
        boilerplate.strip_docs(texts)
        for doc in texts:
            known[doc.id] = ranking.docs[missing[doc.id]] = doc

    site_pairs = site_link_pairs(session, [d.id for d in new_docs])
    coappear = coappearance_counts(session, [d.id for d in new_docs])
    found: dict[int, list[Scored]] = {}
    dups: dict[int, list[Scored]] = {}
    for doc, rel, dup in ranking.neighbours_of(range(len(chosen), len(ids)), limit + EXTRA_CANDIDATES,
                                               min_score, resolve=resolve):
        found[doc.id], dups[doc.id] = rel, dup
    dup_of = assign_duplicates(known, dups)
    hidden = set(dup_of)

    lists = {doc.id: related_list(doc.id, found[doc.id], limit, hidden, site_pairs, coappear)
             for doc in new_docs if doc.id not in hidden}
    # Merge each new item into the lists of the items it relates to (cosine is symmetric).
    incoming: dict[int, list[tuple[int, float]]] = {}
    for from_id, scored in lists.items():
        for to_id, score in scored:
            if to_id not in wanted:
                incoming.setdefault(to_id, []).append((from_id, score))
    current = computed_links(session, sorted(incoming))
    refreshed: dict[int, list[tuple[int, float]]] = {}
    for to_id, additions in incoming.items():
        merged = {i: s for i, s in current.get(to_id, []) if i not in hidden}
        for from_id, score in additions:
            merged[from_id] = max(score, merged.get(from_id, 0.0))
        best = sorted(merged.items(), key=lambda p: (-p[1], p[0]))[:limit]
        if best != current.get(to_id, []):
            refreshed[to_id] = best

    mark_duplicates(session, dup_of)
    replace_computed_links_many(session, {**refreshed, **lists}, at)
    # Every new item counts in df; only those not hidden as near-duplicates can be found through postings.
    add_terms(session, list(term_rows(index, [r for r in range(len(index.ids)) if int(index.ids[r]) not in hidden])))
    return RelatedStats(items=len(new_docs), linked=sum(1 for v in lists.values() if v),
                        links=sum(len(v) for v in lists.values()), duplicates=len(dup_of),
                        refreshed=len(refreshed))


@dataclass(slots=True)
class _Written:
    """What went by on its way to the store: the lists are made as they are written, and not kept."""

    linked: int = 0
    links: int = 0

    def chunks(self, parts: Iterator[LinkColumns], items: int, report: Progress,
               per_part: int) -> Iterator[tuple[list[int], list[int], list[float], list[int]]]:
        """The parts as plain values for the store (`per_part` items each), counted, "write" progress after each."""
        for done, part in enumerate(parts, start=1):
            self.linked += int(np.count_nonzero(part.ranks == 1))
            self.links += len(part.ranks)
            yield part.from_ids.tolist(), part.to_ids.tolist(), part.scores.tolist(), part.ranks.tolist()
            report("write", min(items, done * per_part), items)


def _to_docs(texts: list[ItemText]) -> list[Doc]:
    return [to_doc(t) for t in texts]


def _read_docs(session: Session, report: Progress) -> list[Doc]:
    """Every stored item as a Doc, oldest first. Rows become texts (markup stripped: most of this step's CPU)
    in worker processes while this one reads on; they exit before the index is built."""
    total = count_items(session)
    report("read", 0, total)
    docs: list[Doc] = []
    pending: deque[Future[list[Doc]]] = deque()
    workers = min(REBUILD_PROCESSES, os.cpu_count() or 1)
    parallel = workers > 1 and total > READ_BATCH  # a small database is read before workers would start
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) if parallel else None

    def collect(wait_for: int) -> None:
        while len(pending) > wait_for:
            docs.extend(pending.popleft().result())
            report("read", len(docs), total)

    def convert(batch: list[ItemText]) -> None:
        if pool is None:
            docs.extend(_to_docs(batch))
            report("read", len(docs), total)
        else:
            pending.append(pool.submit(_to_docs, batch))
            collect(2 * workers)

    try:
        batch: list[ItemText] = []
        for text in iter_item_texts(session):
            batch.append(text)
            if len(batch) == READ_BATCH:
                convert(batch)
                batch = []
        convert(batch)
        collect(0)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return docs


@small_pages()  # its arrays are short-lived, the terms' too: see small_pages
def rebuild_related(session_factory: sessionmaker[Session], cfg: AppConfig, at: datetime,
                    progress: Progress | None = None) -> RelatedStats:
    """Recompute every item's related list and every near-duplicate mark, in one transaction. Items deleted while
    it runs are left out of what it writes."""
    report = progress or (lambda phase, done, total: None)
    # SQLite's foreign-key checks are off for the rebuild's connection: the ids written are checked once below.
    with session_without_fk_checks(session_factory) as session:
        docs = _read_docs(session, report)
        indexes: list[RelatedIndex] = []

        def reload(ids: list[int]) -> list[Doc]:
            return _to_docs(item_texts(session, ids))

        # `docs` gives up its texts as they are tokenised: only those the near-duplicate rules read are
        # read again (a few percent of the items).
        lists, dup_of = compute_related(docs, cfg.related.limit, cfg.related.min_score,
                                        site_link_pairs(session), coappearance_counts(session), report,
                                        on_index=indexes.append, reload=reload)
        report("write", 0, len(lists))
        index = indexes[0]
        clear_duplicates(session)
        # That first write took SQLite's write lock: no other connection deletes an item until the commit, so
        # the items still stored now are those stored at the commit, and only links and marks between them
        # are written (what the foreign keys would otherwise have checked, row by row).
        gone = missing_items(session, index.ids.tolist())
        dup_of = {dup: original for dup, original in dup_of.items() if dup not in gone and original not in gone}
        mark_duplicates(session, dup_of)
        written, per_part = _Written(), 50_000
        rewrite_computed_links(session, written.chunks(lists.columns(gone, per_part), len(lists), report, per_part),
                               at)
        stats = RelatedStats(items=len(docs), linked=written.linked, links=written.links, duplicates=len(dup_of))
        # Texts and lists are done with: freed before the terms are packed, the rebuild's last peak of memory.
        index.docs = []
        del docs, lists
        release_memory()
        # Every term's df and postings again, with this rebuild's idf: later refreshes weight and find with them.
        hidden = np.isin(index.ids, np.fromiter(dup_of, dtype=np.int64, count=len(dup_of)))
        replace_terms(session, term_rows(index, np.flatnonzero(~hidden).tolist()))
        session.commit()
    return stats
