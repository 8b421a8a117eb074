"""Near-duplicates: the rules that say two documents are one (the same text under two URLs, or reposted with a
tiny title change), and which item of a group is the original. Pure (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from feedsvc.related.docs import MAX_BODY_CHARS, Doc, Scored
from feedsvc.related.tokens import normalize

# | rule                            | value | why                                                                |
# | vector cosine (pre-filter)      | 0.60  | cheap screen on the scores we compute anyway; a repost with an     |
# |                                 |       | added "（转载）" scores only 0.80-0.87, since idf squared makes the   |
# |                                 |       | new rare title word heavy (bench/related_bench.py corpus)          |
# | text overlap: Jaccard of 4-char | 0.80  | the same text with small edits keeps >= 0.9 of its shingles;       |
# | shingles of the normalised text |       | different documents on one subject share < 0.3                     |
# | title bigram overlap (Jaccard)  | 0.50  | a tiny title change keeps most of the title; a shared template     |
# |                                 |       | body under a different title is a different document               |
# | numbers in the titles           | equal | "2023年…总结" and "2024年…总结" are different editions, even when    |
# |                                 |       | the text follows the same template                                 |
# | title-only items (no text)      | same  | without text, only an identical normalised title of >= 6           |
# |                                 | title | characters is evidence enough                                      |
DUPLICATE_MIN_COSINE = 0.60
DUPLICATE_MIN_TEXT_OVERLAP = 0.80
DUPLICATE_MIN_TITLE_OVERLAP = 0.50
DUPLICATE_MIN_TITLE_CHARS = 6
SHINGLE = 4

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_NUMBER_RE = re.compile(r"\d+")
_TITLE_NOISE_RE = re.compile(rf"[^{_CJK}a-z0-9]+")


@lru_cache(maxsize=65536)
def title_key(title: str) -> str:
    """A title without spaces and punctuation, for comparing titles."""
    return _TITLE_NOISE_RE.sub("", normalize(title))


def _bigrams(key: str) -> set[str]:
    return {key[i : i + 2] for i in range(len(key) - 1)} or {key}


@lru_cache(maxsize=8192)
def _shingles(text: str) -> frozenset[str]:
    key = title_key(text[:MAX_BODY_CHARS])
    return frozenset(key[i : i + SHINGLE] for i in range(max(1, len(key) - SHINGLE + 1)))


def _jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def is_near_duplicate(a: Doc, b: Doc, cosine: float) -> bool:
    """Apply the near-duplicate table above to two documents whose vectors have this cosine."""
    ka, kb = title_key(a.title), title_key(b.title)
    if _NUMBER_RE.findall(ka) != _NUMBER_RE.findall(kb):
        return False
    if not a.text.strip() or not b.text.strip():
        return ka == kb and len(ka) >= DUPLICATE_MIN_TITLE_CHARS
    if cosine < DUPLICATE_MIN_COSINE or _jaccard(_bigrams(ka), _bigrams(kb)) < DUPLICATE_MIN_TITLE_OVERLAP:
        return False
    return _jaccard(_shingles(a.text), _shingles(b.text)) >= DUPLICATE_MIN_TEXT_OVERLAP


def _root(dup_of: Mapping[int, int], item_id: int) -> int:
    while item_id in dup_of:
        item_id = dup_of[item_id]
    return item_id


def assign_duplicates(docs_by_id: Mapping[int, Doc], dups: Mapping[int, Sequence[Scored]]) -> dict[int, int]:
    """duplicate id -> original id: within each near-duplicate group the earliest item is the original."""
    dup_of: dict[int, int] = {}
    for item_id in sorted(dups, key=lambda i: (docs_by_id[i].order, i)):
        if item_id in dup_of:
            continue
        me = docs_by_id[item_id]
        earlier = [s.id for s in dups[item_id]
                   if s.id in docs_by_id and (docs_by_id[s.id].order, s.id) < (me.order, item_id)]
        if earlier:
            first = min(earlier, key=lambda i: (docs_by_id[i].order, i))
            dup_of[item_id] = _root(dup_of, first)
    return {d: _root(dup_of, o) for d, o in dup_of.items()}
