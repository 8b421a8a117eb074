"""http/metrics.py: counters rendered in the Prometheus text format, label values escaped."""

from __future__ import annotations

from datetime import UTC, datetime

from feedsvc.http.metrics import CONTENT_TYPE, Metrics
from feedsvc.store.websub import HubSummary


def test_counters_render_sorted_with_escaped_labels() -> None:
    metrics = Metrics()
    metrics.count_request("/feeds/new.{fmt}", 200)
    metrics.count_request("/feeds/new.{fmt}", 200)
    metrics.count_request('/a"b\\c\n', 404)
    metrics.count_build("atom")
    metrics.count_cache_hit("json")
    lines = metrics.render(lambda: 42).decode().splitlines()
    assert 'feedsvc_http_requests_total{route="/feeds/new.{fmt}",status="200"} 2' in lines
    assert 'feedsvc_http_requests_total{route="/a\\"b\\\\c\\n",status="404"} 1' in lines
    assert 'feedsvc_feed_builds_total{format="atom"} 1' in lines
    assert 'feedsvc_feed_cache_hits_total{format="json"} 1' in lines
    assert "feedsvc_items 42" in lines
    assert not any("websub" in line for line in lines)  # no hubs configured: no hub series
    assert all(line.startswith(("# HELP ", "# TYPE ", "feedsvc_")) for line in lines)
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")


def test_websub_gauges_per_hub() -> None:
    at = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
    text = Metrics().render(lambda: 0, [HubSummary("http://hub/", 3, 1, at, "timeout"),
                                        HubSummary("http://other/", 0, 0, None, None)]).decode()
    assert 'feedsvc_websub_feeds{hub="http://hub/",result="ok"} 3' in text
    assert 'feedsvc_websub_feeds{hub="http://hub/",result="failed"} 1' in text
    assert f'feedsvc_websub_last_attempt_timestamp_seconds{{hub="http://hub/"}} {int(at.timestamp())}' in text
    assert 'last_attempt_timestamp_seconds{hub="http://other/"}' not in text
