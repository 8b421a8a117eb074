"""A disk that fills mid-crawl, for real: the database's tables live on a small tmpfs (a SQLite file there, or a
PostgreSQL tablespace there), and the disk fills the moment the crawl asks for its listing (after its run was
opened). Every item it saw is counted as lost, and the run's row says why — "database or disk is full", "No
space left on device" — even when the full disk kept the run from closing its own row (SQLite), in which case
the next run records it and says so. Mounting needs root, a PostgreSQL tablespace a superuser and a server on
this machine: otherwise the test is skipped; the counting itself is also tested on SQLite's own size cap in
tests/test_crawler_pipelines.py."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.crawls import done_event, run_crawler, simple_source, write_config
from tests.support.site_server import DATA, Page, SiteServer

HTML = "text/html; charset=utf-8"
ARTICLES = 40
FULL = ("database or disk is full", "No space left on device")  # SQLite's words, PostgreSQL's


@pytest.fixture
def small_disk() -> Iterator[Path]:
    # Not under pytest's tmp_path (mode 700): PostgreSQL's server, user postgres, keeps a tablespace on it.
    disk = Path(tempfile.mkdtemp(prefix="feedsvc-small-disk-"))
    disk.chmod(0o755)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        disk.rmdir()
        pytest.skip(f"cannot mount a small tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        disk.rmdir()


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, small_disk: Path) -> Iterator[str]:
    """A database whose every table lives on the small disk: a SQLite file there, or a PostgreSQL schema whose
    tables go to a tablespace there (the server must run on this machine; its catalogs and WAL stay on the big
    disk, as they would when a data volume fills)."""
    if request.param == "sqlite":
        yield f"sqlite:///{small_disk / 'f.db'}"
        return
    import pwd

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.support.databases import postgres_schema_url

    with postgres_schema_url() as url:
        space, folder = f"full_{os.getpid()}", small_disk / "pg"
        folder.mkdir()
        try:
            owner = pwd.getpwnam("postgres")
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        except (KeyError, PermissionError) as exc:
            pytest.skip(f"cannot hand a folder to the postgres user: {exc}")
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f"CREATE TABLESPACE {space} LOCATION '{folder}'"))
        except Exception as exc:  # not a superuser, or the server is on another machine
            admin.dispose()
            pytest.skip(f"cannot put a PostgreSQL tablespace on the small disk: {str(exc).splitlines()[0]}")
        options = make_url(url).query["options"]
        try:
            yield make_url(url).update_query_dict({"options": f"{options} -cdefault_tablespace={space}"}) \
                .render_as_string(hide_password=False)
        finally:
            schema = str(options).split("search_path=")[1].split()[0]
            with admin.connect() as conn:
                # Its tables first (a tablespace must be empty to go); the schema itself is postgres_schema_url's.
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                conn.execute(text(f"DROP TABLESPACE {space}"))
            admin.dispose()


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
        tmp_path: Path, site: SiteServer, small_disk: Path, database: str) -> None:
    source = simple_source("full", site.base_url + "/").replace("start_urls", 'render = "never"\nstart_urls')
    config = write_config(tmp_path, database, [source])

    first = run_crawler(config, "full", "--progress-json")
    done = done_event(first.stdout)
    assert isinstance(site.pages, FillingPages) and not site.pages.armed  # the disk did fill mid-crawl
    assert done["status"] == "failed", done
    message = str(done["message"])
    assert any(cause in message for cause in FULL), message
    assert f"{ARTICLES} item(s) seen but not stored" in message  # every one of them: none was written
    assert "Traceback" not in first.stderr, first.stderr[-3000:]
    # SQLite's WAL cannot take even the run's end; PostgreSQL (WAL on the big disk, room left in the run's page)
    # can. Either way the run's row ends up saying what happened.
    kept = "could not be written to the database" in message
    assert kept == ("the next run of the source records it" in message)
    if database.startswith("sqlite"):
        assert kept, message

    (small_disk / "filler").unlink()  # the admin frees space
    second = run_crawler(config, "full", "--progress-json")
    again = done_event(second.stdout)
    assert again["status"] == "ok", again
    assert again["counts"]["items_new"] == ARTICLES
    late = f"run {done['run_id']} could not record its end then, recorded now: failed: database write failed"
    assert (late in str(again["message"])) == kept, again
    from sqlalchemy import create_engine, text

    engine = create_engine(database)
    try:
        with engine.connect() as db:
            status, stored = db.execute(text("select status, message from crawl_runs where id = :id"),
                                        {"id": done["run_id"]}).one()
            assert status == "failed" and any(cause in stored for cause in FULL), stored
            assert f"{ARTICLES} item(s) seen but not stored" in stored
            assert db.execute(text("select count(*) from items")).scalar_one() == ARTICLES
    finally:
        engine.dispose()
    assert not list((tmp_path / "httpcache" / "full").glob("unrecorded-run-*"))  # written, so forgotten
