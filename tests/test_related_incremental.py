"""Quality through the incremental path: the labelled corpus arrives crawl by crawl, each followed by
`refresh_related` (stored signatures, sampled idf), and the stored lists still meet the issue's targets."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedsvc import store as repository
from feedsvc.config import parse_config
from feedsvc.models import Item
from feedsvc.records import ItemRecord
from feedsvc.related.refresh import refresh_related
from feedsvc.store import related as related_repo
from tests.related_corpus import build_corpus

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
CFG = parse_config({"sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"],
                                 "listings": [{"id": "latest", "heading": "最新"}]}]})
CORPUS = build_corpus(sentences=3, boilerplate=2)
CRAWL = 12


def test_crawl_by_crawl_refreshes_keep_precision_and_catch_every_near_duplicate(session: Session) -> None:
    items = list(CORPUS.items)
    random.Random(3).shuffle(items)  # arrival order mixes categories, and reposts may come before originals
    repository.sync_sources(session, CFG.sources, T0)
    url_of = {it.doc.id: f"http://gw/{it.doc.id}" for it in items}
    for n in range(0, len(items), CRAWL):
        at = T0 + timedelta(hours=n)
        records = [ItemRecord(source_id="gw", url=url_of[it.doc.id], title=it.doc.title, content=it.doc.text,
                              is_article=True, listing_id="latest", listing_kind="latest", rank=k)
                   for k, it in enumerate(items[n : n + CRAWL], start=1)]
        new_ids = repository.store_items(session, records, None, at).new_item_ids
        refresh_related(session, new_ids, CFG, at)
        session.commit()
    db_id = dict(session.execute(select(Item.url, Item.id)).all())
    corpus_id = {db_id[url]: doc_id for doc_id, url in url_of.items()}
    label = {it.doc.id: it for it in items}
    duplicate_of = {corpus_id[i]: corpus_id[o] for i, o in session.execute(
        select(Item.id, Item.duplicate_of).where(Item.duplicate_of.is_not(None)))}
    pairs = {frozenset(p) for p in CORPUS.duplicate_pairs}
    assert {frozenset(p) for p in duplicate_of.items()} == pairs  # every pair caught, nothing else
    hits: dict[str, list[float]] = {"zh": [], "en": []}
    for doc_id, it in label.items():
        shown = [corpus_id[i.id] for i, _ in related_repo.related_items(session, db_id[url_of[doc_id]], 5)]
        assert not any(frozenset((doc_id, s)) in pairs for s in shown)
        if doc_id in duplicate_of or len(shown) < 5:
            continue
        hits[it.lang].append(sum(label[s].category == it.category for s in shown) / 5)
    precision = {lang: sum(v) / len(v) for lang, v in hits.items()}
    assert min(len(v) for v in hits.values()) >= 40, {k: len(v) for k, v in hits.items()}
    assert precision["zh"] >= 0.8 and precision["en"] >= 0.8, precision
