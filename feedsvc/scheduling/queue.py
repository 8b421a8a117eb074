"""Crawling on several machines: put sources on the shared Redis list that crawl nodes read (`feedsvc worker`,
crawler.node, scrapy-redis), then follow their runs in the shared database until each has finished.

Never imports scrapy. The list holds one JSON entry per source ({"source", "trigger", "now"}); a node pops as
many as it has room for. A node that dies loses the entries it popped: their runs stay `running` until the
source's next run marks them aborted and completes them, and their leases expire after `lease_ttl`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from feedsvc.config import AppConfig
from feedsvc.models import RunStatus
from feedsvc.scheduling.child import CrawlOutcome
from feedsvc.store.runs import RunCounts

# The one definition of the list's name: `feedsvc worker` hands it to its node (`crawler.node --key`).
QUEUE_KEY = "feedsvc:sources"
POLL_SECONDS = 1.0


def enqueue(redis_url: str, source_ids: Sequence[str], *, trigger: str = "manual", now: datetime | None = None,
            key: str = QUEUE_KEY) -> None:
    """Append one entry per source to the nodes' list."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        entries = [json.dumps({"source": s, "trigger": trigger, "now": now.isoformat() if now else None})
                   for s in source_ids]
        if entries:
            client.rpush(key, *entries)
    finally:
        client.close()


def crawl_on_nodes(cfg: AppConfig, redis_url: str, source_ids: Sequence[str], *, trigger: str = "manual",
                   now: datetime | None = None, key: str = QUEUE_KEY, timeout: float | None = None,
                   on_event: Callable[[dict[str, object]], None] | None = None) -> list[CrawlOutcome]:
    """Queue `source_ids` for the crawl nodes and wait until every one has a finished run (or `timeout`)."""
    from feedsvc.store import Store
    from feedsvc.store.runs import last_run_id, runs_after

    ids = list(dict.fromkeys(source_ids))
    with Store.for_config(cfg) as store:
        with store.session() as session:
            after = last_run_id(session)
        enqueue(redis_url, ids, trigger=trigger, now=now, key=key)
        deadline = None if timeout is None else time.monotonic() + timeout
        finished: dict[str, CrawlOutcome] = {}
        started: set[str] = set()
        while len(finished) < len(ids):
            with store.session() as session:
                runs = runs_after(session, after, ids)
            for run in runs:
                if run.source_id not in started and on_event is not None:
                    on_event({"event": "crawling", "source": run.source_id})
                started.add(run.source_id)
                if run.status != RunStatus.RUNNING and run.source_id not in finished:
                    counts = RunCounts(run.pages, run.not_modified, run.items_seen, run.items_new, run.errors,
                                       dict(run.listing_counts or {}))
                    finished[run.source_id] = CrawlOutcome(run.source_id, 0, RunStatus(run.status), run.id, counts,
                                                           run.message or "")
                    if on_event is not None:
                        on_event({"event": "done", "source": run.source_id, "status": run.status,
                                  "counts": {"pages": run.pages, "items_seen": run.items_seen,
                                             "items_new": run.items_new}})
            if deadline is not None and time.monotonic() > deadline:
                break
            if len(finished) < len(ids):
                time.sleep(POLL_SECONDS)
    return [finished.get(s) or CrawlOutcome(s, -1, RunStatus.TIMEOUT, None, None,
                                            f"no crawl node finished {s!r} within {timeout or 0:.0f}s "
                                            "(is `feedsvc worker` running?)", True) for s in ids]
