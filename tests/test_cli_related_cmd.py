"""`feedsvc related`: rebuild with progress, an item's related items as a table and as JSON, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from feedsvc.cli import main
from feedsvc.config import load_config
from feedsvc.store import Store
from feedsvc.store.items import ItemRecord, store_items
from feedsvc.store.sources import sync_sources
from tests.support.related import ARTICLES, TAX

T0 = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[database]\nurl = "sqlite:///data/feeds.db"\n'
        '[[sources]]\nid = "gw"\ntitle = "GW"\nstart_urls = ["http://127.0.0.1/"]\n'
        '  [[sources.listings]]\n  id = "latest"\n  heading = "最新"\n', encoding="utf-8")
    cfg = load_config(path)
    _store = Store.open(cfg.database.url, cfg.base_dir)
    engine, factory = _store.engine, _store.session_factory
    records = [ItemRecord(source_id="gw", url=u, title=t, summary=x, is_article=True) for u, t, x in ARTICLES]
    records.append(ItemRecord(source_id="gw", url="http://mirror/tax1", title="Tax reform for small businesses",
                              summary=TAX, is_article=True))
    with factory() as session:
        sync_sources(session, cfg.sources, T0)
        store_items(session, records, None, T0)
        session.commit()
    engine.dispose()
    return path


def test_rebuild_then_show_json_and_table(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["related", "--rebuild", "--config", str(config_path)]) == 0
    out = capsys.readouterr()
    assert "1 near-duplicates marked" in out.out and "scoring" in out.err
    assert main(["related", "http://gw/en/tax1", "--json", "--config", str(config_path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["item"]["url"] == "http://gw/en/tax1"
    assert shown["related"][0]["url"] == "http://gw/en/tax2"
    assert all({"url", "title", "score", "id"} <= set(r) for r in shown["related"])
    assert "http://mirror/tax1" not in {r["url"] for r in shown["related"]}
    assert main(["related", "http://mirror/tax1", "--config", str(config_path)]) == 0
    table = capsys.readouterr().out
    assert "near-duplicate of http://gw/en/tax1" in table and "http://gw/en/tax2" in table
    assert main(["related", "1", "--limit", "1", "--json", "--config", str(config_path)]) == 0
    assert len(json.loads(capsys.readouterr().out)["related"]) == 1


def test_unknown_item_and_bad_usage_are_clear_errors(config_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["related", "http://nowhere/x", "--config", str(config_path)]) == 2
    assert "error: No item with URL http://nowhere/x" in capsys.readouterr().err
    assert main(["related", "--config", str(config_path)]) == 2
    assert "--rebuild" in capsys.readouterr().err


def test_console_entry_point_runs(config_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "feedsvc", "related", "--rebuild", "--config", str(config_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "links" in done.stdout
