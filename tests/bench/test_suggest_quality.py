"""Smoke run of `python bench/suggest_quality.py` as bench/README.md documents it (the whole 7-layout corpus,
about a second), so its report cannot rot; tests/test_suggest.py asserts the targets through its `run()`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench.suggest_quality import CORPUS, run

ROOT = Path(__file__).resolve().parents[2]


# A tiny real-page corpus of our own (CI has no saved pages): one page with a dated list and a menu.
_PAGE = """<html lang="zh"><head><title>新闻</title></head><body>
<div class="nav"><ul><li><a href="/">首页</a></li><li><a href="/a/">国内</a></li><li><a href="/b/">国际</a></li></ul></div>
<h2>最新消息</h2><ul class="news">
<li><a href="https://news.example.com.cn/1.html">第一条新闻的标题</a><span>2020-07-01</span></li>
<li><a href="https://news.example.com.cn/2.html">第二条新闻的标题</a><span>2020-06-30</span></li>
<li><a href="https://news.example.com.cn/3.html">第三条新闻的标题</a><span>2020-06-29</span></li>
</ul></body></html>"""


def _tiny_corpus(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "page.html").write_text(_PAGE, encoding="utf-8")
    items = [{"title": f"第{n}条新闻的标题", "link": f"https://news.example.com.cn/{i}.html", "date": f"2020-0{d}"}
             for i, n, d in ((1, "一", "7-01"), (2, "二", "6-30"), (3, "三", "6-29"))]
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"pages": [{"file": "page.html", "url": "https://www.example.com.cn/", "lang": "zh",
                                             "lists": [{"heading": "最新消息", "items": items}]}]}), encoding="utf-8")
    return corpus, labels


def test_missing_real_corpus_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "bench/suggest_quality.py", "--corpus", str(tmp_path / "none")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr


def test_suggest_quality_prints_every_layout_and_the_ratio(tmp_path: Path) -> None:
    corpus, labels = _tiny_corpus(tmp_path)
    done = subprocess.run([sys.executable, "bench/suggest_quality.py", "--corpus", str(corpus), "--labels", str(labels)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    layouts = sorted(p.name for p in (ROOT / "tests/data/suggest").iterdir() if (p / "truth.json").exists())
    for name in layouts:
        assert re.search(rf"^{name} +\d+/\d+ ", out, re.M), out
    total = re.search(r"^all: items right (\d+)/(\d+) \([\d.]+%\) vs li baseline [\d.]+% \(ratio ([\d.]+)x\);", out,
                      re.M)
    assert total, out
    assert 0 < int(total[1]) <= int(total[2]) and float(total[3]) > 0, out
    assert re.search(r"; decoy heals \d+/\d+$", out, re.M), out
    # The tiny real corpus: its one list found on another host of the same site, all three items right, no menu.
    assert re.search(r"^real pages: 1 pages; dated lists found 1/1 \(100%\); items right 3/3 \(100.0%\); "
                     r"false listings 0 \(0.0 per 10 pages\); itemless listings 0; \d+ ms per page; "
                     r"undated rankings \(not labelled\) 0$", out, re.M), out


# crawler/discover/suggest.py: the corpus benchmark's smoke run, its quality targets as asserts.
# The command is tested in tests/test_cli_suggest_cmd.py, healing decisions in tests/test_crawler_discover_heal.py.
LAYOUTS = sorted(p for p in CORPUS.iterdir() if (p / "truth.json").exists())


def test_corpus_has_the_layouts_the_issue_names() -> None:
    assert {p.name for p in LAYOUTS} >= {"gbk_portal", "blog_cards", "table_rows", "dl_archive", "news_front",
                                         "menus_tags", "script_ranking"}


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda p: p.name)
def test_suggest_quality_targets(layout: Path) -> None:
    (result,) = run([layout])
    assert result.found == result.real
    assert result.right >= 0.95 * result.items
    assert result.wrong_blocks == []  # no navigation, tag cloud or link farm suggested
    assert result.script_flagged == result.script_real
    assert result.healed_wrong == 0
    renamed = (layout / "truth.json").read_text().count('"renamed"')
    assert result.healed + result.flagged + result.still_found == (result.real if renamed else 0)
