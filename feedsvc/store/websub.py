"""The `websub_announcements` table: per hub and feed URL, what was last announced and how it went.

All datetimes are aware UTC, passed in (`at`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from feedsvc.models import WebsubAnnouncement
from feedsvc.store._base import insert_for, wrap_exceptions


@dataclass(frozen=True, slots=True)
class AnnouncementResult:
    """One feed URL's announcement to one hub: `ok`, the hub's HTTP status (None: no answer), tries made."""

    hub: str
    topic: str
    digest: str
    ok: bool
    http_status: int | None
    attempts: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class HubSummary:
    """Per hub: feed URLs whose latest announcement succeeded / failed, and the latest attempt and error."""

    hub: str
    ok: int
    failed: int
    last_attempt: datetime | None
    last_error: str | None


@wrap_exceptions
def announced_digests(session: Session, hub: str) -> dict[str, str | None]:
    """topic → digest last announced successfully to `hub` (None: never, or only failures so far)."""
    rows = session.execute(select(WebsubAnnouncement.topic, WebsubAnnouncement.digest)
                           .where(WebsubAnnouncement.hub == hub))
    return {topic: digest for topic, digest in rows}


@wrap_exceptions
def record_announcements(session: Session, results: Sequence[AnnouncementResult], at: datetime) -> None:
    """Upsert each result; a failure keeps the digest last announced successfully, so it is tried again."""
    for r in results:
        values = {"hub": r.hub, "topic": r.topic, "status": "ok" if r.ok else "failed", "http_status": r.http_status,
                  "attempts": r.attempts, "error": r.error, "attempted_at": at}
        update = dict(values)
        if r.ok:
            values |= {"digest": r.digest, "ok_at": at}
            update |= {"digest": r.digest, "ok_at": at}
        stmt = insert_for(session, WebsubAnnouncement).values(**values)
        session.execute(stmt.on_conflict_do_update(index_elements=[WebsubAnnouncement.hub, WebsubAnnouncement.topic],
                                                   set_=update))


@wrap_exceptions
def hub_summaries(session: Session) -> list[HubSummary]:
    """One line per hub for `feedsvc status` and /metrics."""
    a = WebsubAnnouncement
    rows = session.execute(
        select(a.hub, func.sum(case((a.status == "ok", 1), else_=0)), func.sum(case((a.status == "ok", 0), else_=1)),
               func.max(a.attempted_at)).group_by(a.hub).order_by(a.hub)
    ).all()
    summaries = []
    for hub, ok, failed, last in rows:
        error = session.scalar(select(a.error).where(a.hub == hub, a.status == "failed")
                               .order_by(a.attempted_at.desc()).limit(1))
        last_at = last if last is None or last.tzinfo else last.replace(tzinfo=UTC)  # max() skips the column type
        summaries.append(HubSummary(hub=hub, ok=int(ok or 0), failed=int(failed or 0), last_attempt=last_at,
                                    last_error=error))
    return summaries
