"""feedsvc.scheduling.queue against a real Redis (FEEDSVC_TEST_REDIS_URL) and real SQLite: what goes on the
nodes' list, and how crawl_on_nodes follows the runs a node records (here a thread doing what a node does)."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedsvc.config import load_config
from feedsvc.models import RunStatus
from feedsvc.scheduling.queue import crawl_on_nodes, enqueue
from feedsvc.store import Store
from feedsvc.store.runs import RunCounts, finish_run, start_run
from feedsvc.store.sources import sync_sources
from tests.support.scheduling import source_toml, write_config
from tests.support.services import REDIS_URL


def _entries(key: str) -> list[dict[str, Any]]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        return [json.loads(raw) for raw in client.lrange(key, 0, -1)]
    finally:
        client.close()


def test_enqueue_appends_one_json_entry_per_source(redis_key: str) -> None:
    now = datetime(2026, 1, 5, 4, 0, tzinfo=UTC)
    enqueue(REDIS_URL, ["a", "b"], trigger="schedule", now=now, key=redis_key)
    enqueue(REDIS_URL, [], key=redis_key)  # nothing to add: no error, no entry
    enqueue(REDIS_URL, ["c"], key=redis_key)
    assert _entries(redis_key) == [
        {"source": "a", "trigger": "schedule", "now": now.isoformat()},
        {"source": "b", "trigger": "schedule", "now": now.isoformat()},
        {"source": "c", "trigger": "manual", "now": None},
    ]


def test_crawl_on_nodes_follows_the_runs_a_node_records(redis_key: str, tmp_path: Path) -> None:
    import redis

    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("a"), source_toml("b")])
    cfg = load_config(path)
    node_error: list[BaseException] = []

    def node() -> None:  # what crawler.node does with each entry: open a run, crawl, close it
        client = redis.Redis.from_url(REDIS_URL)
        try:
            with Store.for_config(cfg) as store:
                for _ in range(2):
                    popped = client.blpop([redis_key], timeout=30)
                    assert popped is not None, "nothing was queued"
                    source = json.loads(popped[1])["source"]
                    at = datetime.now(UTC)
                    with store.transaction() as session:
                        sync_sources(session, cfg.sources, at)
                        run_id = start_run(session, source, at, pid=os.getpid(), trigger="manual")
                    status = RunStatus.OK if source == "a" else RunStatus.FAILED
                    with store.transaction() as session:
                        finish_run(session, run_id, status, RunCounts(pages=3, items_seen=5, items_new=2), at,
                                   None if source == "a" else "site down")
        except BaseException as exc:  # reported by the test, not lost in the thread
            node_error.append(exc)
        finally:
            client.close()

    Store.for_config(cfg).close()  # schema first, as `feedsvc db upgrade` would
    thread = threading.Thread(target=node, daemon=True)
    thread.start()
    events: list[dict[str, object]] = []
    outcomes = crawl_on_nodes(cfg, REDIS_URL, ["a", "b", "a"], key=redis_key, timeout=60, on_event=events.append)
    thread.join(timeout=30)
    assert not node_error, node_error
    a, b = outcomes  # asked for "a" twice: queued and reported once
    assert (a.source_id, a.status, a.message) == ("a", RunStatus.OK, "")
    assert a.counts is not None and (a.counts.pages, a.counts.items_new) == (3, 2) and a.succeeded
    assert (b.source_id, b.status, b.message) == ("b", RunStatus.FAILED, "site down") and not b.succeeded
    assert {(e["event"], e["source"]) for e in events} == {("crawling", "a"), ("done", "a"),
                                                          ("crawling", "b"), ("done", "b")}


def test_no_node_means_a_timeout_that_names_the_worker(redis_key: str, tmp_path: Path) -> None:
    path = write_config(tmp_path / "config.toml", f"sqlite:///{tmp_path}/db.sqlite", [source_toml("a")])
    [outcome] = crawl_on_nodes(load_config(path), REDIS_URL, ["a"], key=redis_key, timeout=0)
    assert outcome.status == RunStatus.TIMEOUT and outcome.timed_out and outcome.run_id is None
    assert "is `feedsvc worker` running?" in outcome.message
    assert _entries(redis_key) == [{"source": "a", "trigger": "manual", "now": None}]  # still queued for a node
