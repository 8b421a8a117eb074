"""store/signatures.py on SQLite and PostgreSQL: the related-items signatures table."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.models import Item
from feedsvc.store.signatures import clear_signatures, recent_signatures, store_signatures
from tests.support.feeds import T0, crawl, listed, make_config


def test_signatures_are_stored_replaced_listed_newest_first_and_cleared(session_factory: sessionmaker[Session],
                                                                        db_url: str) -> None:
    cfg = make_config(db_url)
    crawl(session_factory, cfg, "en", [listed("en", "latest", "http://en.test/news/1", "Old")], T0)
    crawl(session_factory, cfg, "en", [listed("en", "latest", "http://en.test/news/2", "New")],
          T0 + timedelta(hours=1))
    with session_factory() as session:
        ids = {url: item_id for url, item_id in session.execute(select(Item.url, Item.id))}
        old, new = ids["http://en.test/news/1"], ids["http://en.test/news/2"]
        store_signatures(session, {old: b"\x01old"}, replace=False)
        store_signatures(session, {old: b"\x02old", new: b"\x03new"})
        session.commit()
        assert recent_signatures(session, 10) == [(new, b"\x03new"), (old, b"\x02old")]
        assert recent_signatures(session, 1) == [(new, b"\x03new")]
        assert signature_count(session, [old, new, old]) == 2
        clear_signatures(session)
        session.commit()
        assert signature_count(session, [old, new]) == 0
        assert recent_signatures(session, 10) == [(new, None), (old, None)]


def signature_count(session: Session, item_ids: list[int]) -> int:
    """How many of these items have a stored signature, read straight from the table."""
    from sqlalchemy import func, select

    from feedsvc.models import ItemSignature

    return session.scalar(select(func.count()).select_from(ItemSignature)
                          .where(ItemSignature.item_id.in_(set(item_ids)))) or 0
