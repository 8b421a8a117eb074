"""crawler.process: one crawler process, many sources. Each keeps its own run, lease and verdict; a failing or
hanging source never stalls the others; the window bounds how many crawl at once; a killed batch leaves every
source aborted and the next run completes them."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from feedsvc.config import load_config
from feedsvc.models import CrawlRun
from feedsvc.scheduling.child import run_child
from feedsvc.scheduling.children import settle_runs
from feedsvc.store import Store
from tests.support.crawls import FIXED_NOW, events, gw_source, run_crawler, simple_source, write_config
from tests.support.site_server import SiteServer


def _runs(config: Path) -> dict[str, list[CrawlRun]]:
    cfg = load_config(config)
    with Store.for_config(cfg) as store, store.session() as session:
        out: dict[str, list[CrawlRun]] = {}
        for run in session.scalars(select(CrawlRun).order_by(CrawlRun.id)):
            out.setdefault(run.source_id, []).append(run)
        return out


def test_one_process_many_sources_each_with_its_own_verdict(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    site = make_site_server()
    hang = make_site_server(slow_seconds=30)  # answers /slow after 30 s: longer than the source's timeout
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [
        gw_source(site.base_url, "gw1"), simple_source("down", "http://127.0.0.1:9/"),
        simple_source("hangs", hang.url("slow")), gw_source(site.base_url, "gw2"),
    ], timeout=2.0, retries=0)
    result = run_crawler(config, "gw1", "down", "hangs", "gw2", "--progress-json", "--now", FIXED_NOW,
                         "--window", "2", timeout=120)
    assert result.returncode == 1, result.stderr  # some sources failed
    seen = events(result.stdout)
    done = {e["source"]: e for e in seen if e["event"] == "done"}
    assert {s: done[s]["status"] for s in done} == {"gw1": "ok", "down": "failed", "hangs": "failed", "gw2": "ok"}
    assert "connection refused" in done["down"]["message"] and "no response" in done["hangs"]["message"]
    assert len(done["gw1"]["new_item_ids"]) == 12 and done["gw2"]["new_item_ids"] == []  # same site: seen
    assert len({e["pid"] for e in seen if e["event"] == "start"}) == 1  # one process for all four
    # never more than the window crawling at once
    active = peak = 0
    for event in seen:
        if event["event"] == "crawling":
            active += 1
            peak = max(peak, active)
        elif event["event"] == "done":
            active -= 1
    assert peak == 2
    runs = _runs(config)
    assert {s: [r.status for r in rs] for s, rs in runs.items()} == {
        "gw1": ["ok"], "down": ["failed"], "hangs": ["failed"], "gw2": ["ok"]}


def test_killed_crawl_marks_every_source_aborted_and_the_next_run_completes(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    site = make_site_server(delay=0.5)
    ids = ["a", "b", "c"]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [gw_source(site.base_url, s) for s in ids],
                          timeout=10)
    seen: list[dict[str, Any]] = []

    def stop_on_first_page(event: dict[str, Any]) -> None:  # an event, not a clock: "a" is mid-crawl right now
        seen.append(event)
        if event["event"] == "page" and not any(e["event"] == "page" for e in seen[:-1]):
            start = next(e for e in seen if e["event"] == "start")
            os.killpg(int(start["pid"]), signal.SIGTERM)

    child = run_child(str(config), ids, timeout=300, window=1, on_event=stop_on_first_page)
    settle_runs(load_config(config), child.outcomes)
    assert [o.status for o in child.outcomes] == ["aborted"] * 3, [o.message for o in child.outcomes]
    runs = _runs(config)
    assert {s: [r.status for r in rs] for s, rs in runs.items()} == {s: ["aborted"] for s in ids}
    assert "before this source's turn came" in (runs["c"][0].message or "")
    assert all(r.finished_at is not None for rs in runs.values() for r in rs)

    site.delay = 0
    again = run_child(str(config), ids, timeout=300)
    assert [o.status for o in again.outcomes] == ["ok", "ok", "ok"], [o.message for o in again.outcomes]
    assert {s: [r.status for r in rs] for s, rs in _runs(config).items()} == {s: ["aborted", "ok"] for s in ids}


def test_sources_sharing_a_host_crawl_one_after_the_other(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    """One politeness budget per host: with room for all three, the two sources on one site never overlap."""
    site, other = make_site_server(), make_site_server()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [
        gw_source(site.base_url, "one"), gw_source(other.base_url, "apart"), gw_source(site.base_url, "two"),
    ])
    result = run_crawler(config, "one", "apart", "two", "--progress-json", "--now", FIXED_NOW, "--window", "3",
                         timeout=120)
    assert result.returncode == 0, result.stderr
    order = [(e["event"], e["source"]) for e in events(result.stdout) if e["event"] in ("crawling", "done")]
    assert order.index(("crawling", "two")) > order.index(("done", "one"))
    assert order.index(("crawling", "apart")) < order.index(("done", "one"))  # another host does not wait
