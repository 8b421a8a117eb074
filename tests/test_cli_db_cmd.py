"""`feedsvc db status|upgrade` in process: a new database needs an upgrade, after it it is up to date."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.cli import main
from tests.support.crawls import write_config


def test_status_says_upgrade_then_up_to_date(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'feeds.db'}", [])
    assert main(["db", "status", "--config", str(config)]) == 1
    assert "needs `feedsvc db upgrade`" in capsys.readouterr().out
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("database at revision ") and "(latest " in out
    assert main(["db", "status", "--config", str(config)]) == 0
    assert "up to date" in capsys.readouterr().out
