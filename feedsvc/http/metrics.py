"""Process-local counters rendered as Prometheus text exposition format (version 0.0.4).

Small on purpose: a handful of counters and one gauge read at scrape time. With several uvicorn workers
each process counts its own requests (Prometheus sums them when scraped per worker; a single scrape of a
multi-worker server sees one worker's numbers).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence

from feedsvc.store.websub import HubSummary

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.builds: Counter[str] = Counter()
        self.cache_hits: Counter[str] = Counter()

    def count_request(self, route: str, status: int) -> None:
        # Counter += under the GIL is not atomic across threads (handlers run in a thread pool).
        with self._lock:
            self.requests[(route, status)] += 1

    def count_build(self, fmt: str) -> None:
        with self._lock:
            self.builds[fmt] += 1

    def count_cache_hit(self, fmt: str) -> None:
        with self._lock:
            self.cache_hits[fmt] += 1

    def render(self, items: Callable[[], int], websub: Sequence[HubSummary] = ()) -> bytes:
        lines = [
            "# HELP feedsvc_http_requests_total HTTP requests by route template and status.",
            "# TYPE feedsvc_http_requests_total counter",
        ]
        with self._lock:
            requests = sorted(self.requests.items())
            builds = sorted(self.builds.items())
            hits = sorted(self.cache_hits.items())
        lines += [
            f'feedsvc_http_requests_total{{route="{_escape(r)}",status="{s}"}} {n}' for (r, s), n in requests
        ]
        lines += ["# HELP feedsvc_feed_builds_total Feeds built from the database (cache misses).",
                  "# TYPE feedsvc_feed_builds_total counter"]
        lines += [f'feedsvc_feed_builds_total{{format="{f}"}} {n}' for f, n in builds]
        lines += ["# HELP feedsvc_feed_cache_hits_total Feed responses served from the in-memory cache.",
                  "# TYPE feedsvc_feed_cache_hits_total counter"]
        lines += [f'feedsvc_feed_cache_hits_total{{format="{f}"}} {n}' for f, n in hits]
        lines += ["# HELP feedsvc_items Items stored in the database.", "# TYPE feedsvc_items gauge",
                  f"feedsvc_items {items()}"]
        if websub:
            lines += ["# HELP feedsvc_websub_feeds Feed URLs by the result of their latest announcement to each hub.",
                      "# TYPE feedsvc_websub_feeds gauge"]
            for hub in websub:
                lines += [f'feedsvc_websub_feeds{{hub="{_escape(hub.hub)}",result="ok"}} {hub.ok}',
                          f'feedsvc_websub_feeds{{hub="{_escape(hub.hub)}",result="failed"}} {hub.failed}']
            lines += ["# HELP feedsvc_websub_last_attempt_timestamp_seconds When each hub was last sent an announcement.",
                      "# TYPE feedsvc_websub_last_attempt_timestamp_seconds gauge"]
            lines += [f'feedsvc_websub_last_attempt_timestamp_seconds{{hub="{_escape(hub.hub)}"}} '
                      f"{int(hub.last_attempt.timestamp())}" for hub in websub if hub.last_attempt]
        return ("\n".join(lines) + "\n").encode("utf-8")
