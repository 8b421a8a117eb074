"""Reads behind the front page: each source's recent runs, its warnings, and what each listing shows now.

"Now" for a listing is the newest finished run that extracted items from it (its `listing_counts`); the run
before that one gives rank movement, and `listing_items.first_seen` says whether an item entered in that run.
Rows come from `appearances` by the (source, listing, seen_at) index, so a listing's long history is never
scanned. Every datetime is timezone-aware UTC. Read-only; nothing here commits.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, bindparam, select, type_coerce, union_all
from sqlalchemy.orm import Session

from feedsvc.models import Appearance, CrawlErrorRecord, CrawlRun, ErrorKind, Item, ListingItem, RunStatus
from feedsvc.store._base import MAX_PARAMS_PER_STATEMENT, chunks, wrap_exceptions

# Crawl error kinds the front page lifts out of a run's errors as warnings of their own.
# Crawl errors that are warnings, shown apart on the front page (`feedsvc heal SOURCE` makes a healed block stick).
# A listing whose block was not found, or was found and gave no entries, all crawl: its selectors need a look.
LISTING_KINDS = (ErrorKind.SELECTOR, ErrorKind.EMPTY)
WARNING_KINDS = (ErrorKind.HEALED, ErrorKind.ROBOTS, *LISTING_KINDS)


@dataclass(frozen=True, slots=True)
class RunPoint:
    """One crawl run as the health chart draws it."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    items_seen: int
    items_new: int
    errors: int
    message: str | None
    counts_raw: Any  # listing_counts as stored (JSON text, or already a dict): decoded only when asked for
    pages: int = 0
    pid: int | None = None  # the crawl process that opened the run (a running run's liveness check)

    @property
    def finished(self) -> bool:
        return self.status != RunStatus.RUNNING

    @property
    def listing_counts(self) -> dict[str, int]:
        """listing id → items extracted in this run."""
        raw = json.loads(self.counts_raw) if isinstance(self.counts_raw, str | bytes) else self.counts_raw
        if not isinstance(raw, dict):
            return {}
        return {str(k): int(v) for k, v in raw.items() if isinstance(v, int | float)}


@dataclass(frozen=True, slots=True)
class RunWarning:
    """A crawl error of a WARNING_KINDS kind, from a source's latest finished run."""

    kind: str
    url: str | None
    message: str


@dataclass(frozen=True, slots=True)
class CurrentItem:
    """An item as a listing shows it now. `previous_rank` is None when the item was not ranked last time."""

    id: int
    url: str
    title: str
    date_text: str | None
    published: datetime | None
    rank: int | None
    previous_rank: int | None
    is_new: bool  # entered the listing in the run that is shown (never on a listing's first crawl: all would be)
    entered: datetime


@dataclass(frozen=True, slots=True)
class ListingNow:
    """What one listing showed in its newest finished run that saw items (`run` None: never seen)."""

    listing_id: str
    run: RunPoint | None
    items: list[CurrentItem]
    total: int  # items the run saw in the listing (items may be cut to a limit)


_RUN_COLUMNS = (CrawlRun.source_id, CrawlRun.id, CrawlRun.started_at, CrawlRun.finished_at, CrawlRun.status,
                CrawlRun.items_seen, CrawlRun.items_new, CrawlRun.errors, CrawlRun.message,
                type_coerce(CrawlRun.listing_counts, Text), CrawlRun.pages, CrawlRun.pid)  # decoded lazily: most pages never need it
RUNS_PER_STATEMENT = 100


@functools.lru_cache(maxsize=16)
def _recent_runs_statement(count: int, per_source: int) -> Any:
    """UNION ALL of `count` per-source "newest N runs" selects: each walks ix_crawl_runs_source_started for its
    own source and stops at N, so a long run history is never read, and a thousand sources take ten round
    trips. Built once per shape (building a hundred selects costs more than running them)."""
    parts = [select(*_RUN_COLUMNS).where(CrawlRun.source_id == bindparam(f"s{i}"))
             .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc()).limit(per_source).subquery().select()
             for i in range(count)]
    return union_all(*parts) if count > 1 else parts[0]


@wrap_exceptions
def recent_run_points(session: Session, source_ids: Sequence[str], per_source: int = 30) -> dict[str, list[RunPoint]]:
    """source id → its newest `per_source` runs, newest first."""
    out: dict[str, list[RunPoint]] = {source_id: [] for source_id in source_ids}
    for part in chunks(list(dict.fromkeys(source_ids)), RUNS_PER_STATEMENT):
        if not part:
            continue
        stmt = _recent_runs_statement(len(part), per_source)
        rows = session.execute(stmt, {f"s{i}": sid for i, sid in enumerate(part)})
        for sid, run_id, started, finished, status, seen, new, errors, message, counts, pages, pid in rows:
            out[sid].append(RunPoint(id=int(run_id), started_at=started, finished_at=finished, status=status,
                                     items_seen=seen or 0, items_new=new or 0, errors=errors or 0, message=message,
                                     counts_raw=counts, pages=pages or 0, pid=pid))
    for runs in out.values():  # UNION ALL keeps no order across its parts
        runs.sort(key=lambda r: (r.started_at, r.id), reverse=True)
    return out


@wrap_exceptions
def run_warnings(session: Session, run_ids: Sequence[int], per_run: int = 20) -> dict[int, list[RunWarning]]:
    """run id → its healed/robots errors (at most `per_run` each), in the order they were met."""
    out: dict[int, list[RunWarning]] = {}
    for part in chunks(sorted(set(run_ids)), MAX_PARAMS_PER_STATEMENT):
        if not part:
            continue
        stmt = (select(CrawlErrorRecord.run_id, CrawlErrorRecord.kind, CrawlErrorRecord.url, CrawlErrorRecord.message)
                .where(CrawlErrorRecord.run_id.in_(part), CrawlErrorRecord.kind.in_(WARNING_KINDS))
                .order_by(CrawlErrorRecord.run_id, CrawlErrorRecord.id))
        for run_id, kind, url, message in session.execute(stmt):
            found = out.setdefault(int(run_id or 0), [])
            if len(found) < per_run:
                found.append(RunWarning(kind=kind, url=url, message=message))
    return out


def _shown_runs(runs: Sequence[RunPoint], listing_id: str) -> tuple[RunPoint | None, RunPoint | None]:
    """(the run whose items the listing shows, the run before it that also saw items there)."""
    saw = [r for r in runs if r.finished and r.listing_counts.get(listing_id, 0) > 0]
    return (saw[0] if saw else None), (saw[1] if len(saw) > 1 else None)


@wrap_exceptions
def listings_now(session: Session, source_id: str, listing_ids: Sequence[str], runs: Sequence[RunPoint],
                 limit: int = 10) -> dict[str, ListingNow]:
    """Each listing's current items in the site's order (rank), unranked ones newest entry first; at most
    `limit` each. `runs` are the source's recent runs (recent_run_points), which say which run is current."""
    shown = {lid: _shown_runs(runs, lid) for lid in listing_ids}
    out = {lid: ListingNow(listing_id=lid, run=cur, items=[], total=0) for lid, (cur, _prev) in shown.items()}
    wanted = {lid: (cur, prev) for lid, (cur, prev) in shown.items() if cur is not None}
    if not wanted:
        return out
    previous = _previous_ranks(session, source_id, {lid: prev for lid, (_c, prev) in wanted.items() if prev})
    for lid, (cur, prev) in wanted.items():
        assert cur is not None
        rows = _run_rows(session, source_id, lid, cur)
        prev_ranks = previous.get(lid, {})
        items = [CurrentItem(id=item_id, url=url, title=title, date_text=date_text, published=published, rank=rank,
                             previous_rank=prev_ranks.get(item_id), entered=entered,
                             is_new=prev is not None and entered >= cur.started_at)
                 for item_id, url, title, date_text, published, rank, entered in rows]
        # The site's own order where it gave one (rank = position on the page), else newest entry first, ties in
        # the order they were stored (page order).
        items.sort(key=lambda i: (i.rank is None, i.rank or 0, -i.entered.timestamp(), i.id))
        out[lid] = ListingNow(listing_id=lid, run=cur, items=items[:limit], total=len(items))
    return out


_RUN_ROWS = (
    select(Item.id, Item.url, Item.title, Item.date_text, Item.published, Appearance.rank, ListingItem.first_seen)
    .join(Item, Item.id == Appearance.item_id)
    .join(ListingItem, and_(ListingItem.source_id == Appearance.source_id,
                            ListingItem.listing_id == Appearance.listing_id,
                            ListingItem.item_id == Appearance.item_id))
    .where(Appearance.source_id == bindparam("sid"), Appearance.listing_id == bindparam("lid"),
           Appearance.seen_at >= bindparam("since"), Appearance.run_id == bindparam("rid"),
           Item.duplicate_of.is_(None))
)
_RANKS = (select(Appearance.item_id, Appearance.rank)
          .where(Appearance.source_id == bindparam("sid"), Appearance.listing_id == bindparam("lid"),
                 Appearance.seen_at >= bindparam("since"), Appearance.run_id == bindparam("rid"),
                 Appearance.rank.is_not(None)))


def _run_rows(session: Session, source_id: str, listing_id: str, run: RunPoint) -> list[tuple[Any, ...]]:
    """(item id, url, title, date_text, published, rank, entered) of each shown item the run saw in the listing."""
    params = {"sid": source_id, "lid": listing_id, "since": run.started_at, "rid": run.id}
    best: dict[int, tuple[Any, ...]] = {}
    for row in session.execute(_RUN_ROWS, params):
        old = best.get(row[0])
        if old is None or (row[5] is not None and (old[5] is None or row[5] < old[5])):
            best[row[0]] = tuple(row)
    return list(best.values())


def _previous_ranks(session: Session, source_id: str, runs: Mapping[str, RunPoint]) -> dict[str, dict[int, int]]:
    """listing id → {item id: rank} in the given earlier run of that listing (ranked sightings only)."""
    out: dict[str, dict[int, int]] = {}
    for lid, run in runs.items():
        ranks = out.setdefault(lid, {})
        params = {"sid": source_id, "lid": lid, "since": run.started_at, "rid": run.id}
        for item_id, rank in session.execute(_RANKS, params):
            if rank is not None and (item_id not in ranks or rank < ranks[item_id]):
                ranks[int(item_id)] = int(rank)
    return out
