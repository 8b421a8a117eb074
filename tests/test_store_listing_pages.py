"""store/listing_pages.py on SQLite and PostgreSQL: which pages each listing was found on, per source."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from feedsvc.store.listing_pages import known_listing_pages, record_listing_pages
from feedsvc.store.sources import sync_sources
from tests.support.feeds import T0, make_config


def test_recorded_pages_accumulate_per_listing_and_source(session: Session, db_url: str) -> None:
    sync_sources(session, make_config(db_url).sources, T0)
    record_listing_pages(session, "gw", {"latest": {"http://gw.test/", "http://gw.test/b"}}, T0)
    record_listing_pages(session, "gw", {"latest": {"http://gw.test/"}, "ranking": {"http://gw.test/"}},
                         T0 + timedelta(hours=1))  # the same page again is an upsert, not a duplicate row
    record_listing_pages(session, "en", {"latest": {"http://en.test/news/"}}, T0)
    record_listing_pages(session, "en", {}, T0)
    session.commit()
    assert known_listing_pages(session, "gw") == {"latest": {"http://gw.test/", "http://gw.test/b"},
                                                  "ranking": {"http://gw.test/"}}
    assert known_listing_pages(session, "en") == {"latest": {"http://en.test/news/"}}
    assert known_listing_pages(session, "nope") == {}
