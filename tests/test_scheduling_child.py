"""feedsvc.scheduling.child: a crawl as a real child process (`python -m crawler.run`) against the fixture site
on 127.0.0.1: the outcome read from its progress events, a config mistake, and a crawl stopped at its time limit."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from feedsvc.models import RunStatus
from feedsvc.scheduling.child import counts_from_event, crawl_command, parse_event, run_child, run_crawl
from tests.support.crawls import FIXED_NOW, gw_source, write_config
from tests.support.site_server import SiteServer


@pytest.fixture(autouse=True)
def _own_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FEEDSVC_DATABASE_URL", raising=False)  # the child reads the test config's database


def test_crawl_command_and_event_parsing() -> None:
    now = datetime.fromisoformat(FIXED_NOW)
    cmd = crawl_command("/c.toml", ["a", "b"], now=now, trigger="schedule", window=3, source_timeout=2.5)
    assert cmd[:5] == [sys.executable, "-m", "crawler.run", "a", "b"]
    assert cmd[cmd.index("--now") + 1] == now.isoformat() and cmd[cmd.index("--window") + 1] == "3"
    assert cmd[cmd.index("--source-timeout") + 1] == "2.5" and "--progress-json" in cmd
    assert parse_event('{"event": "done", "source": "a"}\n') == {"event": "done", "source": "a"}
    assert parse_event("2026-01-05 INFO scrapy log line") is None
    assert parse_event("{not json") is None and parse_event("[1, 2]") is None
    counts = counts_from_event({"pages": "3", "items_new": 2, "listing_counts": {"latest": "5"}})
    assert counts is not None and (counts.pages, counts.items_new, counts.errors) == (3, 2, 0)
    assert counts.listing_counts == {"latest": 5} and counts_from_event(None) is None


def test_a_crawl_reports_its_run_even_when_the_progress_callback_breaks(tmp_path: Path,
                                                                      site_server: SiteServer) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/f.db", [gw_source(site_server.base_url, "gw")])
    events: list[dict[str, Any]] = []

    def broken_display(event: dict[str, Any]) -> None:
        events.append(event)
        raise RuntimeError("display bug")

    outcome = run_child(str(config), ["gw", "gw"], now=datetime.fromisoformat(FIXED_NOW), on_event=broken_display,
                        timeout=120)
    [gw] = outcome.outcomes  # asked twice, crawled once
    assert gw.status == RunStatus.OK and gw.succeeded and not gw.timed_out, gw.message
    assert gw.run_id is not None and gw.counts is not None and gw.counts.items_new > 0
    assert len(gw.new_item_ids) == gw.counts.items_new and gw.finished_at is not None
    assert outcome.returncode == 0  # the child only crawls: its finished runs go back to the caller's after-crawl
    assert [(r.source_id, r.run_id, r.new_item_ids) for r in outcome.finished] == [("gw", gw.run_id, gw.new_item_ids)]
    kinds = [e.get("event") for e in events if e.get("source") == "gw"]
    assert kinds[0] == "start" and kinds[-1] == "done"


def test_an_unknown_source_is_a_config_outcome(tmp_path: Path, site_server: SiteServer) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/f.db", [gw_source(site_server.base_url, "gw")])
    outcome = run_crawl(str(config), "nope", timeout=60)
    assert outcome.status == RunStatus.CONFIG and not outcome.succeeded
    assert outcome.returncode == 2 and "nope" in outcome.message and outcome.run_id is None


def test_a_crawl_past_its_time_limit_is_stopped_with_its_process_group(
    tmp_path: Path, make_site_server: Callable[..., SiteServer]
) -> None:
    site = make_site_server(delay=120)  # every page hangs far beyond the limit
    # A 15 s download timeout: robots.txt and the start page alone outlast the 20 s limit, so the crawl cannot
    # end by itself first; after SIGTERM the hanging request gives up within the 15 s grace and the child closes
    # its run.
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/f.db", [gw_source(site.base_url, "gw")], timeout=15)
    pids: list[int] = []
    outcome = run_crawl(str(config), "gw", timeout=20,  # room for a slow start on a busy machine
                        on_event=lambda e: pids.append(int(e["pid"])) if "pid" in e else None)
    assert outcome.status == RunStatus.TIMEOUT and outcome.timed_out, outcome
    assert "exceeded its time limit of 20s" in outcome.message
    assert pids and outcome.run_id is not None  # it had started its run: the stop closed it
    for pid in pids:  # the child (and its group) is gone, not left crawling
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_sigkilled_feedsvc_crawl_takes_its_crawl_child_with_it(
    tmp_path: Path, make_site_server: Callable[..., SiteServer]
) -> None:
    import signal
    import subprocess

    from sqlalchemy import select

    from feedsvc.config import load_config
    from feedsvc.models import CrawlRun
    from feedsvc.store import Store
    from tests.support.crawls import child_env
    from tests.support.scheduling import wait_for

    site = make_site_server(delay=120)  # the crawl hangs on its first page: only a kill ends it
    config = write_config(tmp_path, f"sqlite:///{tmp_path}/f.db", [gw_source(site.base_url, "gw")], timeout=300)
    parent = subprocess.Popen([sys.executable, "-m", "feedsvc", "crawl", "--config", str(config)], env=child_env(),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cfg = load_config(config)

    def crawl_pid() -> int | None:
        try:
            with Store.for_config(cfg, migrate=False) as store, store.session() as session:
                run = session.scalars(select(CrawlRun)).first()
        except Exception:  # the child has not created the schema yet
            return None
        return run.pid if run is not None else None

    try:
        pid = wait_for(crawl_pid, timeout=120, what="the crawl child's run")
        os.kill(parent.pid, signal.SIGKILL)  # no handler, no finally: only the kernel can stop the child now
        parent.wait(timeout=30)

        def gone() -> bool:  # dead, or a zombie nobody reaped yet (its parent is gone)
            try:
                return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
            except (FileNotFoundError, ProcessLookupError):
                return True

        wait_for(gone, timeout=30, what=f"crawl child {pid} to die with its parent")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
