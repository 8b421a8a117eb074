"""Terminal tables (feedsvc/cli/tables.py): readable at 80 columns, URLs never cut, plain text when piped, and site
text that cannot colour, move or rewrite the terminal."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from feedsvc.cli.config_cmd import print_config_summary
from feedsvc.cli.tables import TextTable
from feedsvc.config import load_config
from feedsvc.store import Store
from feedsvc.store.runs import RunCounts, finish_run, start_run
from feedsvc.store.sources import sync_sources
from feedsvc.text import clean_text, safe_text

LONG = "http://127.0.0.1:18765/a/long/path/to/the/listing/of/documents/index.html?p=1"  # 77 characters: wider than 80 beside a label
CONFIG = f"""
[database]
url = "sqlite:///{{db}}"
[[sources]]
id = "gwdemo"
title = "示例公文网"
start_urls = ["{LONG}", "http://127.0.0.1:18765/list_2.html"]
timezone = "Asia/Shanghai"
  [[sources.listings]]
  id = "latest"
  heading = "最新文稿"
  [[sources.listings]]
  id = "ranking"
  kind = "ranking"
  heading = "阅读排行"
[[sources]]
id = "blog"
title = "The [bold]demo[/bold] blog"
start_urls = ["http://127.0.0.1:18765/en/"]
  [[sources.listings]]
  id = "latest"
  heading = "Latest posts"
"""
ANSI = re.compile(r"\x1b")


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(db=tmp_path / "f.db"), encoding="utf-8")
    return path


def _terminal(width: int) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, color_system=None), out


def test_check_at_80_columns_keeps_every_url_whole_on_one_line(tmp_path: Path) -> None:
    console, out = _terminal(80)
    print_config_summary(load_config(_config(tmp_path)), console)
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    for url in (LONG, "http://127.0.0.1:18765/list_2.html", "http://127.0.0.1:18765/en/"):
        assert any(url in line for line in lines), url
    assert "…" not in out.getvalue() and "127…" not in out.getvalue()
    assert "The [bold]demo[/bold] blog" in out.getvalue()  # literal, not markup


def test_wide_terminal_gets_a_boxed_table_with_whole_urls(tmp_path: Path) -> None:
    console, out = _terminal(200)
    print_config_summary(load_config(_config(tmp_path)), console)
    text = out.getvalue()
    assert "┃ source" in text and any(LONG in line and "│" in line for line in text.splitlines())


def test_very_narrow_terminal_folds_but_never_cuts(tmp_path: Path) -> None:
    console, out = _terminal(40)
    print_config_summary(load_config(_config(tmp_path)), console)
    joined = re.sub(r"\s+", "", out.getvalue())
    assert LONG in joined and "…" not in out.getvalue()


def test_check_piped_is_plain_text_with_whole_urls(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "80", "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "feedsvc", "check", "--config", str(_config(tmp_path))],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert not ANSI.search(done.stdout) and not set("┃│┏━") & set(done.stdout)
    rows = [line for line in done.stdout.splitlines() if line.startswith("gwdemo")]
    assert len(rows) == 1 and LONG in rows[0] and "Asia/Shanghai" in rows[0]  # one grep-able line per source


def test_safe_text_strips_escapes_controls_and_markup() -> None:
    hostile = "ok\x1b[2J\x1b[31mred\x1b[0m\x1b]0;title\x07 [bold]x[/bold]\r\nnext\x00\x9b1m\u202egnp.exe"
    cleaned = clean_text(hostile)
    assert cleaned == "okred [bold]x[/bold] nextgnp.exe"
    assert safe_text(hostile) == "okred \\[bold]x\\[/bold] nextgnp.exe"
    console, out = _terminal(80)
    console.print(f"[red]{safe_text(hostile)}[/red]")
    assert out.getvalue().strip() == "okred [bold]x[/bold] nextgnp.exe"


def test_table_cells_are_literal_and_cleaned() -> None:
    table = TextTable("T", ("a", "b"))
    table.add_row("[red]x[/red]", "\x1b[31mred\x1b[0m")
    console, out = _terminal(80)
    table.print(console)
    assert "[red]x[/red]" in out.getvalue() and "\x1b[31m" not in out.getvalue()


def test_status_table_piped_is_plain_and_site_errors_are_harmless(tmp_path: Path) -> None:
    config = _config(tmp_path)
    cfg = load_config(config)
    at = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    with Store.for_config(cfg) as store, store.transaction() as session:
        sync_sources(session, cfg.sources, at)
        run = start_run(session, "gwdemo", at)
        finish_run(session, run, "failed", RunCounts(), at, message="HTTP 500 from \x1b[2J[blink]site[/blink]")
    env = {**os.environ, "COLUMNS": "80", "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run([sys.executable, "-m", "feedsvc", "status", "--config", str(config)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert "last error: HTTP 500 from [blink]site[/blink]" in done.stdout
    row = next(line for line in done.stdout.splitlines() if line.startswith("gwdemo"))
    assert "2026-11-20 04:00Z" in row and "failed" in row
