"""feedsvc/scheduling/gather.py: sources whose jobs come due together are crawled by one crawler process."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from feedsvc.config import load_config
from feedsvc.models import CrawlRun
from feedsvc.scheduling.service import SchedulerService
from feedsvc.store import Store
from tests.support.crawls import gw_source
from tests.support.scheduling import config_toml, run_now, wait_for
from tests.support.site_server import SiteServer


def _runs(path: Path) -> list[CrawlRun]:
    with Store.for_config(load_config(path)) as store, store.session() as session:
        return list(session.scalars(select(CrawlRun).order_by(CrawlRun.id)))


def test_sources_due_together_share_one_crawler_process(services: list[SchedulerService], tmp_path: Path,
                                                        site_server: SiteServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEEDSVC_DATABASE_URL", raising=False)
    path = tmp_path / "config.toml"
    path.write_text(config_toml(f"sqlite:///{tmp_path}/db.sqlite",
                                [gw_source(site_server.base_url, s) for s in ("one", "two", "three")]),
                    encoding="utf-8")
    service = SchedulerService(str(path), poll_interval=0.2, gather=1.0)
    service.start()
    services.append(service)
    run_now(service, "one")  # the line of all three
    wait_for(lambda: len([r for r in _runs(path) if r.status != "running"]) == 3, timeout=90, what="three runs")
    assert service.wait_idle(30)
    runs = _runs(path)
    assert sorted(r.source_id for r in runs) == ["one", "three", "two"]
    assert all(r.status in ("ok", "partial") and r.trigger == "schedule" for r in runs), [r.message for r in runs]
    assert len({r.pid for r in runs}) == 1  # one child crawled all three


def test_a_night_larger_than_one_child_uses_two_children_and_keeps_a_host_in_one(
        services: list[SchedulerService], tmp_path: Path, site_server: SiteServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past `concurrent_sources` a scheduled batch is split like `feedsvc crawl`'s: two children, split by host."""
    monkeypatch.delenv("FEEDSVC_DATABASE_URL", raising=False)
    other_host = site_server.base_url.replace("127.0.0.1", "localhost")
    path = tmp_path / "config.toml"
    sources = [gw_source(site_server.base_url, "one"), gw_source(site_server.base_url, "two"),
               gw_source(other_host, "three")]
    path.write_text(config_toml(f"sqlite:///{tmp_path}/db.sqlite", sources)
                    .replace("[crawl]\n", "[crawl]\nconcurrent_sources = 1\n"), encoding="utf-8")
    service = SchedulerService(str(path), poll_interval=0.2, gather=1.0)
    service.start()
    services.append(service)
    run_now(service, "one")
    wait_for(lambda: len([r for r in _runs(path) if r.status != "running"]) == 3, timeout=120, what="three runs")
    assert service.wait_idle(30)
    pids = {r.source_id: r.pid for r in _runs(path)}
    assert pids["one"] == pids["two"]  # one host: one child, one politeness budget
    assert pids["three"] != pids["one"]


def test_with_crawl_redis_a_gathering_goes_to_the_crawl_nodes(services: list[SchedulerService], tmp_path: Path,
                                                             site_server: SiteServer, redis_key: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 17: `[crawl] redis` set, the scheduler crawls nothing itself; a node (`feedsvc worker`) does."""
    import subprocess
    import sys

    from feedsvc.scheduling import queue
    from tests.support.crawls import child_env
    from tests.support.services import REDIS_URL

    monkeypatch.delenv("FEEDSVC_DATABASE_URL", raising=False)
    monkeypatch.setattr(queue, "QUEUE_KEY", redis_key)  # this test's own list, not a shared one
    path = tmp_path / "config.toml"
    text = config_toml(f"sqlite:///{tmp_path}/db.sqlite", [gw_source(site_server.base_url, s) for s in ("one", "two")])
    path.write_text(text.replace("[crawl]\n", f'[crawl]\nredis = "{REDIS_URL}"\n', 1), encoding="utf-8")
    service = SchedulerService(str(path), poll_interval=0.2, gather=1.0)
    service.start()
    services.append(service)
    node = subprocess.Popen([sys.executable, "-m", "feedsvc", "worker", "--config", str(path), "--redis", REDIS_URL,
                             "--key", redis_key, "--no-related"], env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        run_now(service, "one")  # and "two": one schedule line
        wait_for(lambda: len([r for r in _runs(path) if r.status != "running"]) == 2, timeout=120, what="two runs")
        assert service.wait_idle(60)
        crawler_pid = _runs(path)[0].pid
        stat = Path(f"/proc/{crawler_pid}/stat").read_text()
        assert int(stat.split(") ", 1)[1].split()[1]) == node.pid  # crawled by the node's process, not ours
    finally:
        node.terminate()
        node.wait(timeout=60)
    runs = _runs(path)
    assert sorted(r.source_id for r in runs) == ["one", "two"]
    assert all(r.status in ("ok", "partial") and r.trigger == "schedule" for r in runs), [r.message for r in runs]
    assert len({r.pid for r in runs}) == 1
