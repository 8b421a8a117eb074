"""Operator mistakes and hostile site text at the command line: one `error:` line and exit 2 for mistakes, never a
traceback; site text reaches the terminal escaped and the CSV defused."""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsvc.config import load_config
from feedsvc.store import Store
from feedsvc.store.leases import acquire_lease
from feedsvc.store.runs import RunCounts, finish_run, record_crawl_error, start_run
from feedsvc.store.sources import sync_sources
from tests.support.crawls import run_feedsvc, simple_source, write_config
from tests.support.site_server import Page, SiteServer

HOSTILE_TEXT = "[link=http://evil.example/]click[/link] [/] [bold]x\x1b]8;;http://evil.example/\x07y\x1b[2J\u202eevil"


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def _config(tmp_path: Path, db_url: str, body: str | None = None) -> Path:
    if body is None:
        return write_config(tmp_path, db_url, [simple_source("blog", "http://127.0.0.1:9/")])
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_check_opens_the_database(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    line = _one_error_line(run_feedsvc("check", "--config", str(_config(tmp_path, f"sqlite:///{not_a_folder}/f.db"))))
    assert "not a writable folder" in line
    line = _one_error_line(run_feedsvc("check", "--config", str(_config(tmp_path, "mysql+mysqldb://u@127.0.0.1/x"))))
    assert "Cannot open database" in line and "[database]" in line
    ok = run_feedsvc("check", "--config", str(_config(tmp_path, f"sqlite:///{tmp_path}/new.db")))
    assert ok.returncode == 0 and "not created yet" in ok.stdout and not (tmp_path / "new.db").exists()


def test_crawl_with_a_database_that_cannot_work_exits_2(tmp_path: Path) -> None:
    line = _one_error_line(run_feedsvc("crawl", "--config", str(_config(tmp_path, "mysql+mysqldb://u@127.0.0.1/x"))))
    assert "[database] url" in line  # Rich must not eat the bracketed key


@pytest.mark.parametrize("body, expected", [
    ("", "is empty"),
    ("# only a comment\n", "is empty"),
    ('[database]\nurl = "sqlite:///a\\u0000b.db"\n', "control characters"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
    ('[[sources]]\nid = "x"\ntitle = "x"\nstart_urls = ["http://a.example/"]\nallowed_domains = ["*"]\n'
     '[[sources.listings]]\nid = "l"\nheading = "h"\n', "not a host name"),
    ('[[sources]]\nid = "x"\ntitle = "x"\nstart_urls = ["http://a.example/"]\nallowed_domains = [""]\n'
     '[[sources.listings]]\nid = "l"\nheading = "h"\n', "allowed_domains entry is empty"),
])
def test_config_mistakes_are_one_line(tmp_path: Path, body: str, expected: str) -> None:
    result = run_feedsvc("status", "--config", str(_config(tmp_path, "", body)))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert expected in result.stderr and result.stderr.startswith("error: ")
    assert not list(tmp_path.glob("*.db"))


def test_status_does_not_create_the_database(tmp_path: Path) -> None:
    config = _config(tmp_path, "sqlite:///feedsvc.db")
    result = run_feedsvc("status", "--config", str(config))
    assert result.returncode == 0 and "No database yet" in result.stdout
    assert not (tmp_path / "feedsvc.db").exists()


def test_status_escapes_site_text_and_shows_a_killed_crawl_as_died(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}")
    cfg = load_config(config)
    store = Store.for_config(cfg)
    now = datetime.now(UTC)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that existed and is gone: a crawl killed with SIGKILL leaves exactly this behind
    with store.transaction() as session:
        sync_sources(session, cfg.sources, now)
        run_id = start_run(session, "blog", now, pid=None)
        finish_run(session, run_id, "failed", RunCounts(), now, HOSTILE_TEXT)
        record_crawl_error(session, "blog", run_id, "http://x/", "http", HOSTILE_TEXT, now)
        start_run(session, "blog", now, pid=dead.pid)
        # Its lease is still there and unexpired (a killed crawl cannot release it): held by a pid that is gone.
        acquire_lease(session, "crawl:blog", f"{socket.gethostname()}:{dead.pid}:killed", now, timedelta(hours=2))
    store.close()
    result = run_feedsvc("status", "--config", str(config))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    out = result.stdout
    assert "\x1b" not in out and "\u202e" not in out
    shown = "[link=http://evil.example/]click[/link] [/] [bold]x"  # literally, not interpreted (Rich wraps lines)
    assert "".join(shown.split()) in "".join(out.split())
    assert "died" in out and "running" not in out


def test_export_csv_defuses_formulas(tmp_path: Path, make_site_server: object) -> None:
    site: SiteServer = make_site_server()  # type: ignore[operator]
    entries = ['=HYPERLINK("http://evil.example/","x")', "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "Plain title"]
    items = "".join(f'<li><a href="/p/{n}.html">{t}</a></li>' for n, t in enumerate(entries))
    site.pages["/"] = Page(f"<h2>Latest posts</h2><ul>{items}</ul>".encode(), "text/html; charset=utf-8")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [simple_source("blog", site.url("/"))],
                          crawl_extra="follow_articles = false")
    assert run_feedsvc("crawl", "--config", str(config)).returncode == 0
    result = run_feedsvc("export", "--format", "csv", "--config", str(config))
    assert result.returncode == 0, result.stderr
    titles = sorted(row["title"] for row in csv.DictReader(io.StringIO(result.stdout)))
    assert titles == sorted(["'" + t for t in entries[:4]] + ["Plain title"])


@pytest.mark.parametrize("key", ["²", "①", "9" * 5000])
def test_related_with_an_odd_number_is_one_error_line(tmp_path: Path, key: str) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path}/f.db")
    Store.for_config(load_config(config)).close()
    line = _one_error_line(run_feedsvc("related", key, "--config", str(config)))
    assert "No item with" in line


def _serve_fails(config: Path) -> str:
    line = _one_error_line(run_feedsvc("serve", "--port", "0", "--config", str(config), timeout=60))
    assert "Cannot open database" in line
    return line


def test_serve_on_a_file_that_is_not_a_database_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "f.db").write_bytes(b"not a database at all " * 100)
    assert "file is not a database" in _serve_fails(_config(tmp_path, f"sqlite:///{tmp_path}/f.db"))
    (tmp_path / "dir.db").mkdir()
    assert "is a directory" in _serve_fails(_config(tmp_path, f"sqlite:///{tmp_path}/dir.db"))


def test_serve_on_a_read_only_database_is_one_error_line(tmp_path: Path) -> None:
    config = _config(tmp_path, f"sqlite:///{tmp_path}/f.db")
    Store.for_config(load_config(config)).close()
    if os.geteuid() != 0:
        (tmp_path / "f.db").chmod(0o444)
        assert "no read/write permission" in _serve_fails(config)
        return
    # Root writes a mode-444 file anyway; a read-only mount refuses root too.
    mount = tmp_path / "ro"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"root, and cannot mount a tmpfs to make a read-only database: {mounted.stderr.strip()}")
    try:
        (mount / "f.db").write_bytes((tmp_path / "f.db").read_bytes())
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        assert "no read/write permission" in _serve_fails(_config(tmp_path, f"sqlite:///{mount}/f.db"))
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_serve_on_a_missing_postgresql_database_is_one_error_line(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    from tests.support.databases import postgres_base_url

    missing = make_url(postgres_base_url()).set(database="feedsvc_no_such_database")
    line = _serve_fails(_config(tmp_path, missing.render_as_string(hide_password=False)))
    assert "feedsvc_no_such_database" in line and "does not exist" in line
