"""crawler/run.py: `python -m crawler.run` as a real child process against the fixture server — arguments (sources
after options, each once), progress as JSON lines on stdout or short lines on stderr, and the exit codes
(0 ok/partial, 1 failed, 2 config mistakes, one `error:` line). The lease-held exit 3 and the crawl's results
are tests/e2e/test_crawl.py; many sources at once, tests/test_crawler_process.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.run import Emitter, parse_args
from tests.support.crawls import (
    FIXED_NOW,
    child_env,
    events,
    gw_source,
    run_crawler,
    simple_source,
    write_config,
)
from tests.support.site_server import SiteServer


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_arguments_take_sources_after_options() -> None:
    args = parse_args(["--now", FIXED_NOW, "a", "--progress-json", "b", "--window", "2"])
    assert args.sources == ["a", "b"] and args.progress_json and args.window == 2 and args.now == FIXED_NOW
    assert parse_args([]).trigger == "manual"


def test_emitter_writes_json_lines_or_short_human_lines(capsys: pytest.CaptureFixture[str]) -> None:
    Emitter(True)("done", source="s", status="ok", counts={"pages": 2}, when=Path("x"))
    Emitter(False)("done", source="s", status="ok", counts={"pages": 2}, new_item_ids=[1, 2])
    Emitter(False)("page", url="http://x/")  # progress detail is for the parent process only
    Emitter(False)("log", message="plain message")
    out, err = capsys.readouterr()
    assert json.loads(out) == {"event": "done", "source": "s", "status": "ok", "counts": {"pages": 2}, "when": "x"}
    assert err.splitlines() == ["done: source=s status=ok", "plain message"]


def test_config_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [simple_source("s", "http://127.0.0.1:9/")])
    for args, said in ((["--config", str(config)], "name the sources to crawl"),
                       (["nosuch", "--config", str(config)], "nosuch"),
                       (["s", "--config", str(config), "--now", "yesterday"], "is not an ISO 8601 time"),
                       (["s", "--config", str(tmp_path / "missing.toml")], "missing.toml")):
        result = _run(args)
        errors = _error_lines(result.stderr)
        assert result.returncode == 2 and len(errors) == 1 and said in errors[0], result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "f.db").exists()  # nothing was crawled


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    """`python -m crawler.run ARGS` as given (run_crawler always names a source and a config first)."""
    return subprocess.run([sys.executable, "-m", "crawler.run", *args], capture_output=True, text=True, timeout=60,
                          env=child_env())


def test_progress_json_and_exit_codes(site_server: SiteServer, tmp_path: Path) -> None:
    dead = simple_source("dead", site_server.url("/status/404"))
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'f.db'}", [gw_source(site_server.base_url), dead])
    ok = run_crawler(config, "gwsite", "--progress-json", "--now", FIXED_NOW, "gwsite")  # named twice: crawled once
    assert ok.returncode == 0, ok.stderr
    seen = events(ok.stdout)
    assert len(ok.stdout.splitlines()) == len(seen)  # stdout is JSON lines only
    starts = [e for e in seen if e["event"] == "start"]
    (done,) = [e for e in seen if e["event"] == "done"]
    assert [e["source"] for e in starts] == ["gwsite"] and done["status"] in ("ok", "partial")
    assert done["new_item_ids"] and int(done["counts"]["pages"]) > 1

    failed = run_crawler(config, "dead")  # without --progress-json: nothing on stdout, short lines on stderr
    assert failed.returncode == 1 and failed.stdout == ""
    assert any(line.startswith("done: ") and "status=failed" in line for line in failed.stderr.splitlines())


_CRAWL_MODULES = ("crawler.run", "crawler.process", "crawler.shared", "crawler.spiders.listing", "crawler.pipelines")
# Loaded only on their path: bs4 for an undeclared page no codec reads cleanly (crawler/encoding.py), healing after
# a redesign, Rich for the terminal, PostgreSQL's dialect for a PostgreSQL database.
_RARE_PATHS = ("bs4", "crawler.discover.heal", "rich", "sqlalchemy.dialects.postgresql", "numpy", "scipy", "feedgen")


def test_starting_a_crawl_process_leaves_rare_paths_unloaded() -> None:
    """A module loaded at start is held through the whole crawl (bench/README.md, "One site's crawl: what each
    process holds"), so rare paths import theirs when taken."""
    code = (f"import importlib, sys\nfor name in {_CRAWL_MODULES!r}: importlib.import_module(name)\n"
            f"print(sorted(m for m in {_RARE_PATHS!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
