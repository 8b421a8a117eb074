"""crawler/discover/suggest.py: the corpus benchmark's smoke run, its quality targets as asserts.
The command is tested in tests/test_suggest_cmd.py, healing decisions in tests/test_discover_heal.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.suggest_quality import CORPUS, run

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
