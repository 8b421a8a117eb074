"""The `sources` table: kept in step with the config; rows of removed sources stay (inactive)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedsvc.config import SourceConfig
from feedsvc.models import Source
from feedsvc.store._base import insert_for, wrap_exceptions


@wrap_exceptions
def sync_sources(session: Session, sources: Sequence[SourceConfig], at: datetime, *,
                 deactivate_others: bool = True) -> None:
    """Insert or refresh a row per configured source; mark the rest inactive (their items stay) unless
    `deactivate_others` is False (a crawl of some sources, whose config may not be the service's)."""
    for source in sources:
        values = {
            "id": source.id,
            "title": source.title,
            "site_url": source.start_urls[0],
            "timezone": source.timezone,
            "active": source.enabled,
        }
        stmt = insert_for(session, Source).values(**values, created_at=at, error_count=0)
        session.execute(
            stmt.on_conflict_do_update(index_elements=[Source.id], set_={k: v for k, v in values.items() if k != "id"})
        )
    if not deactivate_others:
        return
    configured = [s.id for s in sources]
    session.execute(update(Source).where(Source.id.not_in(configured)).values(active=False))


@wrap_exceptions
def list_sources(session: Session, active_only: bool = False) -> list[Source]:
    stmt = select(Source).order_by(Source.id)
    if active_only:
        stmt = stmt.where(Source.active.is_(True))
    return list(session.scalars(stmt))


@wrap_exceptions
def set_next_run(session: Session, source_id: str, next_run_at: datetime | None) -> None:
    session.execute(update(Source).where(Source.id == source_id).values(next_run_at=next_run_at))
