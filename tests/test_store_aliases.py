"""store/aliases.py on SQLite and PostgreSQL: an article's other URLs name one item, merged into the earliest."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
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
