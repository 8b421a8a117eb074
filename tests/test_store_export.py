"""store/export.py on SQLite and PostgreSQL: every item with its listings, in id order, in chunks."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from feedsvc.store.export import ListingRef, iter_export_rows
from tests.support.feeds import make_config, sample_crawls


def test_export_streams_every_item_with_its_listings_whatever_the_chunk_size(
        session_factory: sessionmaker[Session], db_url: str) -> None:
    sample_crawls(session_factory, make_config(db_url))
    with session_factory() as session:
        whole = list(iter_export_rows(session, chunk_size=500))
        assert [r.id for r in list(iter_export_rows(session, chunk_size=2))] == [r.id for r in whole]
        assert [r.id for r in whole] == sorted(r.id for r in whole) and len(whole) == 5
        first = next(r for r in whole if r.url == "http://gw.test/a/1.html")
        assert first.listings == [ListingRef("ranking", "ranking", 2), ListingRef("recommended", "latest", None)]
        assert first.timezone == "Asia/Shanghai" and first.summary == "会议记录摘要 党员"
        assert {r.source for r in iter_export_rows(session, source_id="en")} == {"en"}
        ranked = list(iter_export_rows(session, source_id="gw", listing_id="ranking"))
        assert sorted(r.url for r in ranked) == ["http://gw.test/a/1.html", "http://gw.test/a/2.html"]


def test_article_content_is_read_only_when_asked_for(session_factory: sessionmaker[Session], db_url: str) -> None:
    sample_crawls(session_factory, make_config(db_url))
    with session_factory() as session:
        assert all(r.content is None for r in iter_export_rows(session))
        with_content = {r.url: r.content for r in iter_export_rows(session, with_content=True)}
    assert "正文" in (with_content["http://gw.test/a/1.html"] or "")
    assert with_content["http://gw.test/a/2.html"] is None  # listed only, never fetched
