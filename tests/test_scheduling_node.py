"""Two crawl nodes (`feedsvc worker`) on this machine share the sources `feedsvc crawl --redis` queues in Redis:
each source is crawled once, by one node, and every run ends ok; the after-crawl hook runs on the nodes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from feedsvc.config import load_config
from feedsvc.models import CrawlRun, RelatedLink
from feedsvc.scheduling.queue import crawl_on_nodes
from feedsvc.store import Store
from tests.crawlutil import child_env, gw_source, write_config
from tests.services import REDIS_URL
from tests.siteserver import SiteServer


def test_two_workers_share_the_queue_and_each_source_runs_once(
    make_site_server: Callable[..., SiteServer], tmp_path: Path, redis_key: str
) -> None:
    site = make_site_server(delay=0.3)  # each source takes several seconds: both nodes get work
    ids = [f"s{i}" for i in range(6)]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [gw_source(site.base_url, s) for s in ids],
                          crawl_extra="concurrent_sources = 3")
    load_config(config)
    Store.for_config(load_config(config)).close()  # schema first, as `feedsvc db upgrade` would
    workers = [subprocess.Popen([sys.executable, "-m", "feedsvc", "worker", "--config", str(config), "--redis",
                                 REDIS_URL, "--key", redis_key, "--idle-exit", "15"], env=child_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    try:
        # What `feedsvc crawl --redis` does, on this test's own list.
        outcomes = crawl_on_nodes(load_config(config), REDIS_URL, ids, key=redis_key, timeout=240)
        assert all(o.succeeded for o in outcomes), [o.message for o in outcomes]
        for worker in workers:
            worker.wait(timeout=120)  # idle for 15 s after the queue ran dry: the node exits
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    with Store.for_config(load_config(config)) as store, store.session() as session:
        runs = list(session.scalars(select(CrawlRun)))
        related = session.scalar(select(func.count()).select_from(RelatedLink).where(RelatedLink.origin == "computed"))
    assert sorted(r.source_id for r in runs) == ids  # each source once
    assert {r.status for r in runs} == {"ok"}
    assert len({r.pid for r in runs}) == 2  # both nodes crawled
    assert related and related > 0  # the nodes ran the after-crawl hook
