"""feedsvc/related/refresh.py through the real database (SQLite and PostgreSQL): the post-crawl refresh, the
rebuild, near-duplicate marks, bounded reads, stored terms (df and postings), and cached feeds invalidated by both."""

from __future__ import annotations

import random
from datetime import timedelta

import feedparser
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from feedsvc.http.app import create_app
from feedsvc.models import Item, RelatedLink
from feedsvc.related.refresh import rebuild_related, refresh_related
from feedsvc.store.items import ItemRecord, store_items
from feedsvc.store.meta import data_version
from feedsvc.store.related import ItemText, computed_links, inline_related, item_texts, related_items
from feedsvc.store.sources import sync_sources
from tests.support.related import ARTICLES, CFG, FLOOD, FOOTBALL, PARTY, T0, TAX, store_articles, url_ids
from tests.support.related_corpus import build_corpus

LABELLED = build_corpus(sentences=3, boilerplate=2)
CRAWL = 12  # items per crawl when the labelled corpus arrives crawl by crawl

def test_refresh_links_new_items_and_reads_come_back(session: Session) -> None:
    new_ids = store_articles(session, ARTICLES, T0)
    stats = refresh_related(session, new_ids, CFG, T0)
    session.commit()
    ids = url_ids(session)
    assert stats.items == len(ARTICLES) and stats.duplicates == 0
    related = related_items(session, ids["http://gw/p1"], 3)
    assert related and related[0][0].url == "http://gw/p2"
    assert all(0 < score <= 1 for _item, score in related)
    assert ids["http://gw/p1"] not in {item.id for item, _ in related}
    en = related_items(session, ids["http://gw/en/tax1"], 3)
    assert en[0][0].url == "http://gw/en/tax2"
    inline = inline_related(session, [ids["http://gw/f1"], ids["http://gw/en/tax2"]], 1)
    assert [i.url for i in inline[ids["http://gw/f1"]]] == ["http://gw/f2"]
    assert [i.url for i in inline[ids["http://gw/en/tax2"]]] == ["http://gw/en/tax1"]


def test_refresh_updates_older_items_and_marks_near_duplicates(session: Session) -> None:
    new_ids = store_articles(session, ARTICLES, T0)
    refresh_related(session, new_ids, CFG, T0)
    session.commit()
    later = T0 + timedelta(hours=6)
    more = [("http://gw/f3", "防汛抢险物资储备检查通报", FLOOD[20:] + "抢险物资储备检查。"),
            ("http://mirror/p1?from=x", "2024年第一党支部党员大会会议记录（转载）", PARTY)]
    new_ids = store_articles(session, more, later)
    stats = refresh_related(session, new_ids, CFG, later)
    session.commit()
    ids = url_ids(session)
    assert stats.duplicates == 1
    dup = session.get(Item, ids["http://mirror/p1?from=x"])
    assert dup is not None and dup.duplicate_of == ids["http://gw/p1"]
    # The older flood item now lists the new one; nobody lists the duplicate, and it lists nobody.
    assert "http://gw/f3" in {i.url for i, _ in related_items(session, ids["http://gw/f1"], 5)}
    to_dup = select(func.count()).select_from(RelatedLink).where(
        RelatedLink.origin == "computed",
        (RelatedLink.to_item_id == dup.id) | (RelatedLink.from_item_id == dup.id))
    assert session.scalar(to_dup) == 0
    # Asking for the duplicate shows its original's list, which excludes both of them.
    shown = {i.id for i, _ in related_items(session, dup.id, 5)}
    assert shown and dup.id not in shown and ids["http://gw/p1"] not in shown


def _all_lists(session: Session) -> dict[int, list[tuple[int, float]]]:
    return computed_links(session, list(url_ids(session).values()))


def test_rebuild_matches_incremental_and_is_repeatable(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        first_ids = store_articles(session, ARTICLES, T0)
        refresh_related(session, first_ids, CFG, T0)
        session.commit()
        later_ids = store_articles(session, [("http://mirror/tax1", "Tax reform for small businesses!", TAX)],
                           T0 + timedelta(hours=1))
        refresh_related(session, later_ids, CFG, T0 + timedelta(hours=1))
        session.commit()
        incremental = _all_lists(session)
    first = rebuild_related(session_factory, CFG, T0 + timedelta(hours=2))
    second = rebuild_related(session_factory, CFG, T0 + timedelta(hours=3))
    assert first == second and first.duplicates == 1 and first.items == len(ARTICLES) + 1
    with session_factory() as session:
        rebuilt = _all_lists(session)
        # Same items in the same order whichever way the lists were made; scores drift a little, since
        # lists made before the last crawl were scored with the idf of a smaller collection, and a signature's
        # slots go to the terms other items held then (feedsvc/related/index.py FULL_NORM).
        assert {k: [i for i, _ in v] for k, v in rebuilt.items()} == {k: [i for i, _ in v] for k, v in incremental.items()}
        drift = max(abs(a[1] - b[1]) for k in rebuilt for a, b in zip(rebuilt[k], incremental[k], strict=True))
        assert drift < 0.06, drift
        ids = url_ids(session)
        dup = session.get(Item, ids["http://mirror/tax1"])
        assert dup is not None and dup.duplicate_of == ids["http://gw/en/tax1"]
        top = related_items(session, ids["http://gw/en/tax1"], 5)
        assert top[0][0].url == "http://gw/en/tax2"
        assert "http://mirror/tax1" not in {i.url for i, _ in top}


def test_rebuild_reads_texts_in_worker_processes_with_the_same_result(session_factory: sessionmaker[Session],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from feedsvc.related import refresh

    with session_factory() as session:
        store_articles(session, ARTICLES, T0)
        session.commit()
    alone = rebuild_related(session_factory, CFG, T0 + timedelta(hours=1))
    with session_factory() as session:
        lists = _all_lists(session)
    monkeypatch.setattr(refresh, "READ_BATCH", 3)  # several batches, so worker processes read them
    monkeypatch.setattr(refresh.os, "cpu_count", lambda: 2)
    assert rebuild_related(session_factory, CFG, T0 + timedelta(hours=2)) == alone
    with session_factory() as session:
        assert _all_lists(session) == lists


def test_rebuild_leaves_out_items_deleted_between_its_read_and_its_write(session_factory: sessionmaker[Session]
                                                                       ) -> None:
    """SQLite writes the rebuild's links unchecked (feedsvc/store/db.py session_without_fk_checks): an item deleted
    after the rebuild read it is neither linked to nor marked as an original, and nothing dangles."""
    with session_factory() as session:
        store_articles(session, ARTICLES, T0)
        store_articles(session, [("http://mirror/tax1", "Tax reform for small businesses!", TAX)], T0 + timedelta(hours=1))
        ids = url_ids(session)
    assert rebuild_related(session_factory, CFG, T0 + timedelta(hours=2)).duplicates == 1
    deleted = {ids["http://gw/p2"], ids["http://gw/en/tax1"]}  # p1's best match; the original of mirror/tax1

    def delete_them(phase: str, done: int, _total: int) -> None:
        if phase == "write" and done == 0:  # everything is read and scored; nothing is written yet
            with session_factory() as other:
                other.execute(delete(Item).where(Item.id.in_(deleted)))
                other.commit()

    stats = rebuild_related(session_factory, CFG, T0 + timedelta(hours=3), progress=delete_them)
    assert stats.duplicates == 0
    with session_factory() as session:
        links = session.execute(select(RelatedLink.from_item_id, RelatedLink.to_item_id)
                                .where(RelatedLink.origin == "computed")).all()
        assert links and not deleted & {i for pair in links for i in pair}
        assert (ids["http://gw/f1"], ids["http://gw/f2"]) in links  # lists not touching them are written
        stored = set(session.scalars(select(Item.id)))
        assert {a for a, _ in links} | {b for _, b in links} <= stored
        assert session.scalar(select(Item.duplicate_of).where(Item.id == ids["http://mirror/tax1"])) is None
        if session.get_bind().dialect.name == "sqlite":
            assert session.connection().exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert session.connection().exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_refresh_issues_the_same_few_queries_for_few_or_many_new_items(
        session_factory: sessionmaker[Session]) -> None:
    """No per-item statements: relating 40 new items costs the same round trips as relating 3."""
    from sqlalchemy import event

    texts = [PARTY, FLOOD, TAX, FOOTBALL]
    counted: list[int] = []
    statements: list[str] = []
    with session_factory() as session:
        store_articles(session, ARTICLES, T0)
        rebuild_related(session_factory, CFG, T0)
        for n, count in enumerate((3, 40)):
            rows = [(f"http://gw/new{n}/{k}", f"新文稿 {n} {k} {texts[k % 4][:8]}", texts[k % 4][k % 7:] + f" {k}")
                    for k in range(count)]
            new_ids = store_articles(session, rows, T0 + timedelta(hours=n + 1))
            statements.clear()
            engine = session.get_bind()
            listen = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(engine, "before_cursor_execute", listen)
            try:
                stats = refresh_related(session, new_ids, CFG, T0 + timedelta(hours=n + 1))
            finally:
                event.remove(engine, "before_cursor_execute", listen)
            session.commit()
            assert stats.items == count
            counted.append(len(statements))
    assert counted[0] == counted[1] and counted[1] <= 20, counted


def test_refresh_compares_new_items_with_stored_terms(session_factory: sessionmaker[Session],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """After a rebuild every term has its df and postings stored; a refresh reads texts only of its new items
    (and of near-duplicate suspects), not of stored ones, finds candidates through the stored postings, and
    adds the new items' counts and postings."""
    from sqlalchemy import update

    from feedsvc.related import refresh as recommend
    from feedsvc.related.postings import COLLECTION_KEY, unpack
    from feedsvc.store.related import term_df, term_postings

    with session_factory() as session:
        store_articles(session, ARTICLES, T0)
    rebuild_related(session_factory, CFG, T0)
    read: list[int] = []

    def spy(session: Session, item_ids: list[int]) -> list[ItemText]:
        read.extend(item_ids)
        return item_texts(session, item_ids)

    monkeypatch.setattr(recommend, "item_texts", spy)
    monkeypatch.setattr(recommend, "BOILERPLATE_SAMPLE", 0)
    with session_factory() as session:
        ids = url_ids(session)
        assert term_df(session, [COLLECTION_KEY]) == {COLLECTION_KEY: len(ARTICLES)}
        # The stored text of f1 changes; its stored postings (flood) are what the refresh compares with.
        session.execute(update(Item).where(Item.id == ids["http://gw/f1"]).values(
            title="Club wins the cup", summary=FOOTBALL, content=FOOTBALL))
        new_ids = store_articles(session, [("http://gw/f3", "防汛抢险物资储备检查通报", FLOOD[20:] + "抢险物资储备检查。")],
                         T0 + timedelta(hours=1))
        refresh_related(session, new_ids, CFG, T0 + timedelta(hours=1))
        session.commit()
        # Texts read: the new item's, and at most the two flood items' (near-duplicate suspects: f3's text is
        # mostly a part of theirs), never the others'.
        assert read[: len(new_ids)] == new_ids
        assert set(read) - set(new_ids) <= {ids["http://gw/f1"], ids["http://gw/f2"]}
        listed = [i.url for i, _ in related_items(session, new_ids[0], 5)]
        assert listed[:2] == ["http://gw/f2", "http://gw/f1"] or listed[:2] == ["http://gw/f1", "http://gw/f2"]
        assert term_df(session, [COLLECTION_KEY]) == {COLLECTION_KEY: len(ARTICLES) + 1}
        flood = 0x9632 << 16 | 0x6C5B  # the bigram 防汛
        posted = {int(i) for i in unpack(term_postings(session, [flood])[flood])[0]}
        assert {new_ids[0], ids["http://gw/f1"], ids["http://gw/f2"]} <= posted


def test_crawl_by_crawl_refreshes_keep_precision_and_catch_every_near_duplicate(session: Session) -> None:
    items = list(LABELLED.items)
    random.Random(3).shuffle(items)  # arrival order mixes categories, and reposts may come before originals
    sync_sources(session, CFG.sources, T0)
    url_of = {it.doc.id: f"http://gw/{it.doc.id}" for it in items}
    for n in range(0, len(items), CRAWL):
        at = T0 + timedelta(hours=n)
        records = [ItemRecord(source_id="gw", url=url_of[it.doc.id], title=it.doc.title, content=it.doc.text,
                              is_article=True, listing_id="latest", listing_kind="latest", rank=k)
                   for k, it in enumerate(items[n : n + CRAWL], start=1)]
        new_ids = store_items(session, records, None, at).new_item_ids
        refresh_related(session, new_ids, CFG, at)
        session.commit()
    db_id = dict(session.execute(select(Item.url, Item.id)).all())
    corpus_id = {db_id[url]: doc_id for doc_id, url in url_of.items()}
    label = {it.doc.id: it for it in items}
    duplicate_of = {corpus_id[i]: corpus_id[o] for i, o in session.execute(
        select(Item.id, Item.duplicate_of).where(Item.duplicate_of.is_not(None)))}
    pairs = {frozenset(p) for p in LABELLED.duplicate_pairs}
    assert {frozenset(p) for p in duplicate_of.items()} == pairs  # every pair caught, nothing else
    hits: dict[str, list[float]] = {"zh": [], "en": []}
    for doc_id, it in label.items():
        shown = [corpus_id[i.id] for i, _ in related_items(session, db_id[url_of[doc_id]], 5)]
        assert not any(frozenset((doc_id, s)) in pairs for s in shown)
        if doc_id in duplicate_of or len(shown) < 5:
            continue
        hits[it.lang].append(sum(label[s].category == it.category for s in shown) / 5)
    precision = {lang: sum(v) / len(v) for lang, v in hits.items()}
    assert min(len(v) for v in hits.values()) >= 40, {k: len(v) for k, v in hits.items()}
    assert precision["zh"] >= 0.8 and precision["en"] >= 0.8, precision


def test_refresh_and_rebuild_invalidate_cached_feeds(tmp_path: pytest.TempPathFactory) -> None:
    """Related lists show in every entry: a refresh or a rebuild must make cached feeds stale (data_version)."""
    from feedsvc.store import Store

    cfg = CFG.model_copy(update={"database": CFG.database.model_copy(update={"url": f"sqlite:///{tmp_path}/f.db"})})
    store = Store.open(cfg.database.url)
    engine, factory = store.engine, store.session_factory
    try:
        with factory() as session:
            store_articles(session, ARTICLES, T0)
        with TestClient(create_app(cfg, check_interval=0)) as client:
            before = client.get("/feeds/new.atom")
            assert before.status_code == 200
            assert client.get("/feeds/new.atom", headers={"If-None-Match": before.headers["etag"]}).status_code == 304
            with factory() as session:
                version = data_version(session)
            rebuild_related(factory, cfg, T0 + timedelta(hours=1))
            with factory() as session:
                assert data_version(session) > version
            after = client.get("/feeds/new.atom", headers={"If-None-Match": before.headers["etag"]})
            assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
            entry = next(e for e in feedparser.parse(after.content).entries if e.link == "http://gw/p1")
            assert "http://gw/p2" in entry.content[0].value  # its "Related" list is there now
            with factory() as session:  # a crawl's refresh too, in the crawler's own transaction
                new_ids = store_articles(session, [("http://gw/f9", "防汛物资检查", FLOOD[5:])], T0 + timedelta(hours=2))
                version = data_version(session)
                refresh_related(session, new_ids, cfg, T0 + timedelta(hours=2))
                session.commit()
                assert data_version(session) > version
    finally:
        engine.dispose()

