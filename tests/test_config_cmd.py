"""`feedsvc check` in process: a valid config is summarised (sources, listings, topics), a broken one is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.cli import main
from tests.crawlutil import write_config

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
