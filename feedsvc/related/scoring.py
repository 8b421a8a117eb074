"""Pure relatedness scoring: tokenising (Chinese and English), TF-IDF vectors, near-duplicate rules, top-k.

No I/O and no database: feedsvc/recommend.py feeds documents in and stores what comes out.

Method (measured in bench/related_quality.py and bench/related_bench.py; see the README):
- Chinese runs become overlapping character bigrams (one character alone stays a unigram). jieba words
  scored no better on the labelled corpus (precision@5 0.93 against 0.95) and tokenise ~50x slower
  (0.2 MB/s against 10 MB/s), which alone would break the 60 s budget for rebuilding 100,000 items.
  `tokenize(..., mode="jieba")` stays available for comparison.
- English: lowercase words, a stopword list and a light suffix stemmer (plural/-ing/-ed/final e).
- Vectors, scoring and the index live in feedsvc/related_index.py (TF-IDF with idf squared, title counted
  twice, each document's 64 heaviest terms, cosine over sparse matrices).
- Near-duplicates: the rule table below.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

TokenMode = Literal["bigram", "jieba", "both"]

# Only so much body text is needed to say what a document is about; capping it bounds the cost of long pages.
MAX_BODY_CHARS = 1200
TITLE_WEIGHT = 2
# Near-duplicate rules: the same document under two URLs, or reposted with a tiny title change.
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
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[a-z0-9]+(?:'[a-z]+)?")
_NUMBER_RE = re.compile(r"\d+")
_TITLE_NOISE_RE = re.compile(rf"[^{_CJK}a-z0-9]+")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    new says said one two may might must us via per use used using get got make made many much""".split()  # noqa: SIM905
)

_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba_cut(text: str) -> list[str]:
    """jieba initialised once, quietly (it logs its dictionary loading to stderr by default)."""
    global _jieba_ready
    import jieba

    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.setLogLevel(logging.WARNING)
                jieba.initialize()
                _jieba_ready = True
    return [w for w in jieba.lcut(text, HMM=False) if len(w) > 1 or len(text) == 1]


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English stemmer: enough to meet 'markets'/'market', 'rising'/'rise' without a dependency."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("'s"):
        word = word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "ches", "shes", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ingly", "ing", "edly", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
                word = word[:-1]  # running -> run
            break
    # A final e goes too, so rise / rises / rising / rised all meet at "ris".
    return word[:-1] if len(word) >= 4 and word.endswith("e") else word


# Characters NFKC changes in a way tokens care about: full-width letters and digits, compatibility
# ideographs, enclosed/circled forms, ligatures. Full-width punctuation also changes, but only separates.
_NEEDS_NFKC = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\uf900-\ufaff\u2460-\u24ff\u3200-\u33ff\ufb00-\ufb4f]")


def normalize(text: str) -> str:
    """NFKC where it matters for tokens (full-width letters and digits become ASCII...), and lowercase.

    NFKC itself runs at only ~4 MB/s on Chinese text, so it is applied only when such characters occur.
    """
    if not text.isascii() and _NEEDS_NFKC.search(text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


def tokenize(text: str, mode: TokenMode = "bigram") -> list[str]:
    """Terms of a text: CJK bigrams (or jieba words) and stemmed English words without stopwords."""
    out: list[str] = []
    for run in _TOKEN_RE.findall(normalize(text)):
        first = run[0]
        if "a" <= first <= "z" or "0" <= first <= "9":
            if run in STOPWORDS or (run.isdigit() and len(run) < 3):
                continue
            out.append(stem(run))
            continue
        if mode != "jieba":
            if len(run) == 1:
                out.append(run)
            else:
                out.extend([run[i : i + 2] for i in range(len(run) - 1)])
        if mode != "bigram":
            out.extend(_jieba_cut(run))
    return out


@dataclass(frozen=True, slots=True)
class Doc:
    """One item as the scorer sees it. `order` breaks ties on who came first (first_seen, then id)."""

    id: int
    title: str
    text: str = ""
    order: float = 0.0


class Scored(NamedTuple):
    """A candidate and its score (cosine in 0..1, plus any weak-signal bonus). A tuple: made by the million."""

    id: int
    score: float


_TAG_RE = re.compile(r"<[^>]*>")


def plain_text(*parts: str | None) -> str:
    """Summary and (HTML) body as one plain text, tags and entities removed, capped at MAX_BODY_CHARS."""
    import html

    out: list[str] = []
    size = 0
    for part in parts:
        if not part:
            continue
        text = html.unescape(_TAG_RE.sub(" ", part)) if "<" in part or "&" in part else part
        text = " ".join(text.split())
        if not text:
            continue
        if out and text.startswith(out[-1][:60]):  # the summary is the body's first lines: keep the body
            size += len(text) - len(out[-1])
            out[-1] = text
        elif not out or text[:60] not in out[-1]:
            out.append(text)
            size += len(text)
        if size >= MAX_BODY_CHARS:
            break
    return " ".join(out)[:MAX_BODY_CHARS]


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


def related(target: Doc, candidates: Sequence[Doc], limit: int, min_score: float = 0.0,
            boosts: dict[int, float] | None = None, mode: TokenMode = "bigram") -> list[Scored]:
    """The candidates most related to `target`, best first; near-duplicates of it and itself excluded.

    `boosts` adds weak evidence (site related links, co-appearance in listings) to candidates that are
    already similar in content, so it reorders close calls but never makes an unrelated item related.
    """
    from feedsvc.related.index import RelatedIndex  # the index builds on this module's pieces

    index = RelatedIndex([d for d in candidates if d.id != target.id], mode)
    found, _dups = index.query(target, limit=max(limit * 3, limit + 10), min_score=min_score)
    return apply_boosts(found, boosts or {}, limit)


def apply_boosts(found: Iterable[Scored], boosts: dict[int, float], limit: int) -> list[Scored]:
    rescored = [Scored(s.id, round(s.score + boosts.get(s.id, 0.0), 6)) for s in found]
    rescored.sort(key=lambda s: (-s.score, s.id))
    return rescored[:limit]
