"""Helpers for feed/app tests: a two-source config and "crawls" written through the real store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy.orm import Session, sessionmaker

from feedsvc.config import AppConfig, parse_config
from feedsvc.store.items import ItemRecord, store_items
from feedsvc.store.runs import RunCounts, finish_run, start_run
from feedsvc.store.sources import sync_sources

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"


def make_config(db_url: str, base_url: str = "http://feeds.test", **server: Any) -> AppConfig:
    raw = {
        "database": {"url": db_url},
        "server": {"base_url": base_url, "cache_max_age": 120, **server},
        "sources": [
            {"id": "gw", "title": "某公文网", "start_urls": ["http://gw.test/"], "timezone": "Asia/Shanghai",
             "listings": [{"id": "recommended", "kind": "recommended", "heading": "推荐文稿"},
                          {"id": "ranking", "kind": "ranking", "heading": "阅读排行"},
                          {"id": "latest", "kind": "latest", "block": "ul.latest"}]},
            {"id": "en", "title": "English News", "start_urls": ["http://en.test/news/"], "timezone": "America/New_York",
             "listings": [{"id": "latest", "block": "ul.news"}]},
        ],
        "topics": [{"id": "party", "title": "党建", "keywords": ["党员", "支部"]}],
    }
    return parse_config(raw)


def listed(source: str, listing: str, url: str, title: str, rank: int | None = None, *,
           published: datetime | None = None, kind: str | None = None) -> ItemRecord:
    return ItemRecord(source_id=source, url=url, title=title, published=published, date_text=None,
                      listing_id=listing, listing_kind=kind or ("ranking" if listing == "ranking" else "latest"),
                      rank=rank)


def article(source: str, url: str, title: str, *, summary: str | None = None, content: str | None = None,
            published: datetime | None = None) -> ItemRecord:
    return ItemRecord(source_id=source, url=url, title=title, published=published, is_article=True,
                      summary=summary, content=content)


def crawl(factory: sessionmaker[Session], cfg: AppConfig, source: str, records: Sequence[ItemRecord],
          at: datetime) -> None:
    """One finished crawl run of `source` storing `records` (what the crawler does, minus the fetching)."""
    with factory() as session:
        sync_sources(session, cfg.sources, at)
        run_id = start_run(session, source, at)
        result = store_items(session, records, run_id, at)
        finish_run(session, run_id, "ok", RunCounts(pages=1, items_seen=result.seen,
                                                               items_new=result.new), at + timedelta(seconds=5))
        session.commit()


def sample_crawls(factory: sessionmaker[Session], cfg: AppConfig) -> None:
    """A small but varied database: CJK, emoji, hostile titles, HTML content, a ranking, two crawls, an undated
    item (a/3: no date in its listing or article)."""
    shanghai_day = datetime(2026, 10, 11, 16, 0, tzinfo=UTC)  # 2026-10-12 00:00 in Asia/Shanghai
    crawl(factory, cfg, "gw", [
        listed("gw", "recommended", "http://gw.test/a/1.html", "2024年支部党员大会会议记录", published=shanghai_day),
        listed("gw", "ranking", "http://gw.test/a/1.html", "2024年支部党员大会会议记录", 2, published=shanghai_day),
        # Dated: an undated ranking-only item would be left out of the new-items feeds (docs/feeds.md).
        listed("gw", "ranking", "http://gw.test/a/2.html", "Title <b>bold</b> & \x01ctrl\x1f 😀 混合 Ωμέγα", 1,
               published=shanghai_day),
        listed("gw", "latest", "http://gw.test/a/3.html", "关于开展“三会一课”的通知"),
        article("gw", "http://gw.test/a/1.html", "2024年支部党员大会会议记录", summary="会议记录摘要 党员",
                content='<p onclick="evil()">正文 <a href="/a/3.html">相关</a><img src="img/x.png" onerror="alert(1)">'
                        '<script>alert("x")</script></p>', published=datetime(2026, 10, 12, 2, 30, tzinfo=UTC)),
    ], T0)
    crawl(factory, cfg, "en", [
        listed("en", "latest", "http://en.test/news/1", "Budget & <Tax> reform passes", published=T0),
        listed("en", "latest", "http://en.test/news/2", "Weather: storm warning", published=T0),
    ], T0 + timedelta(minutes=30))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(app: Any, port: int = 0) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 (`port`, default chosen by the OS) in a thread; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def atom_ids(xml: bytes) -> list[str]:
    from lxml import etree

    root = etree.fromstring(xml)
    return [e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry")]


def check_path(path: Path) -> Path:
    assert path.exists(), path
    return path


RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$"
RFC822 = r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d [+-]\d{4}$"


def check_valid_feed(body: bytes, kind: str, self_url: str) -> Any:
    """What the W3C validator would insist on, checked locally: parses cleanly, self link, unique ids,
    absolute URLs, RFC 3339 (Atom, JSON) / RFC 822 (RSS) dates. Returns the feedparser result (or JSON)."""
    import json
    import re
    from urllib.parse import urlparse

    import feedparser
    from lxml import etree

    def absolute(url: str | None) -> bool:
        parsed = urlparse(url or "")
        return parsed.scheme in ("http", "https") and bool(parsed.netloc)

    if kind == "json":
        doc = json.loads(body)
        assert doc["version"] == "https://jsonfeed.org/version/1.1"
        assert doc["feed_url"] == self_url and absolute(doc["home_page_url"])
        ids = [item["id"] for item in doc["items"]]
        assert len(ids) == len(set(ids))
        for item in doc["items"]:
            # date_published is optional (left out when the date is unknown); date_modified is always there.
            assert absolute(item["url"]) and re.match(RFC3339, item["date_modified"])
            assert re.match(RFC3339, item.get("date_published", item["date_modified"]))
        return doc
    parsed = feedparser.parse(body)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    root = etree.fromstring(body)
    if kind == "atom":
        assert parsed.version == "atom10"
        selfs = [link.get("href") for link in root.findall(f"{ATOM}link") if link.get("rel") == "self"]
        assert selfs == [self_url]
        ids = [e.findtext(f"{ATOM}id") for e in root.findall(f"{ATOM}entry")]
        entries = root.findall(f"{ATOM}entry")
        # <updated> is required; <published> is optional (left out when the date is unknown) but well formed if there.
        dates = [root.findtext(f"{ATOM}updated")] + [e.findtext(f"{ATOM}updated") for e in entries]
        dates += [p for e in entries if (p := e.findtext(f"{ATOM}published")) is not None]
        assert all(re.match(RFC3339, d or "") for d in dates), dates
        hrefs = [link.get("href") for link in root.iter(f"{ATOM}link")]
    else:
        assert parsed.version == "rss20"
        channel = root.find("channel")
        assert channel is not None
        selfs = [link.get("href") for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
        assert selfs == [self_url]
        ids = [item.findtext("guid") for item in channel.findall("item")]
        # pubDate is optional (left out when the date is unknown) but RFC 822 when there.
        dates = [channel.findtext("lastBuildDate")] + [
            p for i in channel.findall("item") if (p := i.findtext("pubDate")) is not None]
        assert all(re.match(RFC822, d or "") for d in dates), dates
        hrefs = [channel.findtext("link")] + [i.findtext("link") for i in channel.findall("item")]
    assert len(ids) == len(set(ids)) and all(ids)
    assert all(absolute(h) for h in hrefs), hrefs
    return parsed
