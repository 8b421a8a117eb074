"""crawler.node against a real Redis list: a node crawls only enabled sources of its own config, refuses a crawl
clock ahead of its own and a crawl sooner than the source's minimum gap, and says what it rejected (issue 21)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from crawler.node import Rejected, admit, min_gap
from feedsvc.config import load_config
from feedsvc.models import CrawlRun, RunStatus
from feedsvc.store import Store
from tests.support.crawls import child_env, events, gw_source, write_config
from tests.support.services import REDIS_URL
from tests.support.site_server import SiteServer


def _entry(source: str, now: datetime | None = None, trigger: str = "manual") -> str:
    return json.dumps({"source": source, "trigger": trigger, "now": now.isoformat() if now else None})


def test_a_node_crawls_only_what_its_config_allows_and_reports_the_rest(tmp_path: Path, site_server: SiteServer,
                                                                       redis_key: str) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                          [gw_source(site_server.base_url, "gw"), gw_source(site_server.base_url, "off", extra="enabled = false")])
    cfg = load_config(config)
    Store.for_config(cfg).close()
    future = datetime.now(UTC) + timedelta(days=365 * 100)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.rpush(redis_key, _entry("gw"), _entry("off"), _entry("nope"), _entry("gw", future), b"\xff not json",
                     _entry("gw", trigger="evil"))
    finally:
        client.close()
    node = subprocess.run([sys.executable, "-m", "crawler.node", "--config", str(config), "--redis", REDIS_URL,
                           "--key", redis_key, "--progress-json", "--idle-exit", "3"],
                          env=child_env(), capture_output=True, text=True, timeout=180)
    seen = events(node.stdout)
    rejected = [e for e in seen if e["event"] == "rejected"]
    assert [e["source"] for e in rejected] == ["off", "nope", "gw", None, "gw"], node.stdout
    assert "not an enabled source" in rejected[0]["message"] and "ahead of this node" in rejected[2]["message"]
    assert "unknown trigger" in rejected[4]["message"]
    with Store.for_config(cfg) as store, store.session() as session:
        runs = list(session.scalars(select(CrawlRun)))
    assert [(r.source_id, r.status) for r in runs] == [("gw", RunStatus.OK)]
    assert runs[0].started_at.year < 2100  # the far-future clock never reached the store


def test_a_crawl_sooner_than_the_minimum_gap_is_rejected(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite://", [gw_source("http://127.0.0.1:9", "gw", extra='schedule = "*/10 * * * *"')])
    cfg = load_config(config)
    gap = min_gap(cfg, cfg.source("gw"))
    assert gap == timedelta(seconds=min(600, cfg.scheduler.retry_backoff)) / 2
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    data = _entry("gw").encode()
    source, trigger, _ = admit(cfg, data, now, lambda _s: now - gap)
    assert source.id == "gw" and trigger == "manual"
    with pytest.raises(Rejected, match="between crawls"):
        admit(cfg, data, now, lambda _s: now - gap + timedelta(seconds=1))
