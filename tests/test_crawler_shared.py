"""crawler/shared.py: many sources in one Scrapy Crawler, through `python -m crawler.run` against real local sites.
Each source keeps its own run, errors, items and verdict; sources on one host never have requests in flight at
the same time; a dead or failing site is recorded against its own source only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select

from feedsvc.config import load_config
from feedsvc.models import CrawlErrorRecord, CrawlRun, Item
from feedsvc.store import Store
from tests.support.crawls import FIXED_NOW, events, gw_source, run_crawler, toml_str, write_config
from tests.support.site_server import SiteServer


def plain_source(source_id: str, url: str) -> str:
    """A source that never renders (so it shares the Crawler whether or not Chromium is installed)."""
    return (f'[[sources]]\nid = "{source_id}"\ntitle = "{source_id}"\nstart_urls = [{toml_str(url)}]\n'
            'render = "never"\n  [[sources.listings]]\n  id = "latest"\n  heading = "Latest posts"\n')


def _stored(config: Path) -> tuple[dict[str, CrawlRun], dict[str, set[int]], dict[str, list[str]]]:
    cfg = load_config(config)
    with Store.for_config(cfg) as store, store.session() as session:
        runs = {r.source_id: r for r in session.scalars(select(CrawlRun))}
        items: dict[str, set[int]] = {}
        for item in session.scalars(select(Item)):
            items.setdefault(item.source_id, set()).add(item.id)
        errors: dict[str, list[str]] = {}
        for error in session.scalars(select(CrawlErrorRecord)):
            errors.setdefault(error.source_id, []).append(error.kind)
        return runs, items, errors


def test_sources_share_one_crawler_and_keep_their_own_runs_and_items(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    one, other = make_site_server(), make_site_server(host="127.0.0.2")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [
        gw_source(one.base_url, "one"), gw_source(other.base_url, "other"),
        plain_source("dead", "http://127.0.0.1:9/"), plain_source("broken", one.url("status/500")),
    ], retries=0)
    result = run_crawler(config, "one", "other", "dead", "broken", "--progress-json", "--now", FIXED_NOW, "-v")
    assert "sources share one Scrapy Crawler" in result.stderr
    done = {e["source"]: e for e in events(result.stdout) if e["event"] == "done"}
    assert {s: e["status"] for s, e in done.items()} == {"one": "ok", "other": "ok", "dead": "failed",
                                                          "broken": "failed"}
    assert "connection refused" in done["dead"]["message"]
    assert "HTTP 500" in done["broken"]["message"]
    runs, items, errors = _stored(config)
    assert {s: r.status for s, r in runs.items()} == {s: e["status"] for s, e in done.items()}
    for source in ("one", "other"):  # each its own items, the very ids its run announced
        assert items[source] and items[source] == set(done[source]["new_item_ids"])
        assert runs[source].items_new == len(items[source]) and runs[source].pages == done[source]["counts"]["pages"]
        assert source not in errors
    assert done["one"]["counts"] == done["other"]["counts"]  # the same site: the same crawl, apart
    assert errors == {"dead": ["connection"], "broken": ["http"]}
    assert "dead" not in items and "broken" not in items


def test_sources_on_one_host_never_have_requests_in_flight_together(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    site = make_site_server(delay=0.02)  # each answer takes a while, so overlapping requests would show
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [
        gw_source(site.base_url, "first"), gw_source(site.base_url, "second"),
    ], crawl_extra="")
    text = config.read_text(encoding="utf-8").replace("concurrent_requests_per_domain = 4",
                                                      "concurrent_requests_per_domain = 1")
    config.write_text(text, encoding="utf-8")
    result = run_crawler(config, "first", "second", "--progress-json", "--now", FIXED_NOW)
    done = {e["source"]: e for e in events(result.stdout) if e["event"] == "done"}
    assert {s: e["status"] for s, e in done.items()} == {"first": "ok", "second": "ok"}, result.stderr
    assert done["second"]["counts"]["pages"] == done["first"]["counts"]["pages"] > 1
    assert site.max_inflight == 1
    assert len(site.requests()) >= 2 * done["first"]["counts"]["pages"]


def test_a_stopped_source_ends_partial_while_the_others_finish(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    site, slow = make_site_server(), make_site_server(host="127.0.0.2", delay=1.0)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [
        gw_source(site.base_url, "quick"), gw_source(slow.base_url, "slow"),
    ], timeout=10.0)
    text = config.read_text(encoding="utf-8").replace("concurrent_requests_per_domain = 4",
                                                      "concurrent_requests_per_domain = 1")
    config.write_text(text, encoding="utf-8")
    result = run_crawler(config, "quick", "slow", "--progress-json", "--now", FIXED_NOW, "--source-timeout", "4")
    done = {e["source"]: e for e in events(result.stdout) if e["event"] == "done"}
    assert done["quick"]["status"] == "ok", done["quick"]["message"]
    assert done["slow"]["status"] == "partial" and "closespider_timeout" in done["slow"]["message"]
    runs, items, _ = _stored(config)
    assert runs["slow"].status == "partial" and items["slow"] == set(done["slow"]["new_item_ids"])


def test_a_source_with_its_own_delay_crawls_in_its_own_crawler_beside_the_shared_one(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    one, other = make_site_server(), make_site_server(host="127.0.0.2")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [
        gw_source(one.base_url, "shared"), gw_source(other.base_url, "own", extra="download_delay = 0.01"),
    ])
    result = run_crawler(config, "shared", "own", "--progress-json", "--now", FIXED_NOW)
    done = {e["source"]: e for e in events(result.stdout) if e["event"] == "done"}
    assert {s: e["status"] for s, e in done.items()} == {"shared": "ok", "own": "ok"}, result.stderr
    runs, items, _ = _stored(config)
    for source in ("shared", "own"):
        assert items[source] == set(done[source]["new_item_ids"]) and runs[source].items_new == len(items[source])
    assert done["shared"]["counts"] == done["own"]["counts"]


def test_robots_txt_is_revalidated_on_the_next_crawl(
    make_site_server: Callable[..., SiteServer], tmp_path: Path
) -> None:
    """robots.txt belongs to no source in the shared Crawler; it still goes through an HTTP cache, so the next
    crawl asks with its validators and an unchanged file costs a 304, as every other page does."""
    site = make_site_server()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [gw_source(site.base_url, "one")])
    for _ in range(2):
        result = run_crawler(config, "one", "--progress-json", "--now", FIXED_NOW)
        done = [e for e in events(result.stdout) if e["event"] == "done"]
        assert [e["status"] for e in done] == ["ok"], result.stderr
    first, second = site.requests("/robots.txt")
    assert first.status == 200 and first.header("If-None-Match") is None
    assert second.header("If-None-Match") and second.status == 304
    assert (tmp_path / "httpcache" / "_robots").is_dir()
