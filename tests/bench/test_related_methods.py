"""Smoke run of bench/related_methods.py (re-ranking methods side by side) on a tiny labelled corpus."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.bench.test_related_bench import _corpus, _run
from tests.support.services import unavailable


def test_related_methods_smoke(tmp_path: Path) -> None:
    _corpus(tmp_path)
    out = _run("bench/related_methods.py", "--quick", "--matched", "--corpus", str(tmp_path))
    assert out.startswith("sets: en 8 items, zh 6 items; load average")
    rows = {line[:50].strip(): line[50:].split() for line in out.splitlines()}
    # p@5, answered, items shown per set; the production row answers every item of this corpus.
    production = rows["engine, production cut (0.7 rel, min 0.08)"]
    assert production[1] == production[4] == "100%", production
    for name in ("plain TF-IDF, full top 5", "engine SNN k=10 overlap, full top 5", "engine mutual kNN k=10, full top 5",
                 "engine Rocchio m=5 beta=1.0, full top 5", "engine diffusion k=10 alpha=0.5, full top 5",
                 "engine + LSA50 blend w=0.3, full top 5"):
        assert all(0.0 <= float(p) <= 1.0 for p in rows[name][0::3]), (name, rows[name])
    assert "p@5 with the relative cut that gives production's list length" in out


def test_related_methods_without_its_corpus_says_what_is_missing(tmp_path: Path) -> None:
    err = _run("bench/related_methods.py", "--quick", "--corpus", str(tmp_path / "none"), code=2)
    assert err.startswith("error: no real labelled corpus in") and len(err.strip().splitlines()) == 1


def test_related_methods_static_embeddings_smoke(tmp_path: Path) -> None:
    """The bundled model loads with no download (the tests have no network), alone and blended."""
    _corpus(tmp_path)
    out = _run("bench/related_methods.py", "--quick", "--embeddings", "--filter", "embeddings", "--corpus", str(tmp_path))
    rows = {line[:50].strip(): line[50:].split() for line in out.splitlines()}
    for name in ("static embeddings alone, full top 5", "engine + embeddings blend w=0.2, full top 5",
                 "tfidf + embeddings blend w=0.2, full top 5", "top-40 rerank + embeddings w=0.2, full top 5"):
        assert all(0.0 <= float(p) <= 1.0 for p in rows[name][0::3]), (name, rows[name])
        assert rows[name][1::3] == ["100%", "100%"], (name, rows[name])


def test_static_embeddings_are_unit_vectors_that_place_a_topic_together() -> None:
    from bench.related_methods import static_embeddings

    vectors = static_embeddings(["The goalie stopped every shot and the team won the hockey game in overtime.",
                                 "Their hockey team scored twice in the third period to win the game.",
                                 "Whisk the eggs with sugar, fold in the flour and bake the cake for an hour.",
                                 ""])
    assert vectors.shape == (4, 256)
    assert abs(float(vectors[0] @ vectors[0]) - 1.0) < 1e-6
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    assert not vectors[3].any()  # an empty text has no direction (never NaN)


def _needs_the_sentence_encoder() -> None:
    from bench.related_methods import use_missing

    missing = use_missing()
    if missing is not None:
        unavailable(missing)  # .ci/run installs it


def test_sentence_encoder_gives_unit_vectors_that_place_a_topic_together() -> None:
    _needs_the_sentence_encoder()
    from bench.related_methods import sentence_embeddings

    vectors = sentence_embeddings(["The goalie stopped every shot and the team won the hockey game in overtime.",
                                   "Their hockey team scored twice in the third period to win the game.",
                                   "Whisk the eggs with sugar, fold in the flour and bake the cake for an hour."])
    assert vectors.shape == (3, 512)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2]) + 0.1


def test_related_methods_sentence_encoder_smoke(tmp_path: Path) -> None:
    _needs_the_sentence_encoder()
    _corpus(tmp_path)
    out = _run("bench/related_methods.py", "--quick", "--embeddings", "--encoder", "use", "--filter",
               "embeddings alone", "--corpus", str(tmp_path))
    rows = {line[:50].strip(): line[50:].split() for line in out.splitlines()}
    alone = rows["static embeddings alone, full top 5"]
    assert all(0.0 <= float(p) <= 1.0 for p in alone[0::3]) and alone[1::3] == ["100%", "100%"], alone
