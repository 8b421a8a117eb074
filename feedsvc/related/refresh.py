"""Relatedness against the store: read items, score with the pure modules of feedsvc/related/, store links.

`refresh_related` runs after every crawl for the new items (and updates the lists of the items they now
relate to); `rebuild_related` recomputes everything. Both mark near-duplicates (`items.duplicate_of` = the
earlier item) and never store a near-duplicate as related. Datetimes passed in are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import AppConfig
from feedsvc.related.boilerplate import remove_boilerplate
from feedsvc.related.docs import Doc, Scored, to_doc
from feedsvc.related.duplicates import assign_duplicates
from feedsvc.related.index import MAX_DF_RATIO, MIN_MAX_DF, RelatedIndex
from feedsvc.related.scoring import EXTRA_CANDIDATES, Progress, compute_related, related_list
from feedsvc.related.signatures import index_from_signatures, packed_row, unpack
from feedsvc.store.items import count_items
from feedsvc.store.related import (
    clear_computed_links,
    clear_duplicates,
    coappearance_counts,
    computed_links,
    item_texts,
    iter_item_texts,
    mark_duplicates,
    replace_computed_links_many,
    site_link_pairs,
)
from feedsvc.store.signatures import clear_signatures, recent_signatures, store_signatures

# After a crawl, new items are compared with the stored signatures of the newest this-many items (the whole
# database when smaller): it bounds the work per crawl however large the database grows (reading 50,000
# signatures is about 0.5 s; bench/related_bench.py --db); `feedsvc related --rebuild` relates everything
# with everything.
REFRESH_WINDOW = 50_000
# A crawl's new items are weighted with the idf of themselves plus the newest stored items, up to this many
# documents: tokenising them is a fixed cost of every refresh (2,000 took 0.7 of the 1.9 CPU seconds of a
# one-item refresh into 50,000 items, bench/related_bench.py) and a sample estimates df. Boilerplate is
# learned from the same sample: a site needs max(5, 10%) of its items there (feedsvc/related/boilerplate.py).
IDF_SAMPLE = 500


@dataclass(frozen=True, slots=True)
class RelatedStats:
    items: int = 0
    linked: int = 0
    links: int = 0
    duplicates: int = 0
    refreshed: int = 0


def _sample_max_df(sample: int, total: int) -> int:
    """The index's max_df for the whole collection, scaled to a sample of it (the same share of documents)."""
    full = max(MIN_MAX_DF, int(MAX_DF_RATIO * total))
    return full if sample >= total else max(1, round(full * sample / total))


def refresh_related(session: Session, new_item_ids: Sequence[int], cfg: AppConfig, at: datetime) -> RelatedStats:
    """Relate the new items to the stored ones, mark their near-duplicates, update affected lists.

    Runs in the caller's transaction (the crawler commits afterwards). Items the new ones now relate to
    get them merged into their lists when they score high enough, so those lists stay current too.

    Bounded work: only the new items (and window items that have no signature yet) are tokenised, with
    an idf taken from them plus the newest stored items up to IDF_SAMPLE; they are compared with the
    stored signatures of the newest REFRESH_WINDOW items; candidates' texts are read only where the
    near-duplicate rules need them. Reads and writes are a fixed number of statements per 900 items.
    """
    if not new_item_ids:
        return RelatedStats()
    limit, min_score = cfg.related.limit, cfg.related.min_score
    wanted = set(new_item_ids)
    new_docs = sorted((to_doc(t) for t in item_texts(session, sorted(wanted)) if t.duplicate_of is None),
                      key=lambda d: (d.order, d.id))
    window = [(i, blob) for i, blob in recent_signatures(session, REFRESH_WINDOW) if i not in wanted]
    unsigned = [i for i, blob in window if blob is None]
    sample = [i for i, blob in window[: max(0, IDF_SAMPLE - len(new_docs))] if blob is not None]
    known = {d.id: d for d in new_docs}
    known.update((t.id, to_doc(t)) for t in item_texts(session, unsigned + sample))
    vocab_docs = new_docs + [known[i] for i in unsigned + sample if i in known]
    # Boilerplate as the sample shows it: the newest items are mostly of the sites crawled lately.
    boilerplate = remove_boilerplate(vocab_docs)
    new_docs = vocab_docs[: len(new_docs)]
    known.update((d.id, d) for d in vocab_docs)
    vocab = RelatedIndex(vocab_docs, max_df=_sample_max_df(len(vocab_docs), len(window) + len(new_docs)))
    fresh = {d.id: packed_row(vocab, row) for row, d in enumerate(vocab_docs[: len(new_docs) + len(unsigned)])}
    del vocab
    ids = [i for i, blob in window if blob is not None or i in fresh] + [d.id for d in new_docs]
    blobs = [blob if blob is not None else fresh[i] for i, blob in window if blob is not None or i in fresh]
    # One shared placeholder for the window: only candidates the near-duplicate rules read get a Doc.
    placeholder = Doc(0, "")
    new_blobs = [fresh[d.id] for d in new_docs]
    # Only the new items' terms can score: indexing the window's other terms would be most of the work.
    new_keys = np.concatenate([unpack(b)[0] for b in new_blobs]) if new_blobs else np.zeros(0, np.int64)
    index = index_from_signatures(ids, [known.get(i, placeholder) for i in ids], blobs + new_blobs,
                                  only_keys=new_keys)

    def resolve(rows: np.ndarray) -> None:
        """Read the texts of the candidates the near-duplicate rules will look at."""
        missing = {int(index.ids[r]): int(r) for r in rows.tolist() if int(index.ids[r]) not in known}
        texts = [to_doc(text) for text in item_texts(session, sorted(missing))]
        boilerplate.strip_docs(texts)
        for doc in texts:
            known[doc.id] = index.docs[missing[doc.id]] = doc

    site_pairs = site_link_pairs(session, [d.id for d in new_docs])
    coappear = coappearance_counts(session, [d.id for d in new_docs])
    found: dict[int, list[Scored]] = {}
    dups: dict[int, list[Scored]] = {}
    for doc, rel, dup in index.neighbours_of(range(len(ids) - len(new_docs), len(ids)),
                                             limit + EXTRA_CANDIDATES, min_score, resolve=resolve):
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
    store_signatures(session, fresh)
    return RelatedStats(items=len(new_docs), linked=sum(1 for v in lists.values() if v),
                        links=sum(len(v) for v in lists.values()), duplicates=len(dup_of),
                        refreshed=len(refreshed))


def rebuild_related(session_factory: sessionmaker[Session], cfg: AppConfig, at: datetime,
                    progress: Progress | None = None) -> RelatedStats:
    """Recompute every item's related list and every near-duplicate mark, in one transaction."""
    report = progress or (lambda phase, done, total: None)
    with session_factory() as session:
        total = count_items(session)
        report("read", 0, total)
        docs: list[Doc] = []
        for text in iter_item_texts(session):
            docs.append(to_doc(text))
            if len(docs) % 5000 == 0:
                report("read", len(docs), total)
        report("read", len(docs), total)
        indexes: list[RelatedIndex] = []
        lists, dup_of = compute_related(docs, cfg.related.limit, cfg.related.min_score,
                                        site_link_pairs(session), coappearance_counts(session), report,
                                        on_index=indexes.append)
        report("write", 0, len(lists))
        clear_computed_links(session)
        clear_duplicates(session)
        mark_duplicates(session, dup_of)
        ids = sorted(lists)
        step = 5000
        for start in range(0, len(ids), step):
            part = ids[start : start + step]
            replace_computed_links_many(session, {i: lists[i] for i in part if lists[i]}, at)
            report("write", min(start + step, len(ids)), len(ids))
        # Every signature again, with this rebuild's idf: later refreshes compare new items with them.
        clear_signatures(session)
        index = indexes[0]
        for start in range(0, len(index), step):
            rows = range(start, min(start + step, len(index)))
            store_signatures(session, {int(index.ids[r]): packed_row(index, r) for r in rows},
                                            replace=False)
        session.commit()
    return RelatedStats(items=len(docs), linked=sum(1 for v in lists.values() if v),
                        links=sum(len(v) for v in lists.values()), duplicates=len(dup_of))
