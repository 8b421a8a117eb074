"""A disk that fills mid-crawl, for real: the SQLite database lives on a small tmpfs, and the disk fills the moment
the crawl asks for its listing (after its run was opened). Every item it saw is counted as lost, and the cause —
"database or disk is full" — reaches the next run even though the full disk kept the first run from closing its
own row. Mounting needs root (or an unprivileged mount namespace, which `unshare` gives no test process here):
without it the test is skipped; the counting itself is also tested on SQLite's own size cap in
tests/test_crawler_pipelines.py."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawls import done_event, run_crawler, simple_source, write_config
from tests.support.site_server import DATA, Page, SiteServer

HTML = "text/html; charset=utf-8"
ARTICLES = 40


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> None:
    """Take every free byte of `disk`, as another program filling it would."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (65536, 512, 1):  # then the last partial blocks
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * size):
                    pass
    finally:
        os.close(fd)
    assert os.statvfs(disk).f_bavail == 0


class FillingPages(dict[str, Page]):
    """The site's pages; serving the listing fills the disk first (the run is open by then)."""

    def __init__(self, disk: Path) -> None:
        super().__init__()
        self.disk = disk
        self.armed = True

    def get(self, key: str, default: Any = None) -> Any:
        if key == "/" and self.armed:
            self.armed = False
            _fill(self.disk)
        return super().get(key, default)


@pytest.fixture
def site(make_site_server: Callable[..., SiteServer], small_disk: Path) -> SiteServer:
    server = make_site_server(DATA / "hostile")
    pages = FillingPages(small_disk)
    entries = "".join(f'<li><a href="/p/{n}.html">Entry number {n}</a></li>' for n in range(ARTICLES))
    pages["/"] = Page(f"<h2>Latest posts</h2><ul>{entries}</ul>".encode(), HTML)
    for n in range(ARTICLES):
        text = f"Words of article {n}. " * 300
        pages[f"/p/{n}.html"] = Page(f"<html><head><title>Post {n}</title></head><body><article><h1>Post {n}</h1>"
                                     f"<p>{text}</p></article></body></html>".encode(), HTML)
    server.pages = pages
    return server


def test_a_disk_full_mid_crawl_counts_every_lost_item_and_the_next_run_says_why(
        tmp_path: Path, site: SiteServer, small_disk: Path) -> None:
    source = simple_source("full", site.base_url + "/").replace("start_urls", 'render = "never"\nstart_urls')
    config = write_config(tmp_path, f"sqlite:///{small_disk / 'f.db'}", [source])

    first = run_crawler(config, "full", "--progress-json")
    done = done_event(first.stdout)
    assert isinstance(site.pages, FillingPages) and not site.pages.armed  # the disk did fill mid-crawl
    assert done["status"] == "failed", done
    message = str(done["message"])
    assert "database or disk is full" in message
    assert f"{ARTICLES} item(s) seen but not stored" in message  # every one of them: none was written
    assert "could not be written to the database" in message and "the next run of the source records it" in message
    assert "Traceback" not in first.stderr, first.stderr[-3000:]

    (small_disk / "filler").unlink()  # the admin frees space
    second = run_crawler(config, "full", "--progress-json")
    again = done_event(second.stdout)
    assert again["status"] == "ok", again
    assert again["counts"]["items_new"] == ARTICLES
    assert f"run {done['run_id']} could not record its end then, recorded now: failed: database write failed" \
        in str(again["message"])
    with sqlite3.connect(small_disk / "f.db") as db:
        status, stored = db.execute("select status, message from crawl_runs where id = ?",
                                    (done["run_id"],)).fetchone()
        assert status == "failed" and "database or disk is full" in stored
        assert f"{ARTICLES} item(s) seen but not stored" in stored
        assert db.execute("select count(*) from items").fetchone()[0] == ARTICLES
    assert not list((tmp_path / "httpcache" / "full").glob("unrecorded-run-*"))  # written, so forgotten
