"""Smoke runs of every bench/related_* script at a tiny size, so none can rot (bench/related_corpus.py is the
corpus module both use)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, code: int = 0) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
    assert done.returncode == code, done.stderr
    return done.stdout if code == 0 else done.stderr


# A tiny labelled corpus in the format bench/related_real.py reads: mail-style posts (headers, blank line,
# body) in two categories, and Chinese articles whose first line is the title.
POSTS = {
    "space": ["The shuttle launch window opens at dawn; the orbiter carries a satellite to orbit.",
              "NASA moved the rocket to the pad; the launch of the probe to orbit slips a week.",
              "Orbit insertion burn went well and the satellite deployed its solar panels after launch.",
              "A new rocket engine test at the launch site; the orbiter program reviews the satellite."],
    "hockey": ["The goalie stopped forty shots and the team won the playoff game in overtime.",
               "Penalty killing decided the series; the goalie and the defense held the power play.",
               "The playoff series goes to game seven after an overtime goal by the team captain.",
               "Trade rumours: the team wants a goalie before the playoff deadline, the coach said."],
}
ARTICLES = {
    "体育": ["国家队备战世界杯预选赛\n主教练宣布国家队集训名单，球队将在主场迎战对手，球员状态良好。",
             "联赛第十轮战报\n主队球员梅开二度，球队主场取胜，主教练赛后表示满意。",
             "女排公布集训名单\n主教练表示球队备战奥运会，球员将在集训中提高状态。"],
    "财经": ["央行公布货币政策报告\n报告指出物价保持稳定，利率水平合理，货币供应量增长。",
             "股市收盘上涨\n沪深两市成交放量，银行股领涨，市场对利率下调预期升温。",
             "统计局发布物价数据\n居民消费价格同比上涨，专家认为货币政策保持稳健。"],
}


def _corpus(folder: Path) -> None:
    for lang, groups, write in (("en", POSTS, lambda t: f"From: someone@example.org\nSubject: Re: {t[:30]}\n\n{t}\n"),
                                ("zh", ARTICLES, lambda t: t)):
        files = []
        for category, texts in groups.items():
            for k, text in enumerate(texts):
                local = f"{lang}/{category}{k}.txt"
                (folder / lang).mkdir(exist_ok=True)
                (folder / local).write_text(write(text), encoding="utf-8")
                files.append({"local": local, "category": category})
        (folder / f"manifest_{lang}.json").write_text(json.dumps({"files": files}), encoding="utf-8")


def test_related_bench_smoke() -> None:
    out = _run("bench/related_bench.py", "--items", "200", "--queries", "21", "--crawls", "1")
    assert "one item  a crawl of 1 new item into 200, refresh + commit" in out
    assert "refresh   a crawl of 20 new items into 200" in out and "rebuild   index + all neighbours" in out


def test_related_bench_rebuild_only_smoke() -> None:
    out = _run("bench/related_bench.py", "--items", "200", "--queries", "21", "--rebuild-only")
    assert "`related --rebuild`" in out and "one item  a crawl of 1 new item after it" in out
    assert "baseline" not in out  # the engine-only and refresh children are skipped


def test_related_quality_smoke(tmp_path: Path) -> None:
    _corpus(tmp_path)
    out = _run("bench/related_quality.py", "--quick", "--corpus", str(tmp_path))
    assert "real labelled text: en 8 items in 2 categories, zh 6 items in 2 categories" in out
    # Every item gets a list on this corpus, and the method is measured beside scikit-learn's TF-IDF.
    chosen = next(line for line in out.splitlines() if line.startswith("chosen (production path: store"))
    cells = chosen.split()[-4:]  # p@5 en, answered en, p@5 zh, answered zh
    assert cells[1] == cells[3] == "100.0%", chosen
    assert "plain TF-IDF (scikit-learn, same run)" in out
    assert "baseline: plain TF-IDF, whole cleaned bodies" in out and "chosen (production path)" in out


def test_related_quality_without_its_corpus_says_what_is_missing(tmp_path: Path) -> None:
    err = _run("bench/related_quality.py", "--quick", "--corpus", str(tmp_path / "none"), code=2)
    assert err.startswith("error: no real labelled corpus in") and len(err.strip().splitlines()) == 1
