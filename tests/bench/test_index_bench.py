"""Smoke run of bench/index_bench.py (as every bench script has one): a small database, every timing printed with its ratio to the feed baseline,
and the generated data really produces a paged front page with charts, rankings and related lists."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import lxml.html
import pytest

from feedsvc.config import parse_config
from feedsvc.feeds import front_page
from feedsvc.feeds.builder import FeedBuilder
from feedsvc.store import Store

BENCH = Path(__file__).resolve().parents[2] / "bench" / "index_bench.py"


def _bench() -> object:
    spec = importlib.util.spec_from_file_location("index_bench", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["index_bench"] = module
    spec.loader.exec_module(module)
    return module


def test_index_bench_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench()
    assert bench.main(["--sources", "45", "--items", "1500", "--repeat", "1", "--workdir", str(tmp_path)]) == 0  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    assert "45 sources, 1,500 items" in out
    for name in ("feed /feeds/new.atom (baseline)", "front page, page 1", "front page, page 3"):
        line = next(line for line in out.splitlines() if line.startswith(name))
        assert re.search(r"\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+$", line), line

    cfg = parse_config(bench.config_raw(f"sqlite:///{tmp_path / 'index-45-1500.db'}", 45))  # type: ignore[attr-defined]
    with Store.for_config(cfg) as store, store.session() as session:
        page = lxml.html.fromstring(front_page.render_index(FeedBuilder(cfg, store.session_factory), session, 2))
    sections = page.xpath("//article[@class='source']")
    assert len(sections) == front_page.SOURCES_PER_PAGE and sections[0].get("id") == "source-s0020"
    assert page.xpath("//nav[@class='pager']//span[@aria-current='page']")[0].text == "2"
    first = sections[0]
    assert len(first.xpath(".//svg//rect[@class='ok' or @class='failed']")) == 30
    assert len(first.xpath(".//ol[contains(@class, 'items')]/li")) == 10
    assert first.xpath(".//ol[contains(@class, 'items')]//span[contains(@class, 'move')]")  # the ranking rotates each run
    assert first.xpath(".//details/ul/li")
