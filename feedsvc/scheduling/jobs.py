"""When crawls run: APScheduler jobs built from the config, the scheduled crawl itself, and retry policy.

One cron job per enabled source (`crawl:<source>`), kept in an APScheduler SQLAlchemyJobStore inside the
project database, so next-run times survive restarts and a run missed while down is run once (coalesced)
within `[scheduler] misfire_grace_time`. A failed crawl gets a one-off `retry:<source>` job with exponential
backoff, also persisted. Crawls themselves run as child processes (feedsvc.scheduling.child): the scheduler
only decides *when*. Never imports scrapy or twisted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
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

from feedsvc.config import AppConfig, SourceConfig, cron_trigger
from feedsvc.errors import ConfigError, backoff_delay
from feedsvc.models import RunStatus

if TYPE_CHECKING:
    from feedsvc.scheduling.gather import CrawlGather

log = logging.getLogger("feedsvc.scheduler")

# Textual references keep pickled jobs free of code objects: the job store holds only names and plain args.
CRAWL_JOB = "feedsvc.scheduling.jobs:crawl_job"
JOB_TABLE = "apscheduler_jobs"
CRAWL_PREFIX = "crawl:"
RETRY_PREFIX = "retry:"
# Crawls are child processes, so a job thread only waits for its batch; at least this many threads.
MAX_PARALLEL_CRAWLS = 4
# Outcomes a retry cannot fix: the crawl succeeded (RunStatus.succeeded), another process holds the lease, or the
# config is invalid (the next reload or scheduled run will pick up a fix). A crawl stopped by a shutdown
# ('aborted', or 'cancelled' before it began) is retried: the persisted retry job runs after the restart.
NO_RETRY_STATUSES = frozenset({RunStatus.BUSY, RunStatus.SKIPPED, RunStatus.CONFIG})  # besides success

@dataclass(frozen=True)
class JobSpec:
    """What the job store should hold for one source; `fingerprint` changes when its trigger must change."""

    job_id: str
    source_id: str
    schedule: str
    trigger: BaseTrigger
    fingerprint: str


def job_specs(cfg: AppConfig) -> list[JobSpec]:
    """One spec per enabled source, from its `schedule` or `[scheduler] default_schedule`."""
    sched = cfg.scheduler
    specs: list[JobSpec] = []
    for source in cfg.sources:
        if not source.enabled:
            continue
        expr = source.schedule or sched.default_schedule
        trigger = cron_trigger(expr, sched.timezone, sched.jitter)
        fingerprint = f"crawl {source.id} [{expr}] tz={sched.timezone} jitter={sched.jitter}"
        specs.append(JobSpec(f"{CRAWL_PREFIX}{source.id}", source.id, expr, trigger, fingerprint))
    return specs


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
        return " ".join(parts) or f"unchanged ({len(self.kept)} job(s))"


def sync_jobs(scheduler: BackgroundScheduler, cfg: AppConfig, config_path: str, func: str = CRAWL_JOB) -> SyncReport:
    """Make the job store match the config. Unchanged jobs are left alone so their stored next run survives.

    Call on a started (possibly paused) scheduler, so the persisted jobs are visible.
    """
    report = SyncReport()
    sched = cfg.scheduler
    wanted = {spec.job_id: spec for spec in job_specs(cfg)}
    existing = {job.id: job for job in scheduler.get_jobs()}
    for job_id in existing:
        source_id = job_id.split(":", 1)[-1]
        if job_id.startswith(CRAWL_PREFIX) and job_id not in wanted:
            scheduler.remove_job(job_id)
            report.removed.append(source_id)
        elif job_id.startswith(RETRY_PREFIX) and f"{CRAWL_PREFIX}{source_id}" not in wanted:
            scheduler.remove_job(job_id)
    for job_id, spec in wanted.items():
        args = (config_path, spec.source_id)
        job = existing.get(job_id)
        if job is None:
            scheduler.add_job(func, trigger=spec.trigger, id=job_id, name=spec.fingerprint, args=args,
                              misfire_grace_time=sched.misfire_grace_time, coalesce=True, max_instances=1)
            report.added.append(spec.source_id)
            continue
        if job.name != spec.fingerprint:
            scheduler.reschedule_job(job_id, trigger=spec.trigger)
            report.rescheduled.append(spec.source_id)
        else:
            report.kept.append(spec.source_id)
        changes: dict[str, Any] = {}
        if job.name != spec.fingerprint:
            changes["name"] = spec.fingerprint
        if tuple(job.args) != args or job.func_ref != func:
            changes.update(args=args, func=func)
        if job.misfire_grace_time != sched.misfire_grace_time:
            changes["misfire_grace_time"] = sched.misfire_grace_time
        if changes:
            scheduler.modify_job(job_id, **changes)
    return report


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
    """source id → its earliest pending run (cron or retry), from the job store."""
    out: dict[str, datetime | None] = {}
    for job in scheduler.get_jobs():
        prefix, _, source_id = job.id.partition(":")
        if prefix + ":" not in (CRAWL_PREFIX, RETRY_PREFIX):
            continue
        when = getattr(job, "next_run_time", None)
        when = when.astimezone(UTC) if when is not None else None
        current = out.get(source_id)
        if current is None or (when is not None and when < current):
            out[source_id] = when
    return out


def store_next_runs(session_factory: sessionmaker[Session], runs: dict[str, datetime | None],
                    source_ids: Iterable[str]) -> None:
    """Write `sources.next_run_at` for every known source (None where nothing is scheduled)."""
    from feedsvc.store.sources import set_next_run

    with session_factory() as session, session.begin():
        for source_id in source_ids:
            set_next_run(session, source_id, runs.get(source_id))


def crawl_job(config_path: str, source_id: str, attempt: int = 1, *,
              crawls: CrawlGather | None = None) -> dict[str, Any]:
    """The scheduled job: crawl one source (in a child process, batched with the sources due with it) with
    `[scheduler] crawl_timeout`.

    Module-level with plain arguments so the job store can persist it; `crawls` is the service's CrawlGather, passed
    in by the executor (a fresh one when called directly). Never raises: the outcome goes back to the scheduler
    (which decides on a retry) as a small dict.
    """
    from feedsvc.scheduling.gather import CrawlGather

    crawls = crawls or CrawlGather(gather=0)
    trigger = "schedule" if attempt == 1 else "retry"
    result: dict[str, Any] = {"config_path": config_path, "source_id": source_id, "attempt": attempt,
                              "status": RunStatus.ERROR, "message": None}
    started = time.monotonic()
    try:
        cfg = crawls.config_for(config_path)
        source = _enabled_source(cfg, source_id)
        if source is None:
            log.info("crawl skipped source=%s: no longer enabled in %s", source_id, config_path)
            return {**result, "status": RunStatus.SKIPPED}
        if crawls.tracker.stopping():
            return {**result, "status": RunStatus.CANCELLED, "message": "scheduler is shutting down"}
        log.info("crawl start source=%s trigger=%s attempt=%d", source_id, trigger, attempt)
        outcome = crawls.crawl(cfg, config_path, source_id, trigger)
        result.update(status=outcome.status, message=outcome.message, run_id=outcome.run_id,
                      returncode=outcome.returncode, timed_out=outcome.timed_out)
    except ConfigError as exc:  # the file broke since the last reload; retrying cannot fix it
        result.update(status=RunStatus.CONFIG, message=str(exc).replace("\n", "; "))
    except Exception as exc:  # a broken database (or a bug) must not kill the scheduler thread
        log.exception("crawl error source=%s", source_id)
        result["message"] = f"{exc.__class__.__name__}: {exc}"
    elapsed = time.monotonic() - started
    log.info("crawl finish source=%s status=%s attempt=%d in %.1fs%s", source_id, result["status"], attempt,
             elapsed, f": {result['message']}" if result.get("message") else "")
    return result


def _enabled_source(cfg: AppConfig, source_id: str) -> SourceConfig | None:
    return next((s for s in cfg.sources if s.id == source_id and s.enabled), None)
