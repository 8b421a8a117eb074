"""Smoke run of bench/related_site.py (labelled text served as one site, crawled and related the normal way)."""

from __future__ import annotations

from pathlib import Path

from tests.bench.test_related_bench import _corpus, _run


def test_related_site_smoke(tmp_path: Path) -> None:
    _corpus(tmp_path)
    out = _run("bench/related_site.py", "--en", "2x4", "--zh", "2x3", "--corpus", str(tmp_path))
    assert out.startswith("one site, 14 articles: en 8 in 2 categories, zh 6 in 2 categories; 14 stored;"), out
    rows = {line[:40].strip(): line[40:].split() for line in out.splitlines()[2:]}
    # p@5, answered, shown per language, then how many lists are computed (not the site's own links).
    crawl, rebuild = rows["feedsvc crawl (its after-crawl refresh)"], rows["feedsvc related --rebuild"]
    assert crawl[1] == crawl[4] == rebuild[1] == rebuild[4] == "100.0%", out
    assert crawl[6] == rebuild[6] == "14", out
    for name in ("plain TF-IDF, stored texts, top 5", "plain TF-IDF, stored texts, cut 0.7"):
        assert all(0.0 <= float(p) <= 1.0 for p in rows[name][0::3]), (name, rows[name])


def test_related_site_without_its_corpus_says_what_is_missing(tmp_path: Path) -> None:
    err = _run("bench/related_site.py", "--corpus", str(tmp_path / "none"), code=2)
    assert err.startswith("error: no real labelled corpus in") and len(err.strip().splitlines()) == 1
