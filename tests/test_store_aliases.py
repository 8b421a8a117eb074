"""store/aliases.py on SQLite and PostgreSQL: an article's other URLs name one item, merged into the earliest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.models import Item, ListingItem
from feedsvc.store.aliases import alias_targets
from tests.support.feeds import T0, article, crawl, listed, make_config


def test_an_article_merges_the_items_stored_under_its_aliases(session_factory: sessionmaker[Session],
                                                              db_url: str) -> None:
    cfg = make_config(db_url)
    crawl(session_factory, cfg, "gw", [listed("gw", "latest", "http://gw.test/a/1?from=home", "One"),
                                       listed("gw", "ranking", "http://gw.test/a/1.html", "One", 1)], T0)
    canonical = replace(article("gw", "http://gw.test/a/1", "One"),
                        aliases=("http://gw.test/a/1?from=home", "http://gw.test/a/1.html"))
    crawl(session_factory, cfg, "gw", [canonical], T0 + timedelta(hours=1))
    with session_factory() as session:
        items = session.execute(select(Item.id, Item.url)).all()
        assert [url for _, url in items] == ["http://gw.test/a/1"]
        listings = sorted(session.scalars(select(ListingItem.listing_id).where(ListingItem.item_id == items[0].id)))
        assert listings == ["latest", "ranking"]
        assert alias_targets(session, ["http://gw.test/a/1.html", "http://gw.test/a/1?from=home", "http://x/"]) == {
            "http://gw.test/a/1.html": "http://gw.test/a/1", "http://gw.test/a/1?from=home": "http://gw.test/a/1"}
    # A later listing link under an alias lands on the same item instead of a new one.
    crawl(session_factory, cfg, "gw", [listed("gw", "latest", "http://gw.test/a/1.html", "One")],
          T0 + timedelta(hours=2))
    with session_factory() as session:
        assert session.scalars(select(Item.url)).all() == ["http://gw.test/a/1"]


def test_a_batch_of_articles_with_aliases_is_looked_up_at_once(session_factory: sessionmaker[Session],
                                                               engine: Engine, db_url: str) -> None:
    """Articles whose URLs name nothing yet, or only their own item, cost no query each; one that names two
    items is still merged."""
    from sqlalchemy import event

    cfg = make_config(db_url)
    articles = [replace(article("gw", f"http://gw.test/a/{n}", f"T{n}"), aliases=(f"http://gw.test/a/{n}.html",))
                for n in range(40)]
    crawl(session_factory, cfg, "gw", [listed("gw", "latest", "http://gw.test/a/0.html", "T0")], T0)
    statements: list[str] = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        crawl(session_factory, cfg, "gw", articles, T0 + timedelta(hours=1))
        crawl(session_factory, cfg, "gw", articles, T0 + timedelta(hours=2))
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    alias_looks = [s for s in statements if "item_aliases" in s and s.lstrip().upper().startswith("SELECT")]
    assert len(alias_looks) <= 12, len(alias_looks)  # a handful per batch, not one per article
    with session_factory() as session:  # a/0.html was stored on its own first: merged into a/0, which kept it
        urls = session.scalars(select(Item.url)).all()
        assert len(urls) == 40 and "http://gw.test/a/0.html" not in urls
        assert alias_targets(session, ["http://gw.test/a/0.html"]) == {"http://gw.test/a/0.html": "http://gw.test/a/0"}
