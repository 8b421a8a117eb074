"""feedsvc.cli.serve_cmd: `feedsvc serve` as a real subprocess (uvicorn, two worker processes, the address from
--host/--port) and its config mistakes caught in the parent with one line. `feedsvc publish` is tested in
tests/test_feeds_publish.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import feedparser
import httpx
import pytest

from feedsvc.cli import main
from feedsvc.store import Store
from tests.support.feeds import check_valid_feed, free_port, make_config, sample_crawls


def test_feedsvc_serve_command_with_two_workers(tmp_path: Path) -> None:
    db = tmp_path / "feeds.db"
    cfg = make_config(f"sqlite:///{db}")
    _store = Store.open(cfg.database.url)
    engine, factory = _store.engine, _store.session_factory
    sample_crawls(factory, cfg)
    engine.dispose()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{db}"\n[server]\nport = 1\n'
        '[[sources]]\nid = "gw"\ntitle = "GW"\nstart_urls = ["http://gw.test/"]\n'
        '[[sources.listings]]\nid = "latest"\nblock = "ul"\n', encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("FEEDSVC_DATABASE_URL", "FEEDSVC_CONFIG")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "feedsvc", "serve", "--config", str(config), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "2", "--no-access-log", "--log-level", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120  # a deadline for the start, not a guess at its speed: a loaded machine took 28 s
        response = None
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/feeds/gw.atom", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None and response.status_code == 200
        # No base_url: self links name the address actually served (--port, not [server] port = 1).
        check_valid_feed(response.content, "atom", f"http://127.0.0.1:{port}/feeds/gw.atom")
        assert len(feedparser.parse(response.content).entries) == 3
        assert httpx.get(f"http://127.0.0.1:{port}/feeds/en.atom", timeout=5).status_code == 404
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out.decode(errors="replace")


def test_zero_workers_is_a_config_mistake(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/f.db"\n', encoding="utf-8")
    assert main(["serve", "--config", str(config), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --workers 0:") and len(err.strip().splitlines()) == 1


def test_a_broken_config_fails_before_uvicorn_starts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[server]\nport = \"not a number\"\n", encoding="utf-8")
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "port" in err
