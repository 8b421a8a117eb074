"""Relatedness through the real database (SQLite and PostgreSQL): refresh, rebuild, duplicates, reads, topics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from feedsvc import store as repository
from feedsvc.config import parse_config
from feedsvc.models import Item, RelatedLink
from feedsvc.records import ItemRecord
from feedsvc.related.refresh import rebuild_related, refresh_related
from feedsvc.related.topics import topic_items
from feedsvc.store import related as related_repo

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
CFG = parse_config({
    "sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"],
                 "listings": [{"id": "latest", "heading": "最新"}, {"id": "more", "heading": "您可能感兴趣的文稿",
                                                                  "kind": "related"}]}],
    "topics": [{"id": "party", "title": "党建", "keywords": ["党员"]},
               {"id": "tax", "title": "Tax", "seed_urls": ["http://gw/en/tax1"]}],
})

PARTY = "支部党员大会讨论发展党员工作，党员积极分子培养考察，组织生活会批评与自我批评，三会一课制度落实。"
FLOOD = "防汛抗旱指挥部部署汛期防汛工作，水库堤防巡查值守，山洪地质灾害预警，抢险物资储备到位。"
TAX = "The tax reform cuts income tax rates for small businesses and changes the tax code for deductions."
FOOTBALL = "The football club won the league final after a penalty shootout; the striker scored twice."

ARTICLES = [
    ("http://gw/p1", "2024年第一党支部党员大会会议记录", PARTY),
    ("http://gw/p2", "第二党支部组织生活会发展党员情况", PARTY[10:] + "党员发展对象公示。"),
    ("http://gw/f1", "防汛工作部署会议讲话", FLOOD),
    ("http://gw/f2", "汛期防汛抢险工作方案", FLOOD[8:] + "防汛值班制度。"),
    ("http://gw/en/tax1", "Tax reform for small businesses", TAX),
    ("http://gw/en/tax2", "Income tax rates cut in tax reform", TAX[20:] + " Tax deductions explained."),
    ("http://gw/en/foot1", "Club wins the league final", FOOTBALL),
]


def _article(url: str, title: str, text: str) -> ItemRecord:
    return ItemRecord(source_id="gw", url=url, title=title, summary=text[:60], content=f"<p>{text}</p>",
                      is_article=True, listing_id="latest", listing_kind="latest", rank=1)


def _store(session: Session, rows: list[tuple[str, str, str]], at: datetime) -> list[int]:
    repository.sync_sources(session, CFG.sources, T0)
    result = repository.store_items(session, [_article(*row) for row in rows], None, at)
    session.commit()
    return result.new_item_ids


def _ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Item.url, Item.id)).all())


def test_refresh_links_new_items_and_reads_come_back(session: Session) -> None:
    new_ids = _store(session, ARTICLES, T0)
    stats = refresh_related(session, new_ids, CFG, T0)
    session.commit()
    ids = _ids(session)
    assert stats.items == len(ARTICLES) and stats.duplicates == 0
    related = related_repo.related_items(session, ids["http://gw/p1"], 3)
    assert related and related[0][0].url == "http://gw/p2"
    assert all(0 < score <= 1 for _item, score in related)
    assert ids["http://gw/p1"] not in {item.id for item, _ in related}
    en = related_repo.related_items(session, ids["http://gw/en/tax1"], 3)
    assert en[0][0].url == "http://gw/en/tax2"
    inline = related_repo.inline_related(session, [ids["http://gw/f1"], ids["http://gw/en/tax2"]], 1)
    assert [i.url for i in inline[ids["http://gw/f1"]]] == ["http://gw/f2"]
    assert [i.url for i in inline[ids["http://gw/en/tax2"]]] == ["http://gw/en/tax1"]


def test_refresh_updates_older_items_and_marks_near_duplicates(session: Session) -> None:
    new_ids = _store(session, ARTICLES, T0)
    refresh_related(session, new_ids, CFG, T0)
    session.commit()
    later = T0 + timedelta(hours=6)
    more = [("http://gw/f3", "防汛抢险物资储备检查通报", FLOOD[20:] + "抢险物资储备检查。"),
            ("http://mirror/p1?from=x", "2024年第一党支部党员大会会议记录（转载）", PARTY)]
    new_ids = _store(session, more, later)
    stats = refresh_related(session, new_ids, CFG, later)
    session.commit()
    ids = _ids(session)
    assert stats.duplicates == 1
    dup = session.get(Item, ids["http://mirror/p1?from=x"])
    assert dup is not None and dup.duplicate_of == ids["http://gw/p1"]
    # The older flood item now lists the new one; nobody lists the duplicate, and it lists nobody.
    assert "http://gw/f3" in {i.url for i, _ in related_repo.related_items(session, ids["http://gw/f1"], 5)}
    to_dup = select(func.count()).select_from(RelatedLink).where(
        RelatedLink.origin == "computed",
        (RelatedLink.to_item_id == dup.id) | (RelatedLink.from_item_id == dup.id))
    assert session.scalar(to_dup) == 0
    # Asking for the duplicate shows its original's list, which excludes both of them.
    shown = {i.id for i, _ in related_repo.related_items(session, dup.id, 5)}
    assert shown and dup.id not in shown and ids["http://gw/p1"] not in shown


def test_site_links_are_the_fallback_until_something_is_computed(session: Session) -> None:
    _store(session, ARTICLES[:3], T0)
    site = ItemRecord(source_id="gw", url="http://gw/f1", title="防汛工作部署会议讲话", listing_id="more",
                      listing_kind="related", rank=1, related_from="http://gw/p1")
    repository.store_items(session, [site], None, T0)
    session.commit()
    ids = _ids(session)
    assert related_repo.related_items(session, ids["http://gw/p1"], 5) == [
        (session.get(Item, ids["http://gw/f1"]), 0.0)]
    assert related_repo.inline_related(session, [ids["http://gw/p1"]], 3) == {}


def _all_lists(session: Session) -> dict[int, list[tuple[int, float]]]:
    return related_repo.computed_links(session, list(_ids(session).values()))


def test_rebuild_matches_incremental_and_is_repeatable(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        first_ids = _store(session, ARTICLES, T0)
        refresh_related(session, first_ids, CFG, T0)
        session.commit()
        later_ids = _store(session, [("http://mirror/tax1", "Tax reform for small businesses!", TAX)],
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
        # lists made before the last crawl were scored with the idf of a smaller collection.
        assert {k: [i for i, _ in v] for k, v in rebuilt.items()} == {k: [i for i, _ in v] for k, v in incremental.items()}
        drift = max(abs(a[1] - b[1]) for k in rebuilt for a, b in zip(rebuilt[k], incremental[k], strict=True))
        assert drift < 0.05, drift
        ids = _ids(session)
        dup = session.get(Item, ids["http://mirror/tax1"])
        assert dup is not None and dup.duplicate_of == ids["http://gw/en/tax1"]
        top = related_repo.related_items(session, ids["http://gw/en/tax1"], 5)
        assert top[0][0].url == "http://gw/en/tax2"
        assert "http://mirror/tax1" not in {i.url for i, _ in top}


def test_topic_items_by_keywords_and_by_seed_pages(session: Session) -> None:
    new_ids = _store(session, ARTICLES, T0)
    refresh_related(session, new_ids, CFG, T0)
    session.commit()
    party = topic_items(session, CFG.topics[0], CFG, 10)
    assert {i.url for i, _ in party} == {"http://gw/p1", "http://gw/p2"}
    assert all(score >= CFG.related.topic_threshold for _, score in party)
    tax = topic_items(session, CFG.topics[1], CFG, 10)
    assert [i.url for i, _ in tax] == ["http://gw/en/tax2"]  # the seed page itself is left out


def test_coappearance_in_curated_listings_counts_and_latest_does_not(session: Session) -> None:
    cfg = parse_config({"sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"], "listings": [
        {"id": "tj", "heading": "推荐文稿", "kind": "recommended"}, {"id": "latest", "heading": "最新"}]}]})
    repository.sync_sources(session, cfg.sources, T0)
    for hours in (0, 1):
        run_id = repository.start_run(session, "gw", T0 + timedelta(hours=hours))
        records = [ItemRecord(source_id="gw", url=f"http://gw/{n}", title=f"t{n}", listing_id=listing,
                              listing_kind=kind, rank=n)
                   for listing, kind, urls in (("tj", "recommended", (1, 2)), ("latest", "latest", (3, 4)))
                   for n in urls]
        repository.store_items(session, records, run_id, T0 + timedelta(hours=hours))
    session.commit()
    ids = _ids(session)
    a, b = sorted((ids["http://gw/1"], ids["http://gw/2"]))
    counts = related_repo.coappearance_counts(session)
    assert counts == {(a, b): 2}
    assert related_repo.coappearance_counts(session, [ids["http://gw/3"]]) == {}


def test_coappearance_for_new_items_matches_the_full_count(session: Session) -> None:
    """The bounded query (pairs touching some items) agrees with the full count, pair by pair."""
    cfg = parse_config({"sources": [{"id": "gw", "title": "GW", "start_urls": ["http://127.0.0.1/"], "listings": [
        {"id": "tj", "heading": "推荐文稿", "kind": "recommended"}, {"id": "hot", "heading": "排行", "kind": "ranking"},
        {"id": "latest", "heading": "最新"}]}]})
    repository.sync_sources(session, cfg.sources, T0)
    # Run 0: 1,2,3 recommended; run 1: 1,2 recommended and 1,2,4 ranked (a pair counts once per run);
    # run 2: 3,5 in 'latest' only.
    plan = [[("tj", "recommended", (1, 2, 3))], [("tj", "recommended", (1, 2)), ("hot", "ranking", (1, 2, 4))],
            [("latest", "latest", (3, 5))]]
    for hours, listings in enumerate(plan):
        run_id = repository.start_run(session, "gw", T0 + timedelta(hours=hours))
        records = [ItemRecord(source_id="gw", url=f"http://gw/{n}", title=f"t{n}", listing_id=listing,
                              listing_kind=kind, rank=n) for listing, kind, urls in listings for n in urls]
        repository.store_items(session, records, run_id, T0 + timedelta(hours=hours))
    session.commit()
    ids = {int(url.rsplit("/", 1)[1]): i for url, i in _ids(session).items()}
    full = related_repo.coappearance_counts(session)
    pair = lambda x, y: (min(ids[x], ids[y]), max(ids[x], ids[y]))  # noqa: E731
    assert full == {pair(1, 2): 2, pair(1, 3): 1, pair(2, 3): 1, pair(1, 4): 1, pair(2, 4): 1}
    for chosen in ([1], [3], [4, 2], [5], [1, 2, 3, 4, 5]):
        wanted = {ids[n] for n in chosen}
        assert related_repo.coappearance_counts(session, [ids[n] for n in chosen]) == {
            k: v for k, v in full.items() if wanted & set(k)}, chosen


def test_refresh_issues_the_same_few_queries_for_few_or_many_new_items(
        session_factory: sessionmaker[Session]) -> None:
    """No per-item statements: relating 40 new items costs the same round trips as relating 3."""
    from sqlalchemy import event

    texts = [PARTY, FLOOD, TAX, FOOTBALL]
    counted: list[int] = []
    statements: list[str] = []
    with session_factory() as session:
        _store(session, ARTICLES, T0)
        rebuild_related(session_factory, CFG, T0)
        for n, count in enumerate((3, 40)):
            rows = [(f"http://gw/new{n}/{k}", f"新文稿 {n} {k} {texts[k % 4][:8]}", texts[k % 4][k % 7:] + f" {k}")
                    for k in range(count)]
            new_ids = _store(session, rows, T0 + timedelta(hours=n + 1))
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


def test_refresh_compares_new_items_with_stored_signatures(session_factory: sessionmaker[Session],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """After a rebuild every item has a signature; a refresh reads texts only of its new items (and of
    near-duplicate suspects), not of the window, and stores the new items' signatures."""
    from sqlalchemy import update

    from feedsvc.related import refresh as recommend
    from feedsvc.store import signatures as signature_repo

    with session_factory() as session:
        _store(session, ARTICLES, T0)
    rebuild_related(session_factory, CFG, T0)
    read: list[int] = []
    item_texts = related_repo.item_texts

    def spy(session: Session, item_ids: list[int]) -> list[related_repo.ItemText]:
        read.extend(item_ids)
        return item_texts(session, item_ids)

    monkeypatch.setattr(recommend.repo, "item_texts", spy)
    monkeypatch.setattr(recommend, "IDF_SAMPLE", 0)
    with session_factory() as session:
        ids = _ids(session)
        assert signature_repo.signature_count(session, list(ids.values())) == len(ARTICLES)
        # The stored text of f1 changes; its signature (flood) is what the refresh compares with.
        session.execute(update(Item).where(Item.id == ids["http://gw/f1"]).values(
            title="Club wins the cup", summary=FOOTBALL, content=FOOTBALL))
        new_ids = _store(session, [("http://gw/f3", "防汛抢险物资储备检查通报", FLOOD[20:] + "抢险物资储备检查。")],
                         T0 + timedelta(hours=1))
        refresh_related(session, new_ids, CFG, T0 + timedelta(hours=1))
        session.commit()
        assert read == new_ids
        listed = [i.url for i, _ in related_repo.related_items(session, new_ids[0], 5)]
        assert listed[:2] == ["http://gw/f2", "http://gw/f1"] or listed[:2] == ["http://gw/f1", "http://gw/f2"]
        assert signature_repo.signature_count(session, new_ids) == 1


def test_term_keys_are_the_same_in_every_process() -> None:
    """Signatures are stored, so English word keys must not depend on Python's per-process hash seed."""
    import os
    import subprocess
    import sys

    from feedsvc.related.index import batch_keys

    code = "from feedsvc.related.index import batch_keys; print(batch_keys(['Tax reform markets 防汛'])[1].tolist())"
    here = batch_keys(["Tax reform markets 防汛"])[1].tolist()
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.stdout.strip() == str(here)
