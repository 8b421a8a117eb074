"""http/metrics.py: prometheus_client counters and scrape-time gauges under the names the README lists; with
several workers (PROMETHEUS_MULTIPROC_DIR) one scrape sums every worker's counts."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from feedsvc.http.metrics import CONTENT_TYPE, MULTIPROC_ENV, Metrics, multiprocess_dir
from feedsvc.store.websub import HubSummary
from tests.support.feeds import free_port

ROOT = Path(__file__).resolve().parent.parent


def _samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed by prometheus_client's own parser: (name, sorted labels) → value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text.decode("utf-8")) for s in family.samples}


def test_counters_and_items_with_escaped_labels() -> None:
    metrics = Metrics()
    metrics.count_request("/feeds/new.{fmt}", 200)
    metrics.count_request("/feeds/new.{fmt}", 200)
    metrics.count_request('/a"b\\c\n', 404)
    metrics.count_build("atom")
    metrics.count_cache_hit("json")
    text = metrics.render(lambda: 42)
    samples = _samples(text)
    assert samples[("feedsvc_http_requests_total", (("route", "/feeds/new.{fmt}"), ("status", "200")))] == 2
    assert samples[("feedsvc_http_requests_total", (("route", '/a"b\\c\n'), ("status", "404")))] == 1
    assert samples[("feedsvc_feed_builds_total", (("format", "atom"),))] == 1
    assert samples[("feedsvc_feed_cache_hits_total", (("format", "json"),))] == 1
    assert samples[("feedsvc_items", ())] == 42
    assert 'route="/a\\"b\\\\c\\n"' in text.decode()  # escaped in the exposition itself
    assert not any("websub" in name or name.endswith("_created") for name, _ in samples)
    assert CONTENT_TYPE.startswith("text/plain; version=0.0.4")


def test_two_apps_in_one_process_count_apart() -> None:
    first, second = Metrics(), Metrics()
    first.count_build("rss")
    assert ("feedsvc_feed_builds_total", (("format", "rss"),)) not in _samples(second.render(lambda: 0))


def test_websub_gauges_per_hub() -> None:
    at = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
    samples = _samples(Metrics().render(lambda: 0, [HubSummary("http://hub/", 3, 1, at, "timeout"),
                                                     HubSummary("http://other/", 0, 0, None, None)]))
    assert samples[("feedsvc_websub_feeds", (("hub", "http://hub/"), ("result", "ok")))] == 3
    assert samples[("feedsvc_websub_feeds", (("hub", "http://hub/"), ("result", "failed")))] == 1
    assert samples[("feedsvc_websub_last_attempt_timestamp_seconds", (("hub", "http://hub/"),))] == at.timestamp()
    assert ("feedsvc_websub_last_attempt_timestamp_seconds", (("hub", "http://other/"),)) not in samples


def _count_in_a_worker(requests: int) -> None:
    metrics = Metrics()
    for _ in range(requests):
        metrics.count_request("/healthz", 200)
    metrics.count_build("atom")


def test_one_scrape_sums_every_worker_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters see the env when they import prometheus
    workers = [spawn.Process(target=_count_in_a_worker, args=(n,)) for n in (3, 4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    samples = _samples(Metrics().render(lambda: 5))  # this process counted nothing: it only reads the files
    assert samples[("feedsvc_http_requests_total", (("route", "/healthz"), ("status", "200")))] == 7
    assert samples[("feedsvc_feed_builds_total", (("format", "atom"),))] == 2
    assert samples[("feedsvc_items", ())] == 5  # read at scrape time, never summed


def test_multiprocess_dir_is_made_for_several_workers_and_removed_after() -> None:
    before = os.environ.pop(MULTIPROC_ENV, None)
    try:
        with multiprocess_dir(1):
            assert MULTIPROC_ENV not in os.environ
        with multiprocess_dir(2):
            path = Path(os.environ[MULTIPROC_ENV])
            assert path.is_dir()
        assert not path.exists() and MULTIPROC_ENV not in os.environ
    finally:
        if before is not None:
            os.environ[MULTIPROC_ENV] = before


def test_feedsvc_serve_with_two_workers_reports_every_request(tmp_path: Path) -> None:
    db = tmp_path / "feeds.db"
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("FEEDSVC_DATABASE_URL", "FEEDSVC_CONFIG", MULTIPROC_ENV)}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "serve", "--config", str(config), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--no-access-log", "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        served = 0
        deadline = time.monotonic() + 60
        while served == 0:
            assert time.monotonic() < deadline, "feedsvc serve did not answer"
            try:
                served += httpx.get(f"{base}/healthz", timeout=5).status_code == 200
            except httpx.TransportError:
                time.sleep(0.2)  # not listening yet
        for _ in range(40):  # a new connection each: the workers share the listening socket
            served += httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        for _ in range(6):  # whichever worker answers the scrape, it reports both workers' requests
            samples = _samples(httpx.get(f"{base}/metrics", timeout=5).content)
            assert samples[("feedsvc_http_requests_total", (("route", "/healthz"), ("status", "200")))] == served
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode(errors="replace")
