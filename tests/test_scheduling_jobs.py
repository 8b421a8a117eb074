"""Scheduling behaviour with the real APScheduler and the real job store, without waiting for real time:
jobs are moved to 'now' (or into the past, as after downtime) and a stub job records its calls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.config import cron_trigger, load_config
from feedsvc.models import Source
from feedsvc.scheduling.jobs import build_scheduler, job_specs, retry_delay
from feedsvc.scheduling.service import SchedulerService
from feedsvc.store import Store
from tests.support.scheduling import (
    SLOW_STUB_JOB,
    calls,
    line_job_id,
    move_next_run,
    run_now,
    source_toml,
    start,
    wait_for,
    write_config,
)


def test_jobs_created_from_config(tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [
        source_toml("gw"), source_toml("blog", schedule="15 6 * * 0"), source_toml("off", enabled=False),
    ], timezone="Asia/Shanghai", default_schedule="30 2 * * *", jitter=120)
    specs = {spec.job_id: spec for spec in job_specs(load_config(path))}
    assert sorted(specs) == ["schedule:15 6 * * 0", "schedule:30 2 * * *"]  # disabled sources get no job
    assert specs["schedule:30 2 * * *"].source_ids == ("gw",)
    gw, blog = specs["schedule:30 2 * * *"].trigger, specs["schedule:15 6 * * 0"].trigger
    assert str(gw.timezone) == "Asia/Shanghai" and gw.jitter == 120
    fields = {f.name: str(f) for f in gw.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "30")
    # crontab's 0 is Sunday (APScheduler 3 alone would read it as Monday)
    assert {f.name: str(f) for f in blog.fields}["day_of_week"] == "sun"
    sunday = blog.get_next_fire_time(None, datetime(2026, 11, 27, tzinfo=UTC))
    assert sunday is not None and sunday.weekday() == 6
    assert timedelta(0) <= sunday - sunday.replace(hour=6, minute=15, second=0, microsecond=0) <= timedelta(seconds=120)


def test_cron_weekday_ranges_follow_crontab() -> None:
    # crontab's */2 over 0-7 is Sun/Tue/Thu/Sat (APScheduler alone: Mon/Wed/Fri/Sun); 0-4 starts on Sunday.
    # tests/test_config_cron.py compares many more lines with a crontab(5) reference.
    trigger = cron_trigger("0 9 * * 1-5", "UTC")
    assert {f.name: str(f) for f in trigger.fields}["day_of_week"] == "mon,tue,wed,thu,fri"
    assert {f.name: str(f) for f in cron_trigger("0 9 * * */2", "UTC").fields}["day_of_week"] == "sun,tue,thu,sat"
    assert {f.name: str(f) for f in cron_trigger("0 9 * * 0-4", "UTC").fields}["day_of_week"] == \
        "sun,mon,tue,wed,thu"


def test_start_persists_jobs_and_next_run(services: list[SchedulerService], tmp_path: Path, db_url: str) -> None:
    path = write_config(tmp_path / "config.toml", db_url, [source_toml("gw")], timezone="Asia/Shanghai",
                        default_schedule="0 3 * * *", jitter=600)
    service = start(services, path)
    job = service.scheduler.get_job("schedule:0 3 * * *")
    assert job is not None and job.max_instances == 1 and job.coalesce is True
    assert job.misfire_grace_time == 6 * 3600 and job.args == (str(path.resolve()), ["gw"])
    local = job.next_run_time.astimezone(job.trigger.timezone)
    assert local.hour == 3 and local.minute < 11  # 03:00 Shanghai plus up to 600 s jitter
    with service.session_factory() as session:
        source = session.get(Source, "gw")
        assert source is not None and source.next_run_at == job.next_run_time.astimezone(UTC)


def test_jitter_delays_a_schedule_line_once_for_all_its_sources(services: list[SchedulerService],
                                                                tmp_path: Path) -> None:
    """Issue 17: the default jitter moves the whole night, so every source of the line is due at the same moment
    (one crawl child), and `feedsvc status` shows each source that moment."""
    ids = [f"s{i}" for i in range(5)]
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml(s) for s in ids],
                        default_schedule="0 3 * * *", jitter=600)
    service = start(services, path)
    [job] = service.scheduler.get_jobs()
    assert job.id == "schedule:0 3 * * *" and job.args[1] == ids and job.trigger.jitter == 600
    when = job.next_run_time.astimezone(UTC)
    assert (when.hour, when.minute) in {(3, m) for m in range(11)}  # 03:00 plus up to 600 s
    with service.session_factory() as session:
        assert {session.get(Source, s).next_run_at for s in ids} == {when}  # type: ignore[union-attr]
    run_now(service, "s3")
    assert service.wait_idle()
    assert sorted(c[0] for c in calls(tmp_path)) == ids  # the line fired once, with all of them


def test_restart_keeps_next_run_time(services: list[SchedulerService], tmp_path: Path, db_url: str) -> None:
    # Jitter makes every fresh computation differ, so an equal time proves the stored one was kept.
    path = write_config(tmp_path / "config.toml", db_url, [source_toml("gw")], jitter=3600)
    first = start(services, path)
    kept = first.scheduler.get_job(line_job_id(first, "gw")).next_run_time
    first.stop()
    second = start(services, path)
    assert second.scheduler.get_job(line_job_id(second, "gw")).next_run_time == kept


def test_missed_runs_run_once_after_restart(services: list[SchedulerService], tmp_path: Path, db_url: str) -> None:
    path = write_config(tmp_path / "config.toml", db_url, [source_toml("gw")], default_schedule="0 * * * *",
                        misfire_grace_time=7200)
    start(services, path).stop()
    move_next_run(path, "schedule:0 * * * *", datetime.now(UTC) - timedelta(hours=5, minutes=1))
    service = start(services, path)
    assert service.wait_idle(), "the missed run"
    assert [c[:2] for c in calls(tmp_path)] == [("gw", 1)]  # five hourly slots missed, one run
    assert service.scheduler.get_job("schedule:0 * * * *").next_run_time > datetime.now(UTC)


def test_missed_run_beyond_grace_time_is_skipped(services: list[SchedulerService], tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("gw")],
                        default_schedule="0 3 1 1 *", misfire_grace_time=60)
    start(services, path).stop()
    move_next_run(path, "schedule:0 3 1 1 *", datetime.now(UTC) - timedelta(days=10))
    service = start(services, path)
    assert service.wait_idle(), "reschedule"
    assert service.scheduler.get_job("schedule:0 3 1 1 *").next_run_time > datetime.now(UTC)
    assert calls(tmp_path) == []


def test_failed_runs_are_retried_with_backoff(services: list[SchedulerService], tmp_path: Path, db_url: str) -> None:
    path = write_config(tmp_path / "config.toml", db_url, [source_toml("gw")], max_tries=3, retry_backoff=1)
    (tmp_path / "plan-gw.txt").write_text("failed\ncrashed\ntimeout\n")
    service = start(services, path)
    run_now(service, "gw")
    wait_for(lambda: len(calls(tmp_path)) >= 3, timeout=15, what="three attempts")
    assert service.wait_idle(), "the third attempt reported back"
    made = calls(tmp_path)
    assert [c[:2] for c in made] == [("gw", 1), ("gw", 2), ("gw", 3)]  # max_tries=3: then it gives up
    assert made[1][2] - made[0][2] >= 0.9 and made[2][2] - made[1][2] >= 1.9  # 1 s, then 2 s
    assert service.scheduler.get_job("retry:gw") is None


def test_success_and_busy_end_the_retries(services: list[SchedulerService], tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite",
                        [source_toml("gw"), source_toml("blog")], max_tries=5, retry_backoff=0)
    (tmp_path / "plan-gw.txt").write_text("failed\nok\n")
    (tmp_path / "plan-blog.txt").write_text("busy\n")
    service = start(services, path)
    run_now(service, "gw")  # and blog: one schedule line
    wait_for(lambda: len(calls(tmp_path)) >= 3, what="gw twice, blog once")
    assert service.wait_idle()
    assert sorted(c[:2] for c in calls(tmp_path)) == [("blog", 1), ("gw", 1), ("gw", 2)]


def test_retry_delay_doubles() -> None:
    assert [retry_delay(n, 300) for n in (1, 2, 3)] == [300, 600, 1200]


def test_a_source_never_runs_twice_at_once(services: list[SchedulerService], tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("gw")])
    service = start(services, path, job=SLOW_STUB_JOB)
    run_now(service, "gw")
    wait_for(lambda: (tmp_path / "spans.log").exists(), what="first run")
    run_now(service, "gw")  # due again while the first is still running: max_instances refuses it
    assert service.wait_idle(), "the first run ended"
    run_now(service, "gw")
    wait_for(lambda: (tmp_path / "spans.log").read_text().count("end") >= 2, what="second run")
    events = [line.split() for line in (tmp_path / "spans.log").read_text().splitlines()]
    assert [e[0] for e in events] == ["start", "end", "start", "end"]  # never start, start


def test_shutdown_kills_a_crawl_that_ignores_sigterm() -> None:
    import subprocess
    import sys
    import threading

    from feedsvc.scheduling.children import ChildTracker, Tracked

    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
         "print('ready', flush=True); time.sleep(60)"], start_new_session=True, stdout=subprocess.PIPE, text=True)
    assert stubborn.stdout is not None and stubborn.stdout.readline().strip() == "ready"
    tracker = ChildTracker()
    key = tracker.track(Tracked(("gw",), pid=stubborn.pid))  # as run() does once the child said its pid

    def waiter() -> None:  # what run() does when its child ends
        stubborn.wait()
        tracker.forget(key)

    threading.Thread(target=waiter, daemon=True).start()
    try:
        assert tracker.active_sources() == ["gw"]
        assert tracker.stop_all(grace=0.5) is False  # SIGTERM ignored: the grace ran out
        assert stubborn.wait(timeout=10) == -9  # then SIGKILL
        assert tracker.stopping() and tracker.active_sources() == []
    finally:
        if stubborn.poll() is None:
            stubborn.kill()


def test_crawl_job_skips_removed_sources_and_reports_config_errors(tmp_path: Path) -> None:
    from feedsvc.scheduling.jobs import crawl_job, schedule_retry

    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("gw")])
    cfg = load_config(path)
    assert crawl_job(str(path), "gone")[0]["status"] == "skipped"  # removed from the config after it was queued
    path.write_text(path.read_text() + "\n[nonsense]\n")
    [result] = crawl_job(str(path), ["gw"])
    assert result["status"] == "config" and "nonsense" in result["message"]
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, _ = _store.engine, _store.session_factory
    scheduler = build_scheduler(engine, cfg)
    assert schedule_retry(scheduler, cfg, result) is None  # a retry cannot fix a broken file
    assert schedule_retry(scheduler, cfg, {**result, "status": "failed"}) is not None
    assert [job.id for job in scheduler.get_jobs()] == ["retry:gw"]
    engine.dispose()
