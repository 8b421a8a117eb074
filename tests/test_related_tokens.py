"""feedsvc/related/tokens.py: the one tokenizer (the integer term keys the index and signatures use)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

from feedsvc.related.tokens import batch_keys, batch_vocabulary, normalize, stem, term_counts, word_key


def pair(a: str, b: str = "") -> int:
    """The documented key of a Chinese bigram (or of a lone character)."""
    return (ord(a) << 16) | (ord(b) if b else 0)


def test_chinese_runs_become_overlapping_bigrams_and_a_lone_character_stays() -> None:
    assert term_counts("防汛工作") == {pair("防", "汛"): 1, pair("汛", "工"): 1, pair("工", "作"): 1}
    assert term_counts("防汛防汛") == {pair("防", "汛"): 2, pair("汛", "防"): 1}
    assert term_counts("党") == {pair("党"): 1}
    assert term_counts("防汛，工作") == {pair("防", "汛"): 1, pair("工", "作"): 1}  # punctuation separates


def test_english_words_are_stemmed_and_stopwords_and_short_numbers_dropped() -> None:
    keys = term_counts("The markets are RISING, ＡＩ rules in 3 days of 2024")
    words = {word_key(w) for w in ("market", "rising", "ai", "rules", "days", "2024")}
    assert words <= set(keys) and len(set(keys) - words) == 5  # and the 5 pairs of neighbouring words
    assert word_key("markets") == word_key("market") and word_key("rising") == word_key("rise")
    assert word_key("the") == 0 and word_key("3") == 0 and word_key("2024") != 0
    assert stem("running") == "run" and stem("policies") == "policy" and stem("taxes") == "tax"


def test_neighbouring_words_make_a_pair_term_skipping_stopwords_not_crossing_lines() -> None:
    (pair_key,) = set(term_counts("wall street")) - {word_key("wall"), word_key("street")}
    assert term_counts("Wall Street") == term_counts("wall of street") == {word_key("wall"): 1,
                                                                          word_key("street"): 1, pair_key: 1}
    assert pair_key not in term_counts("street wall") and pair_key not in term_counts("wall\nstreet")
    assert len(term_counts("wall\nstreet")) == 2


def test_words_with_apostrophes_are_read_as_the_word_pattern_reads_them() -> None:
    """Words are split on bytes no word holds; a token with apostrophes is one word, part of one, or two."""
    assert term_counts("'quoted' it's") == term_counts("quoted it's")
    assert {word_key("rock'n"), word_key("roll")} <= set(term_counts("rock'n'roll"))
    assert len(term_counts("rock'n'roll")) == 3 and term_counts("' '' x") == term_counts("x")
    assert term_counts("wall|street") == term_counts("wall street") != term_counts("wall\nstreet")  # '|' is no line


def test_jieba_mode_gives_word_keys_apart_from_bigrams() -> None:
    words = term_counts("防汛工作", mode="jieba")
    assert len(words) == 2 and all(k >= 1 << 39 for k in words)  # 防汛, 工作
    both = term_counts("防汛工作", mode="both")
    assert set(both) == set(words) | set(term_counts("防汛工作"))


def test_a_batch_gives_each_text_its_own_terms() -> None:
    """Texts are tokenised together: no bigram may span the end of one text and the start of the next."""
    texts = [normalize(t) for t in ("防汛工作", "工作安排 Tax", "", "markets 党", "党")]
    rows, keys, counts = batch_keys(texts)
    for row, text in enumerate(texts):
        mine = rows == row
        assert dict(zip(keys[mine].tolist(), counts[mine].astype(int).tolist(), strict=True)) == term_counts(text)


def test_a_batch_against_its_distinct_keys_gives_the_same_entries_in_the_same_order() -> None:
    """One sort by key gives the entries and the batch's keys; they come back in batch_keys's order (by text,
    then key), which signatures depend on (ties among equal weights)."""
    texts = [normalize(t) for t in ("防汛工作 markets", "", "工作安排 Tax tax markets", "markets 党 防汛", "党")]
    rows, keys, counts = batch_keys(texts)
    lengths, inverse, vocab_counts, vocab = batch_vocabulary(texts)
    assert vocab.tolist() == sorted(set(keys.tolist()))
    assert lengths.tolist() == np.bincount(rows, minlength=len(texts)).tolist()
    assert vocab[inverse].tolist() == keys.tolist() and vocab_counts.tolist() == counts.astype(int).tolist()
    assert [len(a) for a in batch_vocabulary([])] == [0, 0, 0, 0]


def test_term_keys_are_the_same_in_every_process() -> None:
    """Signatures are stored, so English word keys must not depend on Python's per-process hash seed."""
    code = "from feedsvc.related.tokens import term_counts; print(sorted(term_counts('Tax reform markets 防汛')))"
    here = sorted(term_counts("Tax reform markets 防汛"))
    for seed in ("1", "2"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": seed})
        assert out.stdout.strip() == str(here)
