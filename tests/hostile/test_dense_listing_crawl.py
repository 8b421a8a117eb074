"""Two sources in one crawl process, one serving a dense 20 MB listing: the other still finishes and both are
reported (issue 21, item 6: one source must not starve the others)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from tests.support.crawls import events, run_crawler, simple_source, write_config
from tests.support.site_server import DATA, Page, SiteServer

HTML = "text/html; charset=utf-8"


def test_a_dense_listing_does_not_stall_the_other_source(tmp_path: Path,
                                                        make_site_server: Callable[..., SiteServer]) -> None:
    dense = make_site_server(DATA / "hostile")
    rows = "".join(f'<li><a href="/p/{n}.html">Entry number {n} of the dense archive</a> <span>2024-10-12</span></li>'
                   for n in range(200_000))
    body = f"<html><body><h2>Latest posts</h2><ul>{rows}</ul></body></html>".encode()
    assert 20_000_000 < len(body) < 20 * 1024 * 1024  # 20 MB, under the download size cap
    dense.pages["/"] = Page(body, HTML)
    normal = make_site_server(DATA / "hostile")
    normal.pages["/"] = Page(b'<html><body><h2>Latest posts</h2><ul><li><a href="/n/1.html">First normal post</a>'
                             b' 2024-10-12</li><li><a href="/n/2.html">Second normal post</a> 2024-10-11</li></ul>'
                             b"</body></html>", HTML)
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}",
                          [simple_source("dense", dense.base_url + "/"), simple_source("normal", normal.base_url + "/")],
                          timeout=30, crawl_extra="follow_articles = false")
    # Before the per-page bounds the dense page alone took over 300 s of CPU: this run would hit the timeout.
    result = run_crawler(config, "dense", "normal", "--progress-json", timeout=240)
    assert "Traceback" not in result.stderr, result.stderr
    done = {e["source"]: e for e in events(result.stdout) if e["event"] == "done"}
    assert set(done) == {"dense", "normal"}, result.stdout[-2000:]
    assert done["normal"]["status"] == "ok"
    with sqlite3.connect(tmp_path / "f.db") as db:
        counts = dict(db.execute("select source_id, count(*) from items group by source_id").fetchall())
        problems = db.execute("select source_id, kind, message from crawl_errors order by id").fetchall()
    assert counts == {"normal": 2, "dense": 500}
    assert [(source, kind) for source, kind, _ in problems] == [("dense", "limit"), ("dense", "limit")]
    assert problems[0][2] == "page too dense: 600004 elements; examined the first 60000"
    assert problems[1][2].startswith("listing 'latest' has more than 500 entries")
