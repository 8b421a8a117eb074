"""The feed server's Prometheus metrics, kept and rendered by prometheus_client: request, build and cache-hit
counters, and gauges read from the database at scrape time (items, WebSub hubs).

With several `feedsvc serve` workers, each process writes its counters to files in PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multiprocess mode, which `multiprocess_dir()` sets up for serve) and any worker's scrape
sums them all; without it the counters live in the process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from feedsvc.store.websub import HubSummary

# The text format generate_latest writes (prometheus_client's CONTENT_TYPE_LATEST names a newer one).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# `*_created` series would double every counter's lines for a timestamp nobody here reads.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


def _multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class _Snapshot(Collector):
    """Gauges read from the database for one scrape; the same in every worker, so never summed."""

    def __init__(self, items: int, websub: Sequence[HubSummary]) -> None:
        self.items, self.websub = items, websub

    def collect(self) -> Iterable[Metric]:
        items = GaugeMetricFamily("feedsvc_items", "Items stored in the database.")
        items.add_metric([], self.items)
        yield items
        if not self.websub:
            return
        feeds = GaugeMetricFamily("feedsvc_websub_feeds",
                                  "Feed URLs by the result of their latest announcement to each hub.",
                                  labels=["hub", "result"])
        last = GaugeMetricFamily("feedsvc_websub_last_attempt_timestamp_seconds",
                                 "When each hub was last sent an announcement.", labels=["hub"])
        for hub in self.websub:
            feeds.add_metric([hub.hub, "ok"], hub.ok)
            feeds.add_metric([hub.hub, "failed"], hub.failed)
            if hub.last_attempt:
                last.add_metric([hub.hub], int(hub.last_attempt.timestamp()))
        yield feeds
        yield last


class Metrics:
    """One app's counters. Each instance has its own registry, so several apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("feedsvc_http_requests", "HTTP requests by route template and status.",
                                ["route", "status"], registry=self.registry)
        self.builds = Counter("feedsvc_feed_builds", "Feeds built from the database (cache misses).",
                              ["format"], registry=self.registry)
        self.cache_hits = Counter("feedsvc_feed_cache_hits", "Feed responses served from the in-memory cache.",
                                  ["format"], registry=self.registry)

    def count_request(self, route: str, status: int) -> None:
        self.requests.labels(route, str(status)).inc()

    def count_build(self, fmt: str) -> None:
        self.builds.labels(fmt).inc()

    def count_cache_hit(self, fmt: str) -> None:
        self.cache_hits.labels(fmt).inc()

    def render(self, items: Callable[[], int], websub: Sequence[HubSummary] = ()) -> bytes:
        """The text exposition: every worker's counters (multiprocess mode) or this process's, then the gauges."""
        if _multiprocess():
            counters = CollectorRegistry()
            MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
        else:
            counters = self.registry
        gauges = CollectorRegistry(auto_describe=True)
        gauges.register(_Snapshot(items(), websub))
        return generate_latest(counters) + generate_latest(gauges)


@contextmanager
def multiprocess_dir(workers: int) -> Iterator[None]:
    """For `feedsvc serve --workers N>1`: a fresh PROMETHEUS_MULTIPROC_DIR the workers inherit (set before any of
    them imports prometheus_client), removed afterwards. An admin's own setting is kept and left in place."""
    if workers < 2 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    path = tempfile.mkdtemp(prefix="feedsvc-metrics-")
    os.environ[MULTIPROC_ENV] = path
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(path, ignore_errors=True)
