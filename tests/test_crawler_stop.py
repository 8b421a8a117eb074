"""crawler.stop: a stop signal mid-crawl ends the crawl promptly (requests waiting for their politeness delay are
dropped, downloads already under way finish), the run is aborted with what was stored kept, and the next crawl
completes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from feedsvc.models import CrawlRun, Item
from feedsvc.store.db import make_engine, make_session_factory
from tests.support.crawls import FIXED_NOW, child_env, done_event, gw_source, run_crawler, write_config
from tests.support.site_server import SiteServer

PAGES = 15  # tests/data/site: 3 listing pages and 12 articles
DELAY = 2.0  # at the polite rate the pages queued behind the first one take about (PAGES - 1) * DELAY = 28 s


def test_sigterm_mid_crawl_stops_promptly_keeps_what_was_stored_and_the_next_run_completes(
    site_server: SiteServer, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'f.db'}"
    polite = write_config(tmp_path, db_url, [gw_source(site_server.base_url, extra=f"download_delay = {DELAY}")])
    cmd = [sys.executable, "-m", "crawler.run", "gwsite", "--config", str(polite), "--progress-json",
           "--now", FIXED_NOW]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    seen: list[dict[str, Any]] = []
    signalled: float | None = None
    try:
        assert proc.stdout is not None
        # An event, not a clock: the second page is one of the links the first page queued, so the rest of them
        # are waiting in the download slot for their delay right now.
        for line in proc.stdout:
            if not line.startswith("{"):
                continue
            seen.append(json.loads(line))
            if [e["event"] for e in seen].count("page") == 2 and signalled is None:
                proc.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
        proc.wait(timeout=60)
        stopped_after = time.monotonic() - (signalled or 0)
        stderr = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert signalled is not None, f"the crawl fetched no page:\n{stderr}"
    assert proc.returncode == 1, stderr  # aborted
    assert stopped_after < 10, f"took {stopped_after:.1f}s after SIGTERM: queued pages were still fetched"
    pages = [e for e in seen if e["event"] == "page"]
    assert len(pages) < PAGES // 2, pages
    done = [e for e in seen if e["event"] == "done"][-1]
    assert done["status"] == "aborted" and "stopped before finishing (shutdown)" in done["message"], done
    assert done["counts"]["errors"] == 0, done  # dropped requests are not the site's errors

    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            kept = session.scalar(select(func.count()).select_from(Item))
            assert kept and kept == done["counts"]["items_new"]  # the first listing's items were stored and kept
            assert session.scalars(select(CrawlRun.status)).all() == ["aborted"]

        quick = write_config(tmp_path, db_url, [gw_source(site_server.base_url)], name="quick.toml")
        again = run_crawler(quick, "gwsite", "--progress-json", "--now", FIXED_NOW)
        assert again.returncode == 0, again.stderr
        assert done_event(again.stdout)["status"] == "ok"
        with make_session_factory(engine)() as session:
            assert session.scalar(select(func.count()).select_from(Item)) == 12
            assert session.scalar(select(func.count()).select_from(Item)
                                  .where(Item.article_fetched_at.is_not(None))) == 12
            assert session.scalars(select(CrawlRun.status).order_by(CrawlRun.id)).all() == ["aborted", "ok"]
    finally:
        engine.dispose()
