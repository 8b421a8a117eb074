"""Smoke run of bench/extract_bench.py at a tiny size, run as bench/README.md documents it, so the benchmark
cannot rot: every list item of the generated page is extracted and the ratio line parses."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_extract_bench_prints_entries_and_ratio() -> None:
    # README: `python bench/extract_bench.py` (200 rounds over a 100 KB page); here 5 rounds over 10 KB.
    done = subprocess.run([sys.executable, "bench/extract_bench.py", "--repeat", "5", "--size", "10"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    page = re.search(r"^page: (\d+) KB, (\d+) <li>, (\d+) entries in 3 listings; 5 rounds$", out, re.M)
    assert page, out
    size_kb, items, entries = map(int, page.groups())
    assert size_kb >= 10
    # Every <li> but the two navigation links is an entry of 推荐文稿 or 最新文稿 (阅读排行 is script-filled, empty).
    assert entries == items - 2, out
    for label in ("extract all listings (parse incl.)", "baseline Selector(text).css('li')",
                  "extract one article (parse incl.)"):
        assert re.search(rf"^{re.escape(label)}\s+[\d.]+ms\s+[\d.]+ms\s+[\d.]+ms$", out, re.M), out
    ratio = re.search(r"^ratio listings/baseline \(median\): wall ([\d.]+)x, cpu ([\d.]+)x$", out, re.M)
    assert ratio, out
    assert float(ratio[1]) > 0 and float(ratio[2]) > 0


_STORY = ("<p>The city council voted on Tuesday to extend the river path by four kilometres, a plan first proposed a "
          "decade ago.</p><p>Work starts in the spring and the whole route should open within two years.</p>")
_ZH = "<p>市政府周二宣布，沿江步道将延长四公里，工程将于明年春天开工，预计两年内全线贯通。</p><p>沿线居民表示欢迎。</p>"


def _tiny_corpus(root: Path) -> Path:
    """Three pages in bench/extract_corpus.py's layout: English full text, Chinese GBK full text, snippets."""
    import json

    pages = root / "pages"
    pages.mkdir(parents=True)
    en = (f'<html><head><title>River path</title><meta property="article:published_time" content="2024-05-02">'
          f'</head><body><nav>Home News Sport</nav><article><h1>River path</h1>{_STORY}</article></body></html>')
    (pages / "en-1.html").write_text(en, encoding="utf-8")
    zh = (f'<html><head><meta charset="gbk"><title>沿江步道延长</title></head><body><div class="nav">首页 新闻</div>'
          f'<div class="content"><h1>沿江步道延长</h1><p>发布时间：2024-05-03 09:30</p>{_ZH}</div></body></html>')
    (pages / "zh-1.html").write_bytes(zh.encode("gbk"))
    (pages / "sn-1.html").write_text(en, encoding="utf-8")
    (pages / "zh-2.html").write_bytes(zh.encode("gbk"))
    labels = [
        {"id": "en-1", "lang": "en", "kind": "text", "title": "River path", "date": "2024-05-02",
         "expected": "The city council voted on Tuesday to extend the river path by four kilometres, a plan first "
                     "proposed a decade ago. Work starts in the spring and the whole route should open within two years."},
        {"id": "zh-1", "lang": "zh", "kind": "text", "date": "2024-05-03 09:30",
         "expected": "市政府周二宣布，沿江步道将延长四公里，工程将于明年春天开工，预计两年内全线贯通。 沿线居民表示欢迎。"},
        {"id": "sn-1", "lang": "en", "kind": "snippets", "with": ["Work starts in the spring"], "without": ["Home News"]},
        {"id": "zh-2", "lang": "zh", "kind": "text", "expected": "首页 新闻", "excluded": "label is the navigation"},
    ]
    (root / "labels.json").write_text(json.dumps(labels, ensure_ascii=False), encoding="utf-8")
    return root


def test_extract_quality_scores_each_extractor_on_a_tiny_corpus(tmp_path: Path) -> None:
    corpus = _tiny_corpus(tmp_path / "corpus")
    done = subprocess.run([sys.executable, "bench/extract_quality.py", "--corpus", str(corpus),
                           "--only", "feedsvc,trafilatura,htmldate"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    for group in ("en/snippets", "en/text", "zh/text"):
        assert f"## {group}" in out, out
    row = re.search(r"^## zh/text\n.*\nfeedsvc\s+1\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+0\s+0\s+\S+\s+1/1\s+[\d.]+$", out, re.M)
    assert row and float(row[1]) > 0.9, out  # GBK decoded, body found, date read from the line under the title
    en = re.search(r"^## en/text\n.*\nfeedsvc\s+1\s+([\d.]+).*\s1/1\s+1/1\s+[\d.]+$", out, re.M)
    assert en and float(en[1]) > 0.9, out
    assert re.search(r"^## en/snippets\n.*\nfeedsvc\s+1\s+1\.000\s+1\.000\s+1\.000", out, re.M), out
    assert re.search(r"^htmldate\s+1\s+-\s+-\s+-", out, re.M), out
    # An excluded page is not scored (zh/text stays one page) but printed with each extractor's F1 and the reason.
    assert re.search(r"^excluded zh-2 \(zh/text; feedsvc [\d.]+, trafilatura [\d.]+\): label is the navigation$", out,
                     re.M), out
    assert re.search(r"^versions: trafilatura \S+, readability-lxml \S+", out, re.M), out
    assert len(re.findall(r"^feedsvc - trafilatura: F1 [+-]\d\.\d{3}, CPU per page \d+\.\d\dx$", out, re.M)) == 3, out


def test_extract_quality_without_a_corpus_says_how_to_build_it(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "bench/extract_quality.py", "--corpus", str(tmp_path / "none")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2
    assert done.stderr.startswith("error: no extraction corpus at") and "extract_corpus.py" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
