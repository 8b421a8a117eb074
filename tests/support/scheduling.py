"""Helpers for the scheduler tests: config files, a stub job that records its calls, waiting for conditions."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedsvc.scheduling.service import SchedulerService

STUB_JOB = "tests.support.scheduling:record_job"


def source_toml(source_id: str, url: str = "http://127.0.0.1:9/", schedule: str | None = None,
                enabled: bool = True, listing_heading: str = "最新文稿") -> str:
    lines = [
        "[[sources]]",
        f'id = "{source_id}"',
        f'title = "Source {source_id}"',
        f'start_urls = ["{url}"]',
        'timezone = "Asia/Shanghai"',
    ]
    if schedule:
        lines.append(f'schedule = "{schedule}"')
    if not enabled:
        lines.append("enabled = false")
    lines += ["  [[sources.listings]]", '  id = "latest"', '  kind = "latest"', f'  heading = "{listing_heading}"']
    return "\n".join(lines) + "\n"


def config_toml(db_url: str, sources: list[str], **scheduler: Any) -> str:
    sched = {"timezone": "UTC", "default_schedule": "0 3 1 1 *", "jitter": 0, **scheduler}
    out = [f'[database]\nurl = "{db_url}"\n', "[crawl]\ndownload_delay = 0\nautothrottle = false\nobey_robots = true\n",
           "[scheduler]"]
    for key, value in sched.items():
        out.append(f"{key} = {_toml_value(value)}")
    return "\n".join(out) + "\n\n" + "\n".join(sources)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def write_config(path: Path, db_url: str, sources: list[str], **scheduler: Any) -> Path:
    path.write_text(config_toml(db_url, sources, **scheduler), encoding="utf-8")
    return path


def record_job(config_path: str, sources: str | list[str], attempt: int = 1,
               **_service: Any) -> list[dict[str, Any]]:
    """Stub crawl job (a schedule line's sources, or one source's retry): appends 'source attempt time' per source to
    calls.log next to the config and returns each source's next status from plan-<source>.txt (one status per line,
    consumed in order; 'ok' when none is left)."""
    folder = Path(config_path).parent
    results = []
    for source_id in [sources] if isinstance(sources, str) else sources:
        with (folder / "calls.log").open("a", encoding="utf-8") as fh:
            fh.write(f"{source_id} {attempt} {time.time():.3f}\n")
        plan = folder / f"plan-{source_id}.txt"
        status = "ok"
        if plan.exists():
            lines = plan.read_text().split()
            if lines:
                status = lines[0]
                plan.write_text("\n".join(lines[1:]))
        results.append({"config_path": config_path, "source_id": source_id, "attempt": attempt, "status": status,
                        "message": f"stub {status}"})
    return results


def calls(folder: Path) -> list[tuple[str, int, float]]:
    log = folder / "calls.log"
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        source, attempt, at = line.split()
        out.append((source, int(attempt), float(at)))
    return out


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


SLOW_STUB_JOB = "tests.support.scheduling:slow_job"


def slow_job(config_path: str, sources: str | list[str], attempt: int = 1, **_service: Any) -> list[dict[str, Any]]:
    """Stub crawl that takes 1 s and records its start and end, to check two runs never overlap."""
    folder = Path(config_path).parent
    with (folder / "spans.log").open("a", encoding="utf-8") as fh:
        fh.write(f"start {time.time():.3f}\n")
    time.sleep(1.0)
    with (folder / "spans.log").open("a", encoding="utf-8") as fh:
        fh.write(f"end {time.time():.3f}\n")
    return [{"config_path": config_path, "source_id": source_id, "attempt": attempt, "status": "ok"}
            for source_id in ([sources] if isinstance(sources, str) else sources)]


def start(services: list[SchedulerService], path: Path, job: str = STUB_JOB, poll: float = 0.2) -> SchedulerService:
    service = SchedulerService(str(path), poll_interval=poll, job_func=job)
    service.start()
    services.append(service)
    return service


def line_job_id(service: SchedulerService, source_id: str) -> str:
    """The id of the schedule line job that crawls `source_id`."""
    for job in service.scheduler.get_jobs():
        if job.id.startswith("schedule:") and source_id in job.args[1]:
            return str(job.id)
    raise AssertionError(f"no schedule line job crawls {source_id!r}")


def run_now(service: SchedulerService, source_id: str) -> None:
    """Fire now the schedule line that crawls `source_id` (with every other source of that line)."""
    service.scheduler.modify_job(line_job_id(service, source_id), next_run_time=datetime.now(UTC))


def move_next_run(path: Path, job_id: str, when: datetime) -> None:
    """Stand in for downtime: the stored next run of `job_id` becomes `when` (in the past: the scheduler was down
    over it, and its missed-run rule decides when it starts again). Edits the job store directly; no scheduler may
    run meanwhile."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    from feedsvc.config import load_config
    from feedsvc.scheduling.jobs import JOB_TABLE, build_scheduler
    from feedsvc.store import Store

    cfg = load_config(path)
    store = Store.open(cfg.database.url, cfg.base_dir)
    try:
        jobs = SQLAlchemyJobStore(engine=store.engine, tablename=JOB_TABLE)
        jobs.start(build_scheduler(store.engine, cfg), "default")
        job = jobs.lookup_job(job_id)
        job._modify(next_run_time=when)
        jobs.update_job(job)
    finally:
        store.close()
