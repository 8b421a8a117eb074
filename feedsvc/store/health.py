"""Source health: the one verdict `feedsvc status` and the front page both show for each source.

A verdict reads the source's newest runs (at most HEALTH_RUNS, for every source in a few statements, never one
per source), the source row's error streak, the items feeds show (near-duplicates excluded), and, for a run
still marked running, whether its crawl is alive (its `crawl:<source>` lease). Every datetime is timezone-aware
UTC. Read-only; nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from feedsvc.models import RunStatus
from feedsvc.store._base import wrap_exceptions
from feedsvc.store.feeds import source_item_counts
from feedsvc.store.leases import holder_is_dead, lease_holder, lease_name
from feedsvc.store.overview import RunPoint, recent_run_points
from feedsvc.store.sources import list_sources

# Enough runs to tell a broken listing: it yielded items in one of the runs before the latest, and none now.
HEALTH_RUNS = 5
DIED = "died"  # the newest run says running, but its crawl process is gone (SIGKILL, OOM, power)
NEVER_CRAWLED = "never crawled"


@dataclass(frozen=True, slots=True)
class SourceHealth:
    """One source's verdict. `state` is one word (a run status, `died` or `never crawled`), `summary` one line."""

    source_id: str
    state: str
    summary: str
    healthy: bool
    runs: list[RunPoint]  # newest first, at most HEALTH_RUNS (two when nothing needed confirming)
    broken_listings: list[str]
    item_count: int  # items feeds show: near-duplicates excluded
    known: bool  # the database has a row for the source (it was configured at some point)
    error_count: int
    last_error: str | None
    next_run_at: datetime | None

    @property
    def last_run(self) -> RunPoint | None:
        return self.runs[0] if self.runs else None

    @property
    def last_finished(self) -> RunPoint | None:
        return next((r for r in self.runs if r.finished), None)

    @property
    def last_crawl(self) -> datetime | None:
        last = self.last_run
        return (last.finished_at or last.started_at) if last else None


def broken_listings(counts_newest_first: Sequence[Mapping[str, Any]]) -> list[str]:
    """Listings that yielded items in an earlier finished run but none in the latest one (selector probably
    broke). Takes each finished run's `listing_counts`, newest first."""
    if not counts_newest_first:
        return []
    latest, earlier = counts_newest_first[0], counts_newest_first[1:]
    return [listing_id for listing_id, count in sorted(latest.items())
            if not count and any((e.get(listing_id) or 0) > 0 for e in earlier)]


def listing_breaks(runs: Sequence[RunPoint]) -> list[str]:
    """`broken_listings` of a source's runs (newest first; running ones are skipped)."""
    finished = [r for r in runs if r.finished]
    if not finished or all(finished[0].listing_counts.values()):  # the common case, decided by one run
        return []
    return broken_listings([r.listing_counts for r in finished])


def _may_have_broken(runs: Sequence[RunPoint]) -> bool:
    finished = [r for r in runs if r.finished]
    return not finished or not all(finished[0].listing_counts.values())


def health_run_points(session: Session, source_ids: Sequence[str], window: int = HEALTH_RUNS) -> dict[str, list[RunPoint]]:
    """Just enough runs per source for its health: the newest two (the newest may still be running), and the
    newest `window` only where the latest finished run found nothing in some listing (a break to confirm)."""
    runs = recent_run_points(session, source_ids, per_source=2)
    suspect = [sid for sid, found in runs.items() if _may_have_broken(found)]
    runs.update(recent_run_points(session, suspect, per_source=window))
    return runs


def crawl_alive(session: Session, source_id: str, pid: int | None, now: datetime) -> bool:
    """Is the crawl a 'running' run names still alive? A crawl renews its `crawl:<source>` lease while it lives,
    so no live lease means it died without closing its run; a lease held on this machine by a pid that is gone
    means the same, before the lease expires."""
    holder = lease_holder(session, lease_name(source_id), now)
    # Another machine's crawl (or a newer one) is trusted while its lease lives.
    return holder is not None and not holder_is_dead(holder, pid)


def _verdict(runs: list[RunPoint], died: bool, broken: list[str], error_count: int,
             last_error: str | None) -> tuple[str, str, bool]:
    """(state, summary, healthy)."""
    if not runs:
        return NEVER_CRAWLED, "waiting for its first crawl", True
    last = runs[0]
    if died:
        return DIED, "its crawl process is gone without finishing the run (killed?); the next crawl redoes it", False
    if last.status == RunStatus.RUNNING:
        return last.status, "crawl in progress", True
    if error_count:
        error = (last_error or last.message or "see `feedsvc status`").splitlines()[0]
        return last.status, f"failing ({error_count} in a row): {error}", False
    if broken:
        return last.status, f"listing(s) {', '.join(broken)} yielded nothing; selector may be broken", False
    return last.status, "ok", True


@wrap_exceptions
def health(session: Session, now: datetime, source_ids: Sequence[str] | None = None) -> dict[str, SourceHealth]:
    """source id → its verdict, for `source_ids` (in that order) or every source the database knows. `now`
    decides whether a lease still holds; a source without a row (never synced) is reported never crawled."""
    rows = {s.id: s for s in list_sources(session)}
    ids = list(dict.fromkeys(source_ids)) if source_ids is not None else list(rows)
    runs = health_run_points(session, ids)
    counts = source_item_counts(session, ids)
    out: dict[str, SourceHealth] = {}
    for sid in ids:
        found = runs.get(sid, [])
        row = rows.get(sid)
        died = bool(found) and found[0].status == RunStatus.RUNNING and not crawl_alive(session, sid, found[0].pid, now)
        broken = listing_breaks(found)
        error_count = row.error_count if row is not None else 0
        last_error = row.last_error if row is not None else None
        state, summary, healthy = _verdict(found, died, broken, error_count, last_error)
        out[sid] = SourceHealth(source_id=sid, state=state, summary=summary, healthy=healthy, runs=found,
                                broken_listings=broken, item_count=counts.get(sid, 0), known=row is not None,
                                error_count=error_count, last_error=last_error,
                                next_run_at=row.next_run_at if row is not None else None)
    return out
