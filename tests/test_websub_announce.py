"""WebSub: feeds advertise their hubs, and after a real crawl the changed feeds (only those) are announced to
local hubs; failures are retried, recorded and shown in /metrics and `feedsvc status`, never raised."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from lxml import etree
from starlette.testclient import TestClient

from feedsvc.cli import main
from feedsvc.config import AppConfig, load_config
from feedsvc.demo.server import DemoSite
from feedsvc.feeds.render import FORMATS
from feedsvc.feeds.spec import all_specs
from feedsvc.http.app import create_app
from feedsvc.store import Store
from feedsvc.store.websub import hub_summaries
from feedsvc.websub.announce import announce_feeds, announce_in_background, feed_digests
from tests.support.crawls import demo_site_sources, gw_listings, run_crawler, toml_str
from tests.support.hub_server import Hub

# Two of the portal's lists are enough to change feeds and leave others unchanged.
TWO_LISTS = gw_listings(only=("ranking", "latest"), paginate=False)
NOW = "2026-11-20T12:00:00+08:00"
BASE = "http://feeds.invalid"
CONFIG = """
[database]
url = {db}
[crawl]
user_agent = "feedsvc-test/1.0 (+http://127.0.0.1/)"
download_delay = 0
autothrottle = false
[server]
base_url = "{base}"
[websub]
hubs = {hubs}
retries = 2
backoff = 0
timeout = 5
batch_size = 7

{sources}
"""


def _write_config(path: Path, db: Path, site: str, hubs: list[str]) -> AppConfig:
    path.write_text(CONFIG.format(db=toml_str(f"sqlite:///{db}"), base=BASE, hubs=toml_str_list(hubs),
                                  sources=demo_site_sources(site, TWO_LISTS)), encoding="utf-8")
    return load_config(path)


def toml_str_list(values: list[str]) -> str:
    return "[" + ", ".join(toml_str(v) for v in values) + "]"


def _all_urls(cfg: AppConfig) -> set[str]:
    return {BASE + spec.path(fmt) for spec in all_specs(cfg) for fmt in FORMATS}


@pytest.fixture(scope="module")
def site() -> Iterator[DemoSite]:
    with DemoSite() as demo:
        yield demo


def test_feeds_advertise_their_hubs_and_self(tmp_path: Path, site: DemoSite) -> None:
    cfg = _write_config(tmp_path / "c.toml", tmp_path / "f.db", site.base_url, ["http://hub.test/a", "http://hub.test/b"])
    with TestClient(create_app(cfg, check_interval=0)) as client:
        atom = etree.fromstring(client.get("/feeds/blog.atom").content)
        links = {(link.get("rel"), link.get("href")) for link in atom.findall("{http://www.w3.org/2005/Atom}link")}
        assert {("hub", "http://hub.test/a"), ("hub", "http://hub.test/b"), ("self", f"{BASE}/feeds/blog.atom")} <= links
        rss = etree.fromstring(client.get("/feeds/blog.rss").content)
        rss_links = {(link.get("rel"), link.get("href"))
                     for link in rss.find("channel").findall("{http://www.w3.org/2005/Atom}link")}  # type: ignore[union-attr]
        assert {("hub", "http://hub.test/a"), ("hub", "http://hub.test/b"), ("self", f"{BASE}/feeds/blog.rss")} <= rss_links
        assert rss.findtext("channel/link") == site.base_url + "/en/"  # hub links do not displace the site link
        assert not feedparser.parse(client.get("/feeds/blog.rss").content).bozo
        doc = client.get("/feeds/blog.json").json()
        assert doc["hubs"] == [{"type": "WebSub", "url": "http://hub.test/a"}, {"type": "WebSub", "url": "http://hub.test/b"}]
        assert doc["feed_url"] == f"{BASE}/feeds/blog.json"


def test_a_crawl_announces_changed_feeds_only_and_records_every_result(tmp_path: Path, site: DemoSite) -> None:
    with Hub() as good, Hub(mode="down") as down:
        config = tmp_path / "c.toml"
        cfg = _write_config(config, tmp_path / "f.db", site.base_url, [good.url, down.url])
        assert run_crawler(config, "gwdemo", "--now", NOW, timeout=120).returncode == 0
        report = announce_feeds(cfg)  # what the after-crawl hook runs
        assert report is not None
        every = _all_urls(cfg)
        # First announcement: every feed URL is news to the hub, in batches of batch_size, form-encoded.
        assert set(good.urls()) == every and len(good.urls()) == len(every)
        assert all(r.mode == ["publish"] and 1 <= len(r.urls) <= 7 for r in good.requests)
        assert all(r.content_type == "application/x-www-form-urlencoded" for r in good.requests)
        assert len(down.requests) == 3  # one batch, tried 1 + retries times; later batches are not sent at all
        assert (report.announced, report.failed) == (len(every), len(every))

        store = Store.open(cfg.database.url)
        engine, factory = store.engine, store.session_factory
        before = feed_digests(cfg, factory)
        assert feed_digests(cfg, factory) is before  # same data version: the last build's digests, nothing built
        good.requests.clear()
        down.requests.clear()
        assert run_crawler(config, "blog", "--now", NOW, timeout=120).returncode == 0
        after = feed_digests(cfg, factory)
        changed = {url for url in every if before[url] != after[url]}
        assert f"{BASE}/feeds/blog/latest.atom" in changed and f"{BASE}/feeds/new.json" in changed
        assert f"{BASE}/feeds/gwdemo/ranking.atom" not in changed
        announce_feeds(cfg)
        assert set(good.urls()) == changed  # unchanged feeds are not announced again
        assert len(down.requests) == 3  # the failed ones are tried again, still failing

        with factory() as session:
            summaries = {s.hub: s for s in hub_summaries(session)}
        assert summaries[good.url].ok == len(every) and summaries[good.url].failed == 0
        assert summaries[down.url].failed == len(every) and "HTTP 503" in (summaries[down.url].last_error or "")

        with TestClient(create_app(cfg, check_interval=0)) as client:
            metrics = client.get("/metrics").text
        assert f'feedsvc_websub_feeds{{hub="{good.url}",result="ok"}} {len(every)}.0' in metrics
        assert f'feedsvc_websub_feeds{{hub="{down.url}",result="failed"}} {len(every)}.0' in metrics
        status = _status(config)
        assert f"websub {good.url}: {len(every)} feed URL(s) announced ok, 0 failed" in status
        assert f"websub {down.url}: 0 feed URL(s) announced ok, {len(every)} failed" in status and "HTTP 503" in status
        engine.dispose()


def _status(config: Path) -> str:
    from tests.support.crawls import run_feedsvc

    done = run_feedsvc("status", "--config", str(config))
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())  # rich wraps long lines


def test_static_publishing_announces_the_published_urls(tmp_path: Path, site: DemoSite) -> None:
    with Hub() as hub:
        config = tmp_path / "c.toml"
        cfg = _write_config(config, tmp_path / "f.db", site.base_url, [hub.url])
        assert run_crawler(config, "blog", "--now", NOW, timeout=120).returncode == 0
        out = tmp_path / "public"
        assert main(["publish", "--config", str(config), str(out)]) == 0
        published = {BASE + "/" + str(p.relative_to(out)) for p in (out / "feeds").rglob("*") if p.is_file()}
        assert set(hub.urls()) == published and _all_urls(cfg) <= published
        hub.requests.clear()
        assert main(["publish", "--config", str(config), str(out)]) == 0
        assert hub.requests == []  # nothing changed, nothing announced


def test_a_slow_hub_never_holds_up_the_caller(tmp_path: Path) -> None:
    with Hub(mode="slow", delay=1.5) as slow:
        cfg = _write_config(tmp_path / "c.toml", tmp_path / "f.db", "http://127.0.0.1:9", [slow.url])
        started = time.monotonic()
        thread = announce_in_background(cfg)
        assert time.monotonic() - started < 0.5 and thread is not None
        thread.join(timeout=60)
        assert not thread.is_alive() and slow.urls()


def test_feedsvc_crawl_announces_through_the_after_crawl_hook(tmp_path: Path, site: DemoSite) -> None:
    """The whole path a subscriber relies on: `feedsvc crawl` → crawl → after-crawl hook → hub, with nobody
    calling announce by hand; a hub that is down is recorded and fails nothing."""
    from tests.support.crawls import run_feedsvc

    with Hub() as good, Hub(mode="down") as down:
        config = tmp_path / "c.toml"
        cfg = _write_config(config, tmp_path / "f.db", site.base_url, [good.url, down.url])
        done = run_feedsvc("crawl", "blog", "--config", str(config), "--now", NOW)
        assert done.returncode == 0, done.stderr  # the dead hub does not fail the crawl
        assert f"{BASE}/feeds/blog/latest.atom" in good.urls() and f"{BASE}/feeds/new.json" in good.urls()
        assert down.requests, "the failing hub was tried too"
        with Store.open(cfg.database.url) as store, store.session() as session:
            summaries = {s.hub: s for s in hub_summaries(session)}
        assert summaries[good.url].ok > 0 and summaries[down.url].failed > 0
