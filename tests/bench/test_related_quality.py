"""Measured relatedness quality on the labelled corpus (tests/support/related_corpus.py): precision@5, near-duplicates."""

from __future__ import annotations

import pytest

from tests.support.related_corpus import build_corpus, evaluate
from tests.support.related_pages import build_pages, evaluate_pages, long_bodies

# Three topical sentences and two site-boilerplate sentences per item: hard enough that the choice of
# weighting shows (see bench/related_quality.py for the other settings).
CORPUS = build_corpus(sentences=3, boilerplate=2)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_precision_at_5_meets_target(lang: str) -> None:
    quality = evaluate(CORPUS)
    assert quality.precision_at_5[lang] >= 0.8, quality


def test_every_near_duplicate_caught_none_recommended_no_false_alarms() -> None:
    quality = evaluate(CORPUS)
    assert quality.duplicate_recall == 1.0
    assert quality.duplicates_recommended == 0
    assert quality.false_duplicates == 0


# Full article pages of six site templates (tests/support/related_pages.py): boilerplate inside and around long bodies.
PAGES = build_pages()


def test_real_pages_precision_at_5_meets_target_and_beats_plain_tfidf() -> None:
    quality = evaluate_pages(PAGES)
    assert long_bodies(PAGES) >= 0.9  # the bodies are longer than relatedness reads
    for lang in ("zh", "en"):
        assert quality.chosen[lang] >= 0.92, quality
        assert quality.chosen[lang] >= quality.baseline[lang], quality
