"""store/feeds.py on SQLite and PostgreSQL: order, near-duplicates hidden, filters, listing ranks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.feeds.spec import FeedFilter
from feedsvc.models import Item
from feedsvc.store.feeds import (
    listing_entries,
    listing_memberships,
    newest_items,
    ping,
    source_item_counts,
    source_items,
)
from tests.support.feeds import T0, article, crawl, listed, make_config

# The ranking's items carry the site's date: undated ranking items are left out of the new-items feeds
# (test_undated_ranking_items_are_not_new_items), and these tests are about order and filters.
DAY = T0 - timedelta(days=1)


def _db(session_factory: sessionmaker[Session], db_url: str) -> None:
    cfg = make_config(db_url)
    crawl(session_factory, cfg, "gw", [
        listed("gw", "ranking", "http://gw.test/1", "One 党员", 1, published=DAY),
        listed("gw", "ranking", "http://gw.test/2", "Two", 2, published=DAY),
        article("gw", "http://gw.test/2", "Two", summary="about BUDGET_100% things"),
    ], T0)
    crawl(session_factory, cfg, "en", [listed("en", "latest", "http://en.test/1", "Budget news")], T0 + timedelta(hours=1))
    crawl(session_factory, cfg, "gw", [
        listed("gw", "ranking", "http://gw.test/3", "Three", 1, published=DAY),
        listed("gw", "ranking", "http://gw.test/2", "Two", 2, published=DAY),
        listed("gw", "latest", "http://gw.test/4", "Four (dup of Three)"),
    ], T0 + timedelta(hours=2))


def _titles(items: list[Item]) -> list[str]:
    return [i.title for i in items]


def test_newest_items_order_filters_and_duplicates(session_factory: sessionmaker[Session], db_url: str) -> None:
    _db(session_factory, db_url)
    with session_factory() as session:
        dup = session.scalar(select(Item).where(Item.url == "http://gw.test/4"))
        three = session.scalar(select(Item).where(Item.url == "http://gw.test/3"))
        assert dup is not None and three is not None
        session.execute(update(Item).where(Item.id == dup.id).values(duplicate_of=three.id))
        session.commit()
        # Same first_seen: the later-inserted row first (id desc), so the order is total and stable.
        assert _titles(newest_items(session, FeedFilter())) == ["Three", "Budget news", "Two", "One 党员"]
        assert _titles(newest_items(session, FeedFilter(limit=2))) == ["Three", "Budget news"]
        # q matches title or summary, case-insensitively, any of the words; LIKE wildcards are literal.
        assert _titles(newest_items(session, FeedFilter(q=("budget",)))) == ["Budget news", "Two"]
        assert _titles(newest_items(session, FeedFilter(q=("budget_100%",)))) == ["Two"]
        assert _titles(newest_items(session, FeedFilter(q=("e%1", "t_0")))) == []
        assert _titles(newest_items(session, FeedFilter(q=("党员", "three")))) == ["Three", "One 党员"]
        assert _titles(newest_items(session, FeedFilter(exclude=("budget", "党员")))) == ["Three"]
        assert _titles(newest_items(session, FeedFilter(since=T0 + timedelta(minutes=30)))) == ["Three", "Budget news"]
        assert _titles(newest_items(session, FeedFilter(), hidden_sources=["en"])) == ["Three", "Two", "One 党员"]
        assert _titles(source_items(session, "en", FeedFilter())) == ["Budget news"]
        assert _titles(source_items(session, "gw", FeedFilter(exclude=("one",)))) == ["Three", "Two"]


def test_listing_entries_order_by_entry_and_carry_current_rank(session_factory: sessionmaker[Session],
                                                               db_url: str) -> None:
    _db(session_factory, db_url)
    with session_factory() as session:
        listed_items = listing_entries(session, "gw", "ranking", FeedFilter())
        # Three entered last; One and Two entered together as #1 and #2, so in that order. One dropped out of
        # the ranking in the second crawl, so it has no current rank.
        assert [(x.item.title, x.rank) for x in listed_items] == [("Three", 1), ("One 党员", None), ("Two", 2)]
        assert listed_items[0].entered == T0 + timedelta(hours=2)
        since = listing_entries(session, "gw", "ranking", FeedFilter(since=T0 + timedelta(hours=1)))
        assert [x.item.title for x in since] == ["Three"]
        assert listing_entries(session, "gw", "nothing", FeedFilter()) == []
        ids = {x.item.title: x.item.id for x in listed_items}
        members = listing_memberships(session, list(ids.values()))
        assert members[ids["Two"]] == [("gw", "ranking")]
        assert source_item_counts(session, ["gw", "en", "zz"]) == {"gw": 4, "en": 1}
        ping(session)


def test_ranks_stay_current_when_one_run_stores_in_several_batches(session_factory: sessionmaker[Session],
                                                                   db_url: str) -> None:
    from feedsvc.store.items import store_items
    from feedsvc.store.runs import RunCounts, finish_run, start_run

    cfg = make_config(db_url)
    crawl(session_factory, cfg, "gw", [listed("gw", "ranking", "http://gw.test/old", "Old", 1)], T0)
    with session_factory() as session:
        run_id = start_run(session, "gw", T0 + timedelta(days=1))
        for n, minute in ((1, 0), (2, 3)):  # the crawler writes in batches, each with its own time
            store_items(session, [listed("gw", "ranking", f"http://gw.test/r{n}", f"R{n}", n)], run_id,
                                   T0 + timedelta(days=1, minutes=minute))
        finish_run(session, run_id, "ok", RunCounts(items_seen=2), T0 + timedelta(days=1, minutes=5))
        session.commit()
        ranks = [(x.item.title, x.rank) for x in listing_entries(session, "gw", "ranking", FeedFilter())]
    assert ranks == [("R2", 2), ("R1", 1), ("Old", None)]


def test_a_rank_change_alone_moves_the_ranking_feed_last_modified(session_factory: sessionmaker[Session],
                                                                  db_url: str) -> None:
    from starlette.testclient import TestClient

    from feedsvc.http.app import create_app

    cfg = make_config(db_url)
    ranking = [listed("gw", "ranking", "http://gw.test/1", "One", 1), listed("gw", "ranking", "http://gw.test/2", "Two", 2)]
    crawl(session_factory, cfg, "gw", ranking, T0)
    crawl(session_factory, cfg, "gw", ranking, T0 + timedelta(days=1))  # unchanged: nothing moves
    with session_factory() as session:
        listed_items = listing_entries(session, "gw", "ranking", FeedFilter())
        assert {x.item.title: x.rank_changed for x in listed_items} == {"One": T0, "Two": T0}
    with TestClient(create_app(cfg, check_interval=0)) as client:
        first = client.get("/feeds/gw/ranking.atom")
        swapped = [listed("gw", "ranking", "http://gw.test/2", "Two", 1), listed("gw", "ranking", "http://gw.test/1", "One", 2)]
        crawl(session_factory, cfg, "gw", swapped, T0 + timedelta(days=2))
        second = client.get("/feeds/gw/ranking.atom", headers={"If-Modified-Since": first.headers["last-modified"]})
    assert second.status_code == 200  # an If-Modified-Since-only reader sees the re-ranking
    assert second.headers["last-modified"] != first.headers["last-modified"]
    assert second.headers["etag"] != first.headers["etag"]


def test_entries_that_entered_a_ranking_in_one_crawl_come_in_rank_order(session_factory: sessionmaker[Session],
                                                                       db_url: str) -> None:
    """A first crawl stores a ranking in whatever order pages arrive; the feed still reads #1, #2, ... #10,
    and a later crawl's newcomers come before them, again in rank order."""
    import feedparser
    from starlette.testclient import TestClient

    from feedsvc.http.app import create_app

    cfg = make_config(db_url)
    arrival = [10, 8, 7, 6, 5, 3, 2, 1, 9, 4]
    crawl(session_factory, cfg, "gw", [listed("gw", "ranking", f"http://gw.test/r{n}", f"R{n}", n) for n in arrival], T0)
    later = [listed("gw", "ranking", f"http://gw.test/r{n}", f"R{n}", n) for n in (12, 11)]
    crawl(session_factory, cfg, "gw", later, T0 + timedelta(days=1))
    with TestClient(create_app(cfg, check_interval=0)) as client:
        for fmt in ("atom", "rss"):
            entries = feedparser.parse(client.get(f"/feeds/gw/ranking.{fmt}").content).entries
            assert [e.title for e in entries] == ["R11", "R12"] + [f"R{n}" for n in range(1, 11)], fmt


def test_undated_ranking_items_are_not_new_items(session_factory: sessionmaker[Session], db_url: str) -> None:
    """A hot list of old stories with no dates: not news in the source feed or /feeds/new, still in the ranking."""
    cfg = make_config(db_url)
    crawl(session_factory, cfg, "gw", [
        listed("gw", "ranking", "http://gw.test/old", "Old hot story", 1),  # undated, only ranked
        listed("gw", "ranking", "http://gw.test/dated", "Dated hot story", 2, published=T0 - timedelta(days=3)),
        listed("gw", "ranking", "http://gw.test/both", "Undated but also latest", 3),
        listed("gw", "latest", "http://gw.test/both", "Undated but also latest"),
        listed("gw", "latest", "http://gw.test/new", "Undated latest"),
    ], T0)
    with session_factory() as session:
        shown = {"Dated hot story", "Undated but also latest", "Undated latest"}
        assert set(_titles(source_items(session, "gw", FeedFilter()))) == shown
        assert set(_titles(newest_items(session, FeedFilter()))) == shown
        ranked = [x.item.title for x in listing_entries(session, "gw", "ranking", FeedFilter())]
        assert ranked == ["Old hot story", "Dated hot story", "Undated but also latest"]
    # Once the article gives a date the item is an ordinary dated item again.
    crawl(session_factory, cfg, "gw", [article("gw", "http://gw.test/old", "Old hot story", published=T0 - timedelta(days=30))],
          T0 + timedelta(hours=1))
    with session_factory() as session:
        assert "Old hot story" in _titles(source_items(session, "gw", FeedFilter()))


def test_undated_recommended_items_are_not_new_items_either(session_factory: sessionmaker[Session], db_url: str) -> None:
    """An editors' selection of old stories with no dates is a pick like a ranking: not news in the source feed or
    /feeds/new, still in the recommended listing's own feed."""
    cfg = make_config(db_url)
    crawl(session_factory, cfg, "gw", [
        listed("gw", "recommended", "http://gw.test/pick", "Old pick", 1, kind="recommended"),
        listed("gw", "recommended", "http://gw.test/dated-pick", "Dated pick", 2, published=T0 - timedelta(days=3),
               kind="recommended"),
        listed("gw", "latest", "http://gw.test/new", "Undated latest"),
    ], T0)
    with session_factory() as session:
        shown = {"Dated pick", "Undated latest"}
        assert set(_titles(source_items(session, "gw", FeedFilter()))) == shown
        assert set(_titles(newest_items(session, FeedFilter()))) == shown
        picks = [x.item.title for x in listing_entries(session, "gw", "recommended", FeedFilter())]
        assert picks == ["Old pick", "Dated pick"]
