"""When crawls run: APScheduler jobs built from the config, the scheduled crawl itself, and retry policy.

One cron job per schedule line (`schedule:<cron line>`): every enabled source whose schedule is that line is crawled
when it fires, together, in one crawl child; `[scheduler] jitter` delays the whole line once (a random offset per
firing, capped to a share of the line's interval), never each source apart, so a nightly line stays one crawl and
one after-crawl step. Jobs live in an APScheduler SQLAlchemyJobStore inside the project database, so next-run
times survive restarts and a run missed while down is run once (coalesced) within `[scheduler]
misfire_grace_time`. A source whose crawl failed gets a one-off `retry:<source>` job with exponential backoff,
also persisted. Each source's next run is its line's (or its earlier retry's). Crawls themselves run as child
processes (feedsvc.scheduling.child): the scheduler only decides *when*. Never imports scrapy or twisted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import AppConfig, cron_trigger
from feedsvc.errors import ConfigError, backoff_delay
from feedsvc.models import RunStatus

if TYPE_CHECKING:
    from feedsvc.scheduling.gather import CrawlGather

log = logging.getLogger("feedsvc.scheduler")

# Textual references keep pickled jobs free of code objects: the job store holds only names and plain args.
CRAWL_JOB = "feedsvc.scheduling.jobs:crawl_job"
JOB_TABLE = "apscheduler_jobs"
SCHEDULE_PREFIX = "schedule:"
RETRY_PREFIX = "retry:"
# Jobs of older versions: one per source. sync_jobs removes them (their line's job replaces them).
LEGACY_PREFIX = "crawl:"
# Crawls are child processes, so a job thread only waits for its batch; at least this many threads.
MAX_PARALLEL_CRAWLS = 4
# Outcomes a retry cannot fix: the crawl succeeded (RunStatus.succeeded), another process holds the lease, or the
# config is invalid (the next reload or scheduled run will pick up a fix). A crawl stopped by a shutdown
# ('aborted', or 'cancelled' before it began) is retried: the persisted retry job runs after the restart.
NO_RETRY_STATUSES = frozenset({RunStatus.BUSY, RunStatus.SKIPPED, RunStatus.CONFIG})  # besides success

@dataclass(frozen=True)
class JobSpec:
    """What the job store should hold for one schedule line: its sources, in config order; `fingerprint` changes
    when its trigger must change (a source joining or leaving the line keeps the line's next run)."""

    job_id: str
    schedule: str
    source_ids: tuple[str, ...]
    trigger: BaseTrigger
    fingerprint: str


def schedule_line(expr: str) -> str:
    """A cron line as a job names it: fields separated by one space, so spacing alone never splits a line."""
    return " ".join(expr.split())


def job_specs(cfg: AppConfig) -> list[JobSpec]:
    """One spec per distinct schedule line of the enabled sources (their `schedule`, else `[scheduler]
    default_schedule`), in the order the lines first appear."""
    sched = cfg.scheduler
    lines: dict[str, list[str]] = {}
    for source in cfg.sources:
        if source.enabled:
            lines.setdefault(schedule_line(source.schedule or sched.default_schedule), []).append(source.id)
    return [JobSpec(f"{SCHEDULE_PREFIX}{expr}", expr, tuple(ids), cron_trigger(expr, sched.timezone, sched.jitter),
                    f"schedule [{expr}] tz={sched.timezone} jitter={sched.jitter}")
            for expr, ids in lines.items()]


class _CrawlExecutor(ThreadPoolExecutor):  # type: ignore[misc]  # APScheduler 3 ships no types
    """APScheduler's thread pool, handing every job the service's CrawlGather as `crawls=` (a live object cannot
    be stored with the job: the job store pickles only names and plain arguments)."""

    def __init__(self, max_workers: int, crawls: CrawlGather) -> None:
        super().__init__(max_workers)
        self.crawls = crawls

    def _do_submit_job(self, job: Any, run_times: Any) -> None:
        super()._do_submit_job(_WithKwargs(job, {"crawls": self.crawls}), run_times)


class _WithKwargs:
    """A stored job as the executor sees it, with extra keyword arguments for this run only."""

    def __init__(self, job: Any, extra: dict[str, Any]) -> None:
        self._job = job
        self.kwargs = {**job.kwargs, **extra}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._job, name)

    def __str__(self) -> str:
        return str(self._job)


def build_scheduler(engine: Engine, cfg: AppConfig, crawls: CrawlGather | None = None) -> BackgroundScheduler:
    """A not-yet-started scheduler whose jobs live in the `apscheduler_jobs` table of the project database.

    Job threads mostly wait for their batch, so there are enough of them for a whole window of sources.
    """
    from feedsvc.scheduling.gather import CrawlGather

    sched = cfg.scheduler
    workers = max(MAX_PARALLEL_CRAWLS, cfg.crawl.concurrent_sources)
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)},
        executors={"default": _CrawlExecutor(workers, crawls or CrawlGather())},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": sched.misfire_grace_time},
        timezone=sched.timezone,
    )


@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    rescheduled: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        parts = [f"{name}={','.join(ids)}" for name, ids in
                 (("added", self.added), ("removed", self.removed), ("rescheduled", self.rescheduled)) if ids]
        return " ".join(parts) or f"unchanged ({len(self.kept)} source(s))"


def sync_jobs(scheduler: BackgroundScheduler, cfg: AppConfig, config_path: str, func: str = CRAWL_JOB) -> SyncReport:
    """Make the job store match the config. Unchanged lines keep their stored next run, even when sources join or
    leave them; the report names sources by what happened to their schedule.

    Call on a started (possibly paused) scheduler, so the persisted jobs are visible.
    """
    report = SyncReport()
    sched = cfg.scheduler
    wanted = {spec.job_id: spec for spec in job_specs(cfg)}
    scheduled = {source_id for spec in wanted.values() for source_id in spec.source_ids}
    existing = {job.id: job for job in scheduler.get_jobs()}
    before = {source_id for job_id, job in existing.items() if job_id.startswith(SCHEDULE_PREFIX)
              for source_id in _line_sources(job)}
    for job_id in existing:
        gone_line = job_id.startswith(SCHEDULE_PREFIX) and job_id not in wanted
        gone_retry = job_id.startswith(RETRY_PREFIX) and job_id.removeprefix(RETRY_PREFIX) not in scheduled
        if job_id.startswith(LEGACY_PREFIX) or gone_line or gone_retry:
            scheduler.remove_job(job_id)
    for job_id, spec in wanted.items():
        args = (config_path, list(spec.source_ids))
        job = existing.get(job_id)
        if job is None:
            scheduler.add_job(func, trigger=spec.trigger, id=job_id, name=spec.fingerprint, args=args,
                              misfire_grace_time=sched.misfire_grace_time, coalesce=True, max_instances=1)
            report.added.extend(s for s in spec.source_ids if s not in before)
            report.rescheduled.extend(s for s in spec.source_ids if s in before)
            continue
        old = set(_line_sources(job))
        if job.name != spec.fingerprint:
            scheduler.reschedule_job(job_id, trigger=spec.trigger)
            report.rescheduled.extend(s for s in spec.source_ids if s in before)
        else:
            report.kept.extend(s for s in spec.source_ids if s in old)
            report.rescheduled.extend(s for s in spec.source_ids if s in before and s not in old)
        report.added.extend(s for s in spec.source_ids if s not in before)
        changes: dict[str, Any] = {}
        if job.name != spec.fingerprint:
            changes["name"] = spec.fingerprint
        if tuple(job.args) != args or job.func_ref != func:
            changes.update(args=args, func=func)
        if job.misfire_grace_time != sched.misfire_grace_time:
            changes["misfire_grace_time"] = sched.misfire_grace_time
        if changes:
            scheduler.modify_job(job_id, **changes)
    report.removed.extend(sorted(before - scheduled))
    return report


def _line_sources(job: Any) -> list[str]:
    """The sources a stored line job crawls (its second argument)."""
    sources = job.args[1] if len(job.args) > 1 else []
    return [sources] if isinstance(sources, str) else list(sources)


def retry_delay(attempt: int, backoff: int) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): the one backoff policy
    (feedsvc.errors.backoff: backoff, 2×backoff, 4×backoff…)."""
    return backoff_delay(attempt, backoff)


def schedule_retry(scheduler: BackgroundScheduler, cfg: AppConfig, result: dict[str, Any],
                   func: str = CRAWL_JOB, now: datetime | None = None) -> datetime | None:
    """After a finished attempt, add a persisted one-off `retry:<source>` job when the policy says so."""
    status = str(result.get("status"))
    attempt = int(result.get("attempt", 1))
    source_id = str(result["source_id"])
    if status in NO_RETRY_STATUSES or (status in set(RunStatus) and RunStatus(status).succeeded):
        return None
    if attempt >= cfg.scheduler.max_tries:
        log.warning("crawl gave up source=%s after %d attempt(s): %s", source_id, attempt, result.get("message"))
        return None
    when = (now or datetime.now(UTC)) + timedelta(seconds=retry_delay(attempt, cfg.scheduler.retry_backoff))
    scheduler.add_job(func, trigger=DateTrigger(run_date=when), id=f"{RETRY_PREFIX}{source_id}",
                      name=f"retry {source_id} attempt {attempt + 1}",
                      args=(result["config_path"], source_id, attempt + 1), replace_existing=True,
                      misfire_grace_time=cfg.scheduler.misfire_grace_time, coalesce=True, max_instances=1)
    log.info("crawl retry source=%s attempt=%d at=%s", source_id, attempt + 1, when.isoformat(timespec="seconds"))
    return when


def next_runs(scheduler: BackgroundScheduler) -> dict[str, datetime | None]:
    """source id → its earliest pending run (its line's, or its retry's), from the job store."""
    out: dict[str, datetime | None] = {}
    for job in scheduler.get_jobs():
        if job.id.startswith(SCHEDULE_PREFIX):
            sources = _line_sources(job)
        elif job.id.startswith(RETRY_PREFIX):
            sources = [job.id.removeprefix(RETRY_PREFIX)]
        else:
            continue
        when = getattr(job, "next_run_time", None)
        when = when.astimezone(UTC) if when is not None else None
        for source_id in sources:
            current = out.get(source_id)
            if current is None or (when is not None and when < current):
                out[source_id] = when
    return out


def store_next_runs(session_factory: sessionmaker[Session], runs: dict[str, datetime | None],
                    source_ids: Iterable[str], stored: dict[str, datetime | None] | None = None) -> None:
    """Write `sources.next_run_at` for every known source (None where nothing is scheduled). `stored`: what the
    last call wrote (updated here), so a firing of a thousand-source line writes only what changed."""
    from feedsvc.store.sources import set_next_run

    stored = {} if stored is None else stored
    changed = {s: runs.get(s) for s in source_ids if s not in stored or stored[s] != runs.get(s)}
    if not changed:
        return
    with session_factory() as session, session.begin():
        for source_id, when in changed.items():
            set_next_run(session, source_id, when)
    stored.update(changed)


def crawl_job(config_path: str, sources: str | Sequence[str], attempt: int = 1, *,
              crawls: CrawlGather | None = None) -> list[dict[str, Any]]:
    """The scheduled job: crawl `sources` (a schedule line's, or one source's retry) in one child process,
    gathered with whatever else is due with them, with `[scheduler] crawl_timeout` per source.

    Module-level with plain arguments so the job store can persist it; `crawls` is the service's CrawlGather, passed
    in by the executor (a fresh one when called directly). Never raises: each source's outcome goes back to the
    scheduler (which decides on its retry) as a small dict. Each source's finish is logged when its crawl ends.
    """
    from feedsvc.scheduling.gather import CrawlGather

    ids = [sources] if isinstance(sources, str) else list(dict.fromkeys(sources))
    crawls = crawls or CrawlGather(gather=0)
    trigger = "schedule" if attempt == 1 else "retry"
    results = {source_id: {"config_path": config_path, "source_id": source_id, "attempt": attempt,
                           "status": RunStatus.ERROR, "message": None} for source_id in ids}
    started = time.monotonic()
    try:
        cfg = crawls.config_for(config_path)
        enabled = {s.id for s in cfg.sources if s.enabled}
        due = [source_id for source_id in ids if source_id in enabled]
        for source_id in ids:
            if source_id not in enabled:
                log.info("crawl skipped source=%s: no longer enabled in %s", source_id, config_path)
                results[source_id]["status"] = RunStatus.SKIPPED
        if crawls.tracker.stopping():
            for source_id in due:
                results[source_id].update(status=RunStatus.CANCELLED, message="scheduler is shutting down")
            return list(results.values())
        if due:
            log.info("crawl start sources=%s trigger=%s attempt=%d", _names(due), trigger, attempt)
            for outcome in crawls.crawl(cfg, config_path, due, trigger):
                results[outcome.source_id].update(status=outcome.status, message=outcome.message,
                                                  run_id=outcome.run_id, returncode=outcome.returncode,
                                                  timed_out=outcome.timed_out)
    except ConfigError as exc:  # the file broke since the last reload; retrying cannot fix it
        for result in results.values():
            result.update(status=RunStatus.CONFIG, message=str(exc).replace("\n", "; "))
    except Exception as exc:  # a broken database (or a bug) must not kill the scheduler thread
        log.exception("crawl error sources=%s", _names(ids))
        for result in results.values():
            result["message"] = f"{exc.__class__.__name__}: {exc}"
    by_status: dict[str, int] = {}
    for result in results.values():
        by_status[str(result["status"])] = by_status.get(str(result["status"]), 0) + 1
    log.info("crawl job done sources=%d trigger=%s attempt=%d in %.1fs: %s", len(ids), trigger, attempt,
             time.monotonic() - started, ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())))
    return list(results.values())


def _names(ids: Sequence[str]) -> str:
    return ",".join(ids) if len(ids) <= 10 else f"{','.join(ids[:10])},… ({len(ids)} sources)"
