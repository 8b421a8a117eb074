"""A front-page database: the committed demo crawl (tests/data/golden/demo.sql) pointed at a live demo site, plus
a later crawl through the store that moves the ranking, a failed run, and a healed/robots warning.

Every item URL is on the live site, so a browser can follow each link on the page.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from feedsvc.config import AppConfig, load_config
from feedsvc.feeds.spec import FeedFilter
from feedsvc.store import Store
from feedsvc.store.feeds import listing_entries
from feedsvc.store.items import ItemRecord, store_items
from feedsvc.store.runs import RunCounts, finish_run, record_crawl_error, start_run
from tests.e2e.test_golden_demo import CONFIG, DUMP, SITE_AT_PORT
from tests.support.crawls import demo_site_sources, toml_str

FIRST_CRAWL = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


def demo_database(tmp: Path, site_url: str, base_url: str) -> AppConfig:
    """Write tmp/config.toml + tmp/front.db for the demo site at `site_url`, feeds under `base_url`."""
    db_path = tmp / "front.db"
    dump = DUMP.read_text(encoding="utf-8").replace(SITE_AT_PORT, site_url)
    with sqlite3.connect(db_path) as conn:
        conn.executescript(dump)
    config = tmp / "config.toml"
    text = CONFIG.format(db=toml_str(f"sqlite:///{db_path}"), sources=demo_site_sources(site_url))
    text = text.replace('base_url = "http://feeds.invalid"', f"base_url = {toml_str(base_url)}")
    config.write_text(text, encoding="utf-8")
    cfg = load_config(config)
    later_crawls(cfg)
    return cfg


def later_crawls(cfg: AppConfig) -> None:
    """gwdemo: a failed run, then a run whose ranking is re-ordered with one newcomer. blog: a run with a healed
    listing and a robots.txt block."""
    with Store.for_config(cfg) as store, store.transaction() as session:
        failed = start_run(session, "gwdemo", FIRST_CRAWL + timedelta(hours=6))
        finish_run(session, failed, "failed", RunCounts(), FIRST_CRAWL + timedelta(hours=6, seconds=3),
                   message="connection refused by demo site: is the site up?")
        at = FIRST_CRAWL + timedelta(days=1)
        run = start_run(session, "gwdemo", at)
        ranking = _listing_urls(session, "gwdemo", "ranking")
        newcomer = next(u for u in _listing_urls(session, "gwdemo", "latest") if u not in ranking)
        # #3 climbs to #1, #1 drops to #4, the last one leaves and a newcomer enters at #6.
        order = [ranking[2], ranking[1], ranking[3], ranking[0], ranking[4], newcomer, *ranking[5:9]]
        records = [ItemRecord(source_id="gwdemo", url=u, title=None, listing_id="ranking", listing_kind="ranking",
                              rank=n) for n, u in enumerate(order, 1)]
        recommended = _listing_urls(session, "gwdemo", "recommended")
        records += [ItemRecord(source_id="gwdemo", url=u, title=None, listing_id="recommended",
                               listing_kind="recommended", rank=n) for n, u in enumerate(recommended, 1)]
        result = store_items(session, records, run, at)
        counts = RunCounts(pages=1, items_seen=result.seen, items_new=result.new,
                           listing_counts={"ranking": len(order), "recommended": len(recommended)})
        finish_run(session, run, "ok", counts, at + timedelta(seconds=2))

        blog = start_run(session, "blog", at)
        posts = _listing_urls(session, "blog", "latest")
        result = store_items(session, [ItemRecord(source_id="blog", url=u, title=None, listing_id="latest",
                                                  listing_kind="latest") for u in posts], blog, at)
        record_crawl_error(session, "blog", blog, posts[0], "healed",
                           "listing 'latest' healed: its block is now 'ul.posts' (9 of 10 items known).", at)
        record_crawl_error(session, "blog", blog, posts[0].rsplit("/", 2)[0] + "/private/",
                           "robots", "Forbidden by robots.txt", at)
        finish_run(session, blog, "ok", RunCounts(pages=1, items_seen=result.seen, listing_counts={"latest": 6}),
                   at + timedelta(seconds=1))


def _listing_urls(session: Session, source: str, listing: str) -> list[str]:
    """URLs of a listing's current items, ranked ones by rank."""
    entries = listing_entries(session, source, listing, FeedFilter(limit=500))
    entries.sort(key=lambda e: (e.rank if e.rank is not None else 1 << 30, e.item.id))
    return [e.item.url for e in entries]
