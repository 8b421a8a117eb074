"""Synthetic corpus for the relatedness benchmark: mixed Chinese and English items of realistic lengths.

Words follow a Zipf distribution over a shared lexicon (so common words are common everywhere, as in real
text), and each item also draws from the words of one of `topics` topics. About 1% of items are reposts
of an earlier item (same text, tiny title change), so near-duplicate handling is exercised at scale.
Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np

from feedsvc.related.docs import Doc

# The ~3,500 most used characters sit in U+4E00..U+9FA5 but are not contiguous; any fixed sample of the
# block with Zipf weights gives the same statistics for our purposes (bigram df distribution).
_CJK_POOL = 3500
_SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "er", "an", "in")]


def _zipf_weights(n: int, s: float = 1.07) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** s
    return weights / weights.sum()


class Synth:
    def __init__(self, seed: int = 1, topics: int = 800, lexicon: int = 30_000) -> None:
        self.rng = np.random.default_rng(seed)
        self.labels: dict[int, int] = {}
        rng = self.rng
        chars = [chr(c) for c in rng.choice(np.arange(0x4E00, 0x9FA6), size=_CJK_POOL, replace=False)]
        char_cdf = np.cumsum(_zipf_weights(_CJK_POOL, 0.9))
        lengths = rng.choice([1, 2, 2, 2, 2, 3, 3, 4], size=lexicon)
        picks = np.minimum(np.searchsorted(char_cdf, rng.random(int(lengths.sum()))), _CJK_POOL - 1).tolist()
        ends = np.cumsum(lengths).tolist()
        self.zh_words = ["".join(chars[i] for i in picks[end - k:end]) for k, end in zip(lengths.tolist(), ends, strict=True)]
        syl = np.array(_SYLLABLES)
        self.en_words = ["".join(rng.choice(syl, size=k)) for k in rng.choice([1, 2, 2, 3, 3, 4], size=lexicon)]
        self.word_cdf = np.cumsum(_zipf_weights(lexicon))
        # Topic words come from the middle of the frequency range: specific, but not one-offs.
        self.topic_words = [rng.choice(np.arange(200, lexicon // 2), size=60, replace=False) for _ in range(topics)]

    def _words(self, n: int, topic: int) -> np.ndarray:
        rng = self.rng
        general = np.minimum(np.searchsorted(self.word_cdf, rng.random(n)), len(self.word_cdf) - 1)
        topical = rng.choice(self.topic_words[topic], size=n)
        return np.where(rng.random(n) < 0.35, topical, general)

    def item(self, doc_id: int, topic: int, zh: bool) -> Doc:
        rng = self.rng
        if zh:
            words = self.zh_words
            title = "".join([words[w] for w in self._words(int(rng.integers(5, 12)), topic).tolist()])
            n = int(rng.integers(80, 450))
            seps = np.where(rng.random(n) < 0.12, "，", "").tolist()
            body = "".join([words[w] + sep for w, sep in zip(self._words(n, topic).tolist(), seps, strict=True)])
        else:
            words = self.en_words
            title = " ".join([words[w] for w in self._words(int(rng.integers(4, 11)), topic).tolist()]).capitalize()
            body = " ".join([words[w] for w in self._words(int(rng.integers(40, 160)), topic).tolist()])
        return Doc(doc_id, title, body, float(doc_id))

    def corpus(self, n: int, first_id: int = 1, dup_share: float = 0.01) -> list[Doc]:
        """n items; `self.labels` maps each id to its topic (a repost has its original's topic)."""
        docs: list[Doc] = []
        topics = self.rng.integers(0, len(self.topic_words), size=n).tolist()
        for k in range(n):
            doc_id = first_id + k
            if docs and self.rng.random() < dup_share:
                original = docs[int(self.rng.integers(0, len(docs)))]
                docs.append(Doc(doc_id, original.title + "（转载）", original.text, float(doc_id)))
                self.labels[doc_id] = self.labels[original.id]
            else:
                docs.append(self.item(doc_id, topics[k], zh=k % 2 == 0))
                self.labels[doc_id] = topics[k]
        return docs
