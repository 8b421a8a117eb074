"""feedsvc.cli.worker_cmd: `feedsvc worker` as a real process: it crawls what is queued in Redis (here for the
fixture site on 127.0.0.1), exits 0 after --idle-exit, and rejects a broken config
with one line before it touches Redis. The two-node scenario is tests/test_scheduling_node.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from feedsvc.config import load_config
from feedsvc.models import CrawlRun, RunStatus
from feedsvc.scheduling.queue import enqueue
from feedsvc.store import Store
from tests.support.crawls import child_env, gw_source, write_config
from tests.support.services import REDIS_URL
from tests.support.site_server import SiteServer


def _worker(config: Path, key: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "feedsvc", "worker", "--config", str(config), "--redis", REDIS_URL,
                             "--key", key, "--no-related", *extra], env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_worker_crawls_the_queue_then_exits_when_idle(tmp_path: Path, site_server: SiteServer,
                                                      redis_key: str) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [gw_source(site_server.base_url, "gw")])
    cfg = load_config(config)
    Store.for_config(cfg).close()  # schema first, as `feedsvc db upgrade` would
    enqueue(REDIS_URL, ["gw"], key=redis_key)
    proc = _worker(config, redis_key, "--idle-exit", "3")
    try:
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err[-3000:]
    with Store.for_config(cfg) as store, store.session() as session:
        runs = list(session.scalars(select(CrawlRun)))
    assert [(r.source_id, r.status) for r in runs] == [("gw", RunStatus.OK)]
    assert runs[0].items_new and runs[0].items_new > 0


def test_a_broken_config_is_one_line_and_exit_2(tmp_path: Path, redis_key: str) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[crawl]\nwindow = [\n", encoding="utf-8")
    proc = _worker(config, redis_key)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
