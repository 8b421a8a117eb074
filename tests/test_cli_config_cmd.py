"""`feedsvc check` in process: a valid config is summarised (sources, listings, topics), a broken one is an error."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from feedsvc.cli import main
from tests.support.crawls import write_config

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"
SOURCE = ('[[sources]]\nid = "gw"\ntitle = "某公文网"\nstart_urls = ["http://gw.test/"]\n'
          '[[sources.listings]]\nid = "latest"\nblock = "ul.latest"\n')


def test_check_summarises_a_valid_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [SOURCE])
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "gw" in out and "某公文网" in out and "latest" in out


def test_check_rejects_a_broken_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [SOURCE, SOURCE])
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "'gw' is used twice" in err


def test_check_command_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    raw = EXAMPLE.read_text(encoding="utf-8").replace('heading = "推荐文稿"', 'heading = "推荐文稿"\n  block = "div.x"')
    path = tmp_path / "config.toml"
    path.write_text(raw, encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = subprocess.run([sys.executable, "-m", "feedsvc", "check", "--config", str(path)],
                            capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "sources[0].listings[0]: set exactly one of 'heading'" in result.stderr
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_check_command_summarises_valid_config(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "feedsvc", "check", "--config", str(EXAMPLE)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "gwsite" in result.stdout and "recommended" in result.stdout
    assert tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))["sources"][0]["id"] == "gwsite"


def test_check_says_nothing_is_ok_when_the_database_cannot_work(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'afile' / 'feeds.db'}", [SOURCE])
    assert main(["check", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    assert "ok" not in out.split() and err.startswith("error: ")
    assert "[database] url" in err and "FEEDSVC_DATABASE_URL" not in err


def test_a_database_error_names_the_environment_variable_that_set_the_url(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [SOURCE])
    monkeypatch.setenv("FEEDSVC_DATABASE_URL", f"sqlite:///{tmp_path / 'afile' / 'feeds.db'}")
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "FEEDSVC_DATABASE_URL" in err and "in the config" not in err


def test_check_says_when_jitter_would_shift_a_schedule(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    every_minute = SOURCE.replace('start_urls', 'schedule = "* * * * *"\nstart_urls')
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [every_minute])
    config.write_text(config.read_text(encoding="utf-8") + "\n[scheduler]\njitter = 600\n", encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "schedule '* * * * *'" in out and "jitter = 600 s" in out and "capped to 6 s" in out
