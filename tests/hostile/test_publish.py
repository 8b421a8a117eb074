"""`feedsvc publish DIR` among files it did not write: a manifest decides what is stale, symlinks never lead it
out of DIR, and a DIR it cannot write is one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.errors import StorageError
from feedsvc.feeds.publish import MANIFEST_FILE, publish
from feedsvc.store import Store
from tests.support.crawls import run_feedsvc
from tests.support.feeds import make_config, sample_crawls


@pytest.fixture
def cfg(tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = make_config(f"sqlite:///{tmp_path / 'f.db'}")
    with Store.for_config(cfg) as store:
        sample_crawls(store.session_factory, cfg)
    return cfg


def test_only_files_it_wrote_are_removed(tmp_path: Path, cfg) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    (out / "feeds/en").mkdir(parents=True)
    theirs = [out / "feeds/theirs.atom", out / "feeds/en/theirs.rss", out / "feeds/en.json.bak"]
    for path in theirs:
        path.write_text("someone else's")
    publish(cfg, out)
    assert (out / MANIFEST_FILE).exists() and (out / "feeds/en.atom").exists()
    only_gw = cfg.model_copy(update={"sources": [s for s in cfg.sources if s.id == "gw"]})
    result = publish(only_gw, out)
    assert result.removed == 6 and not (out / "feeds/en.atom").exists()
    assert all(path.read_text() == "someone else's" for path in theirs)


def test_symlink_out_of_dir_is_never_followed(tmp_path: Path, cfg) -> None:  # type: ignore[no-untyped-def]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = elsewhere / "en.atom"
    precious.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "feeds").symlink_to(elsewhere)
    with pytest.raises(StorageError, match="leads out of"):
        publish(cfg, out)
    assert precious.read_text() == "precious" and sorted(p.name for p in elsewhere.iterdir()) == ["en.atom"]
    # A manifest naming files behind the symlink does not make publish delete them either.
    (out / "feeds").unlink()
    publish(cfg, out)
    (out / MANIFEST_FILE).write_text('["feeds/../elsewhere/en.atom", "feeds/x/en.atom"]')
    (out / "feeds/x").symlink_to(elsewhere)
    publish(cfg, out)
    assert precious.read_text() == "precious"


def test_unwritable_dir_is_one_line_and_exit_2(tmp_path: Path, cfg) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "f.db"}"\n[[sources]]\nid = "gw"\ntitle = "GW"\n'
                      'start_urls = ["http://gw.test/"]\n[[sources.listings]]\nid = "latest"\nblock = "ul"\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / "feeds").write_text("a file where the feeds folder should be")  # as unwritable as it gets for root
    result = run_feedsvc("publish", "--config", str(config), str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: Cannot publish to"), result.stderr
