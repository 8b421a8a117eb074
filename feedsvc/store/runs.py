"""The `crawl_runs` and `crawl_errors` tables, and each source's last-run summary on `sources`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from feedsvc.models import CrawlErrorRecord, CrawlRun, RunStatus, Source
from feedsvc.status import RunCounts as RunCounts  # re-exported: the counts a run row holds
from feedsvc.store._base import wrap_exceptions
from feedsvc.store.meta import bump_data_version


@wrap_exceptions
def start_run(session: Session, source_id: str, at: datetime, pid: int | None = None, trigger: str = "manual") -> int:
    """Open a run. Any earlier run of this source still marked running died without finishing: mark it aborted.

    Callers hold the source's crawl lease, so no other live run of this source can exist.
    """
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.source_id == source_id, CrawlRun.status == RunStatus.RUNNING)
        .values(status=RunStatus.ABORTED, finished_at=at, message="did not finish (process killed or crashed)")
    )
    run = CrawlRun(source_id=source_id, started_at=at, status=RunStatus.RUNNING, pid=pid, trigger=trigger, listing_counts={})
    session.add(run)
    session.flush()
    return run.id


@wrap_exceptions
def update_run_progress(session: Session, progress: dict[int, RunCounts]) -> None:
    """Save the counts so far of running crawls (run id → counts): one executemany for all of them."""
    if not progress:
        return
    runs: Table = CrawlRun.__table__  # type: ignore[assignment]
    names = list(_count_values(RunCounts()))
    session.execute(
        update(runs).where(runs.c.id == bindparam("run_id")).values({n: bindparam(f"new_{n}") for n in names}),
        [{"run_id": run_id, **{f"new_{n}": v for n, v in _count_values(counts).items()}}
         for run_id, counts in progress.items()],
    )


def _count_values(counts: RunCounts) -> dict[str, object]:
    return {
        "pages": counts.pages,
        "not_modified": counts.not_modified,
        "items_seen": counts.items_seen,
        "items_new": counts.items_new,
        "errors": counts.errors,
        "listing_counts": dict(counts.listing_counts),
    }


@wrap_exceptions
def finish_run(
    session: Session, run_id: int, status: str, counts: RunCounts, at: datetime, message: str | None = None
) -> None:
    """Close a run and copy its outcome onto the source; success resets the source's error counter."""
    # Plain statements, no ORM objects loaded: a crawl process ends thousands of runs in a night.
    source_id = session.scalar(select(CrawlRun.source_id).where(CrawlRun.id == run_id))
    if source_id is None:
        return
    session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == run_id)
        .values(status=status, finished_at=at, message=message, **_count_values(counts))
    )
    sources: Table = Source.__table__  # type: ignore[assignment]
    outcome: dict[str, Any] = {"last_run_at": at, "last_status": status}
    if RunStatus(status).succeeded:
        outcome.update(last_success_at=at, error_count=0,
                       last_error=message if status == RunStatus.PARTIAL else None)
    else:
        outcome.update(error_count=func.coalesce(sources.c.error_count, 0) + 1, last_error=message)
    session.execute(update(sources).where(sources.c.id == source_id).values(**outcome))
    if counts.items_seen or counts.items_new:
        bump_data_version(session)


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a run ended, as its crawl process saw it; kept outside the database when the database could not take
    it (a full disk), until the next run of the source records it (`record_late_end`)."""

    run_id: int
    source_id: str
    status: str
    message: str
    at: datetime
    counts: RunCounts = field(default_factory=RunCounts)


@wrap_exceptions
def record_late_end(session: Session, end: RunEnd) -> bool:
    """Close run `end.run_id` with the outcome its own process could not write. Only a run still open, or
    closed by `start_run` as aborted for want of that outcome, is changed; True when it was."""
    done = session.execute(
        update(CrawlRun)
        .where(CrawlRun.id == end.run_id, CrawlRun.source_id == end.source_id,
               CrawlRun.status.in_([RunStatus.RUNNING, RunStatus.ABORTED]))
        .values(status=end.status, finished_at=end.at, message=end.message, **_count_values(end.counts))
    )
    return bool(getattr(done, "rowcount", 0))


@wrap_exceptions
def record_crawl_error(
    session: Session, source_id: str, run_id: int | None, url: str | None, kind: str, message: str, at: datetime
) -> None:
    session.add(CrawlErrorRecord(source_id=source_id, run_id=run_id, url=url, kind=kind, message=message, at=at))


@wrap_exceptions
def get_run(session: Session, run_id: int) -> CrawlRun | None:
    return session.get(CrawlRun, run_id)


@wrap_exceptions
def last_run_id(session: Session) -> int:
    """The newest run's id (0 when there is none): runs opened later have larger ids."""
    return int(session.scalar(select(func.max(CrawlRun.id))) or 0)


@wrap_exceptions
def runs_after(session: Session, after_id: int, source_ids: list[str]) -> list[CrawlRun]:
    """Runs of `source_ids` opened after run `after_id`, oldest first (what crawl nodes did with queued work)."""
    stmt = select(CrawlRun).where(CrawlRun.id > after_id, CrawlRun.source_id.in_(source_ids)).order_by(CrawlRun.id)
    return list(session.scalars(stmt))


@wrap_exceptions
def last_started(session: Session, source_id: str) -> datetime | None:
    """When the newest run of `source_id` started (None: never crawled); how a crawl node spaces crawls."""
    return session.scalar(select(func.max(CrawlRun.started_at)).where(CrawlRun.source_id == source_id))
