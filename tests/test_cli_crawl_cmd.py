"""`feedsvc crawl | status | export` and the crawl child runner, through real child processes (`feedsvc preview`: tests/test_crawler_preview.py)."""

from __future__ import annotations

import csv
import io
import json
import socket
from pathlib import Path

import pytest
from sqlalchemy import func, select

from feedsvc.cli import main as feedsvc_main
from feedsvc.models import CrawlRun, Item
from feedsvc.scheduling.child import run_crawl
from feedsvc.store.db import make_engine, make_session_factory
from tests.support.crawls import FIXED_NOW, gw_source, simple_source, write_config
from tests.support.site_server import SiteServer


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def feedsvc(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """`feedsvc ARGS` in this process (crawls still run as child processes): no interpreter start-up cost."""
    capsys.readouterr()
    code = feedsvc_main(list(args))
    out = capsys.readouterr()
    return Result(code, out.out, out.err)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _count_items(db_url: str) -> int:
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        count = session.scalar(select(func.count()).select_from(Item)) or 0
    engine.dispose()
    return count


def test_crawl_command_runs_every_source_and_failures_keep_stored_items(
    make_site_server: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'f.db'}"
    server: SiteServer = make_site_server()  # type: ignore[operator]
    sources = [gw_source(server.base_url), simple_source("down", f"http://127.0.0.1:{_closed_port()}/"),
               simple_source("broken", server.url("status/500"))]
    config = write_config(tmp_path, db_url, sources)
    result = feedsvc(capsys, "crawl", "--config", str(config), "--now", FIXED_NOW)
    assert result.returncode == 1, result.stderr  # a source failed
    # Captured output is not a terminal: the summary is plain aligned text, one line per source.
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if len(line.split()) == 7}
    assert "ok" in lines["gwsite"] and "12" in lines["gwsite"]
    assert "failed" in lines["down"] and "failed" in lines["broken"]
    assert "connection refused" in result.stderr and "HTTP 500" in result.stderr
    assert _count_items(db_url) == 12

    server.stop()  # the site goes down; its cached pages must not pass for "not modified"
    again = feedsvc(capsys, "crawl", "gwsite", "--config", str(config))
    assert again.returncode == 1
    assert _count_items(db_url) == 12  # stored items stay
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        last = session.scalars(select(CrawlRun).where(CrawlRun.source_id == "gwsite").order_by(CrawlRun.id.desc())).first()
        assert last is not None and last.status == "failed" and last.pages == 0 and last.errors >= 1
    engine.dispose()


def test_status_warns_when_a_listing_stops_yielding_and_export_csv(
    site_server: SiteServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'f.db'}"
    good = write_config(tmp_path, db_url, [gw_source(site_server.base_url)])
    broken = write_config(tmp_path, db_url, [gw_source(site_server.base_url, latest_heading="改版后的标题")],
                          name="broken.toml")
    assert feedsvc(capsys, "crawl", "--config", str(good), "--now", FIXED_NOW).returncode == 0
    healthy = feedsvc(capsys, "status", "--config", str(good))
    assert healthy.returncode == 0 and "gwsite" in healthy.stdout and "warning" not in healthy.stdout
    feedsvc(capsys, "crawl", "--config", str(broken), "--now", FIXED_NOW)
    status = feedsvc(capsys, "status", "--config", str(broken))
    text = " ".join(status.stdout.split())
    # The renamed heading no longer names the block, but the items it held are still there: healed, not broken
    # (a listing whose items are gone too is warned about: tests/test_cli_heal_cmd.py).
    assert "listing 'latest' healed: block now `ul.list`" in text and "yielded items before" not in text
    assert "ranking" not in text  # the always-empty ranking never yielded, so it is not "broken"

    out = tmp_path / "latest.csv"
    exported = feedsvc(capsys, "export", "--config", str(good), "--listing", "latest", "--format", "csv", "--output",
                           str(out))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows and all(any(ref["listing"] == "latest" for ref in json.loads(r["listings"])) for r in rows)
    assert {r["source"] for r in rows} == {"gwsite"} and all(r["published"] for r in rows)

    lines = feedsvc(capsys, "export", "--config", str(good)).stdout.splitlines()
    by_url = {r["url"]: r for r in map(json.loads, lines)}
    assert len(by_url) == 12
    rec = by_url[site_server.url("a/1005.html")]
    assert set(rec) == {"url", "title", "published", "date_text", "source", "listings", "first_seen", "last_seen",
                        "summary"}
    assert rec["title"] == "2022年个人政治素质自评材料" and rec["source"] == "gwsite" and rec["summary"]
    assert rec["published"] == "2025-02-06T00:00:00+08:00" and rec["date_text"] == "2025-02-06"
    assert {"listing": "recommended", "kind": "recommended", "rank": 1} in rec["listings"]
    assert rec["first_seen"] == "2026-01-05T04:00:00+00:00"  # --now is the crawl clock: reproducible runs
    # Listing-only dates resolve against --now, not the wall clock: 01-06 (one day of slack) stays in 2026,
    # 12-30 seen on 2026-01-05 is last year's.
    assert by_url[site_server.url("a/1003.html")]["published"].startswith("2025-12-30")

    # Article text is opt-in: a fetched article's text as plain text, CSV gets the column last.
    with_text = feedsvc(capsys, "export", "--config", str(good), "--with-text").stdout.splitlines()
    texts = {r["url"]: r["text"] for r in map(json.loads, with_text)}
    fetched = [text for text in texts.values() if text]
    assert fetched and all("<" not in text for text in fetched) and len(texts) == 12
    out = tmp_path / "text.csv"
    feedsvc(capsys, "export", "--config", str(good), "--with-text", "--format", "csv", "--output", str(out))
    header = out.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[-1] == "text" and header.split(",")[:-1] == list(rec)


def test_child_streams_events_and_is_killed_past_its_timeout(
    make_site_server: object, tmp_path: Path
) -> None:
    server: SiteServer = make_site_server(delay=6.0)  # type: ignore[operator]
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [gw_source(server.base_url)], timeout=10)
    seen: list[dict[str, object]] = []
    # 20 s: room for a slow start on a busy machine; three levels of 6 s pages still cannot finish in it.
    outcome = run_crawl(str(config), "gwsite", timeout=20.0, on_event=seen.append)
    assert outcome.timed_out and outcome.status == "timeout" and not outcome.succeeded
    assert outcome.run_id is not None and seen[0]["event"] == "start"
    assert "time limit" in outcome.message

    server.delay = 0
    done = run_crawl(str(config), "gwsite", now=None)
    assert done.status == "ok" and done.returncode == 0 and done.counts is not None
    assert done.counts.items_seen == 12 and done.run_id == (outcome.run_id or 0) + 1


def test_export_into_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    import subprocess
    import sys

    from feedsvc.config import load_config
    from feedsvc.store import Store
    from feedsvc.store.items import ItemRecord, store_items
    from feedsvc.store.sources import sync_sources

    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "e.db"}"\n[[sources]]\nid = "gw"\ntitle = "GW"\n'
                      'start_urls = ["http://127.0.0.1:1/"]\n  [[sources.listings]]\n  id = "latest"\n  heading = "最新"\n',
                      encoding="utf-8")
    cfg = load_config(config)
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, sessions = _store.engine, _store.session_factory
    from datetime import UTC, datetime

    at = datetime(2026, 1, 5, tzinfo=UTC)
    with sessions() as session, session.begin():
        sync_sources(session, cfg.sources, at)
        store_items(session, [ItemRecord(source_id="gw", url=f"http://127.0.0.1:1/a/{n}", title=f"T{n}",
                                                    listing_id="latest") for n in range(5000)], None, at)
    engine.dispose()
    export = subprocess.Popen([sys.executable, "-m", "feedsvc", "export", "--config", str(config)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert export.stdout is not None
    export.stdout.readline()
    export.stdout.close()  # like `| head -1`
    _, err = export.communicate(timeout=120)
    assert b"Traceback" not in err, err.decode()
    assert export.returncode in (0, 141)


def test_a_crawl_with_another_config_leaves_the_other_sources_active(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from feedsvc.models import Source

    db_url = f"sqlite:///{tmp_path / 'shared.db'}"
    down = f"http://127.0.0.1:{_closed_port()}/"
    first = write_config(tmp_path, db_url, [simple_source("alpha", down)], name="first.toml")
    other = write_config(tmp_path, db_url, [simple_source("beta", down)], name="other.toml")
    assert feedsvc(capsys, "crawl", "--config", str(first)).returncode == 1  # fails fast: nothing listens
    assert feedsvc(capsys, "crawl", "--config", str(other)).returncode == 1
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        active = {s.id: s.active for s in session.scalars(select(Source))}
    engine.dispose()
    assert active == {"alpha": True, "beta": True}  # only the service that owns a config retires its sources


def test_status_says_when_jitter_would_shift_a_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = simple_source("gw", "http://127.0.0.1:1/").replace("start_urls", 'schedule = "* * * * *"\nstart_urls')
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [source])
    config.write_text(config.read_text(encoding="utf-8") + "\n[scheduler]\njitter = 600\n", encoding="utf-8")
    result = feedsvc(capsys, "status", "--config", str(config))
    out = " ".join(result.stdout.split())
    assert result.returncode == 0 and "schedule '* * * * *'" in out and "capped to 6 s" in out
