"""feedsvc.scheduling.service: the SchedulerService lifecycle with the real APScheduler, a real SQLite/PostgreSQL
job store and a stub job (tests/support/scheduling.py): reloads from the file or on request, a rejected reload, the
on_reload hand-over, waiting until idle, and a stop that leaves nothing running."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from feedsvc.config import AppConfig
from feedsvc.models import Source
from feedsvc.scheduling.service import SchedulerService
from tests.support.scheduling import STUB_JOB, calls, run_now, source_toml, start, wait_for, write_config


def test_config_file_change_adds_and_removes_sources(
    services: list[SchedulerService], tmp_path: Path, db_url: str
) -> None:
    path = write_config(tmp_path / "config.toml", db_url, [source_toml("gw"), source_toml("old")])
    (tmp_path / "plan-old.txt").write_text("failed\n")
    service = start(services, path)
    run_now(service, "old")  # leaves a pending retry:old that must go with its source
    wait_for(lambda: service.scheduler.get_job("retry:old"), what="retry job")
    write_config(path, db_url, [source_toml("gw", schedule="45 4 * * *"), source_toml("added")])
    wait_for(lambda: service.reloads >= 1, what="reload after the file changed")
    jobs = {job.id: job for job in service.scheduler.get_jobs()}
    assert sorted(jobs) == ["schedule:0 3 1 1 *", "schedule:45 4 * * *"]  # one job per schedule line
    assert jobs["schedule:45 4 * * *"].args[1] == ["gw"] and jobs["schedule:0 3 1 1 *"].args[1] == ["added"]
    assert jobs["schedule:45 4 * * *"].next_run_time.minute == 45  # rescheduled
    with service.session_factory() as session:
        old, new = session.get(Source, "old"), session.get(Source, "added")
        assert old is not None and old.active is False and old.next_run_at is None  # row (and items) stay
        assert new is not None and new.active is True and new.next_run_at is not None


def test_invalid_config_keeps_the_running_one(services: list[SchedulerService], tmp_path: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="feedsvc.scheduler")
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("gw")])
    service = start(services, path)
    path.write_text(path.read_text().replace('default_schedule = "0 3 1 1 *"', 'default_schedule = "nonsense"')
                    + source_toml("extra"))
    wait_for(lambda: "config reload rejected" in caplog.text, what="the rejection")
    assert "default_schedule" in caplog.text  # the log names the key that is wrong
    assert service.reloads == 0
    assert [job.id for job in service.scheduler.get_jobs()] == ["schedule:0 3 1 1 *"]


def test_a_requested_reload_hands_the_new_config_to_on_reload(services: list[SchedulerService],
                                                              tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/db.sqlite"
    path = write_config(tmp_path / "config.toml", db_url, [source_toml("gw")], watch_config=False)
    handed: list[AppConfig] = []
    service = SchedulerService(str(path), poll_interval=0.05, job_func=STUB_JOB, on_reload=handed.append)
    service.start()
    services.append(service)
    write_config(path, db_url, [source_toml("gw"), source_toml("blog")], watch_config=False)
    service.watcher.request()  # what SIGHUP does (install_sighup); the file itself is not watched
    wait_for(lambda: handed, what="on_reload")
    assert [s.id for s in handed[0].sources] == ["gw", "blog"]
    assert service.cfg is handed[0] and service.reloads == 1
    assert [(job.id, job.args[1]) for job in service.scheduler.get_jobs()] == [("schedule:0 3 1 1 *", ["gw", "blog"])]


def test_wait_idle_returns_once_the_due_job_has_reported(services: list[SchedulerService], tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("gw")])
    service = start(services, path)
    assert service.wait_idle(timeout=10)  # nothing due yet ("0 3 1 1 *")
    run_now(service, "gw")
    assert service.wait_idle(timeout=10)
    assert [(source, attempt) for source, attempt, _ in calls(tmp_path)] == [("gw", 1)]
    job = service.scheduler.get_job("schedule:0 3 1 1 *")
    assert job is not None and (job.next_run_time.month, job.next_run_time.day) == (1, 1)  # back to its cron


def test_stop_shuts_down_and_keeps_the_stored_jobs(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("gw")])
    service = SchedulerService(str(path), poll_interval=0.05, job_func=STUB_JOB)
    service.start()
    next_run = service.scheduler.get_job("schedule:0 3 1 1 *").next_run_time
    service.stop(grace=5)
    assert not service.scheduler.running
    assert service.watcher._thread is not None and not service.watcher._thread.is_alive()
    again = SchedulerService(str(path), poll_interval=0.05, job_func=STUB_JOB)
    again.start()
    try:
        assert again.scheduler.get_job("schedule:0 3 1 1 *").next_run_time == next_run  # the job store kept it
    finally:
        again.stop(grace=5)
