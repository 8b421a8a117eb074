"""feedsvc/store/related.py on SQLite and PostgreSQL: related reads, the site-link fallback, co-appearance counts,
and the data_version bump of every write that changes what feeds show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from feedsvc.config import parse_config
from feedsvc.errors import StorageError
from feedsvc.models import Item
from feedsvc.store.items import ItemRecord, store_items
from feedsvc.store.meta import data_version
from feedsvc.store.related import (
    add_terms,
    clear_duplicates,
    coappearance_counts,
    computed_links,
    inline_related,
    live_items,
    mark_duplicates,
    missing_items,
    related_items,
    replace_computed_links_many,
    replace_terms,
    rewrite_computed_links,
    term_df,
    term_postings,
)
from feedsvc.store.runs import start_run
from feedsvc.store.sources import sync_sources
from tests.support.related import ARTICLES, T0, store_articles, url_ids


def test_site_links_are_the_fallback_until_something_is_computed(session: Session) -> None:
    store_articles(session, ARTICLES[:3], T0)
    site = ItemRecord(source_id="gw", url="http://gw/f1", title="防汛工作部署会议讲话", listing_id="more",
                      listing_kind="related", rank=1, related_from="http://gw/p1")
    store_items(session, [site], None, T0)
    session.commit()
    ids = url_ids(session)
    assert related_items(session, ids["http://gw/p1"], 5) == [
        (session.get(Item, ids["http://gw/f1"]), 0.0)]
    assert inline_related(session, [ids["http://gw/p1"]], 3) == {}


def test_coappearance_in_curated_listings_counts_and_latest_does_not(session: Session) -> None:
    cfg = parse_config({"sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"], "listings": [
        {"id": "tj", "heading": "推荐文稿", "kind": "recommended"}, {"id": "latest", "heading": "最新"}]}]})
    sync_sources(session, cfg.sources, T0)
    for hours in (0, 1):
        run_id = start_run(session, "gw", T0 + timedelta(hours=hours))
        records = [ItemRecord(source_id="gw", url=f"http://gw/{n}", title=f"t{n}", listing_id=listing,
                              listing_kind=kind, rank=n)
                   for listing, kind, urls in (("tj", "recommended", (1, 2)), ("latest", "latest", (3, 4)))
                   for n in urls]
        store_items(session, records, run_id, T0 + timedelta(hours=hours))
    session.commit()
    ids = url_ids(session)
    a, b = sorted((ids["http://gw/1"], ids["http://gw/2"]))
    counts = coappearance_counts(session)
    assert counts == {(a, b): 2}
    assert coappearance_counts(session, [ids["http://gw/3"]]) == {}


def test_coappearance_for_new_items_matches_the_full_count(session: Session) -> None:
    """The bounded query (pairs touching some items) agrees with the full count, pair by pair."""
    cfg = parse_config({"sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"], "listings": [
        {"id": "tj", "heading": "推荐文稿", "kind": "recommended"}, {"id": "hot", "heading": "排行", "kind": "ranking"},
        {"id": "latest", "heading": "最新"}]}]})
    sync_sources(session, cfg.sources, T0)
    # Run 0: 1,2,3 recommended; run 1: 1,2 recommended and 1,2,4 ranked (a pair counts once per run);
    # run 2: 3,5 in 'latest' only.
    plan = [[("tj", "recommended", (1, 2, 3))], [("tj", "recommended", (1, 2)), ("hot", "ranking", (1, 2, 4))],
            [("latest", "latest", (3, 5))]]
    for hours, listings in enumerate(plan):
        run_id = start_run(session, "gw", T0 + timedelta(hours=hours))
        records = [ItemRecord(source_id="gw", url=f"http://gw/{n}", title=f"t{n}", listing_id=listing,
                              listing_kind=kind, rank=n) for listing, kind, urls in listings for n in urls]
        store_items(session, records, run_id, T0 + timedelta(hours=hours))
    session.commit()
    ids = {int(url.rsplit("/", 1)[1]): i for url, i in url_ids(session).items()}
    full = coappearance_counts(session)
    pair = lambda x, y: (min(ids[x], ids[y]), max(ids[x], ids[y]))  # noqa: E731
    assert full == {pair(1, 2): 2, pair(1, 3): 1, pair(2, 3): 1, pair(1, 4): 1, pair(2, 4): 1}
    for chosen in ([1], [3], [4, 2], [5], [1, 2, 3, 4, 5]):
        wanted = {ids[n] for n in chosen}
        assert coappearance_counts(session, [ids[n] for n in chosen]) == {
            k: v for k, v in full.items() if wanted & set(k)}, chosen




def test_writes_that_change_feeds_bump_the_data_version(session: Session) -> None:
    new_ids = store_articles(session, ARTICLES[:3], T0)
    version = data_version(session)
    replace_computed_links_many(session, {}, T0)
    mark_duplicates(session, {})
    assert data_version(session) == version  # nothing written, nothing to invalidate
    replace_computed_links_many(session, {new_ids[0]: [(new_ids[1], 0.5)]}, T0)
    assert data_version(session) == version + 1
    mark_duplicates(session, {new_ids[2]: new_ids[1]})
    rewrite_computed_links(session, [], T0)  # a rebuild that found nothing clears every computed list
    clear_duplicates(session)
    assert data_version(session) == version + 4
    session.commit()


def test_terms_are_replaced_then_added_to_in_the_database(session: Session) -> None:
    """A rebuild replaces every term; a refresh adds df and appends postings (blobs stay bytes on SQLite)."""
    big = (1 << 40) + 5
    replace_terms(session, [(-1, 3, b""), (7, 2, b"\x00\x01"), (big, 1, b"")])
    add_terms(session, [(-1, 1, b""), (7, 1, b"\x02\x00"), (9, 1, b"\xff")])
    add_terms(session, [(9, 1, b"\xfe")])
    session.commit()
    assert term_df(session, [-1, 7, 9, big, 11]) == {-1: 4, 7: 3, 9: 2, big: 1}
    assert term_postings(session, [7, 9, big]) == {7: b"\x00\x01\x02\x00", 9: b"\xff\xfe"}
    replace_terms(session, [(-1, 1, b"")])
    assert term_df(session, [-1, 7]) == {-1: 1}


def test_live_items_leave_out_duplicates_and_missing_ids(session: Session) -> None:
    store_articles(session, ARTICLES[:3], T0)
    session.commit()
    ids = sorted(url_ids(session).values())
    mark_duplicates(session, {ids[1]: ids[0]})
    assert live_items(session, [*ids, 10_000]) == {ids[0]: True, ids[2]: True}


def test_missing_items_are_the_ids_no_longer_stored(session: Session) -> None:
    store_articles(session, ARTICLES[:3], T0)
    ids = sorted(url_ids(session).values())
    assert missing_items(session, [*ids, 10_000, 10_001]) == {10_000, 10_001}
    assert missing_items(session, []) == set()


def test_many_links_and_terms_are_written_whole_across_statements(session: Session) -> None:
    """Rows go many to an INSERT on SQLite (150 links, 300 terms): counts that fill several statements and leave a
    part over come back whole, each link with its rank and score."""
    records = [ItemRecord(source_id="gw", url=f"http://gw/{n}", title=f"t{n}") for n in range(14)]
    store_articles(session, [], T0)
    store_items(session, records, None, T0)
    ids = sorted(url_ids(session).values())
    lists = {a: [(b, 1.0 - 0.01 * rank) for rank, b in enumerate(x for x in ids if x != a)] for a in ids}
    columns = [list(c) for c in zip(*((a, b, score, rank) for a, found in lists.items()
                                      for rank, (b, score) in enumerate(found, start=1)), strict=True)]
    halves = [tuple(c[:100] for c in columns), tuple(c[100:] for c in columns)]  # chunks split inside a list
    rewrite_computed_links(session, halves, T0)  # 14 x 13 = 182 links
    terms = [(key, key % 7 + 1, key.to_bytes(12, "little")) for key in range(1, 702)]
    replace_terms(session, terms)
    session.commit()
    assert computed_links(session, ids) == {a: [(b, pytest.approx(s)) for b, s in v] for a, v in lists.items()}
    assert term_df(session, [t[0] for t in terms]) == {key: df for key, df, _ in terms}
    assert term_postings(session, [t[0] for t in terms]) == {key: blob for key, _, blob in terms}


def test_a_failed_bulk_insert_is_a_storage_error(session: Session) -> None:
    store_articles(session, ARTICLES[:2], T0)
    a, b = sorted(url_ids(session).values())
    with pytest.raises(StorageError, match="rewrite_computed_links"):
        rewrite_computed_links(session, [([a, a], [b, b], [0.5, 0.4], [1, 2])], T0)  # the same link twice
    session.rollback()
