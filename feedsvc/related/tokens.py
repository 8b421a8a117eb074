"""Terms of a text, the one tokenizer relatedness uses: Chinese character bigrams and stemmed English words,
as integer term keys (`batch_keys`). Pure (no I/O).

Method (measured in bench/related_quality.py):
- Chinese runs become overlapping character bigrams (one character alone stays a unigram). jieba words
  scored no better on the labelled corpus and tokenise ~50x slower, which alone would break the 60 s budget
  for rebuilding 100,000 items; `mode="jieba"` / `"both"` stay available for that comparison.
- English: lowercase words, a stopword list and a light suffix stemmer (plural/-ing/-ed/final e), plus each
  pair of neighbouring words (stopwords skipped, not across a line break) as a term of its own: on short
  news items ("wall street", "grand prix") pairs took AG News from 0.64 to 0.71 precision@5
  (bench/related_quality.py --real, docs/related.md).

Term keys let the hot paths run in numpy: a Chinese bigram is its two code points packed into one int64
(`first << 16 | second`; a lone character is `char << 16`), computed for a whole batch of texts at once; an
English word is a 40-bit blake2b hash of its stem (cached; stable across processes, so signatures can be
stored: feedsvc/related/postings.py), a word pair a 38-bit mix of its two words' keys; a jieba word is a
39-bit hash.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Literal

import numpy as np

TokenMode = Literal["bigram", "jieba", "both"]

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have having
    he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
    nor not now of off on once only or other our ours ourselves out over own same she should so some such than
    that the their theirs them themselves then there these they this those through to too under until up very
    was we were what when where which while who whom why will with would you your yours yourself yourselves
    new says said one two may might must us via per use used using get got make made many much""".split()  # noqa: SIM905
)

KEY_BITS = 41  # term keys are below 2**41: CJK pairs < 2**32, word pairs [2**38, 2**39), jieba words
# [2**39, 2**40), words [2**40, 2**41)
_PAIR_BASE = 1 << 38
_JIEBA_BASE = 1 << 39
_WORD_BASE = 1 << 40
_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|\n")
# Pairs of neighbouring English words are terms too (bench/related_quality.py turns this off to compare).
WORD_PAIRS = True
# The key `_word_keys` gives a line break: it ends a run of word pairs and is no term itself.
_LINE_BREAK = -1
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))

_jieba_lock = threading.Lock()
_jieba_ready = False


def jieba_cut(text: str) -> list[str]:
    """jieba words of a text (initialised once, quietly: it logs its dictionary loading by default)."""
    global _jieba_ready
    try:
        import jieba
    except ImportError:
        raise ImportError("jieba words are for the benchmarks' comparison: pip install 'feedsvc[bench]'") from None

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


def is_word_pair(keys: np.ndarray) -> np.ndarray:
    """Which of these term keys are pairs of neighbouring English words."""
    return np.asarray((keys >> 38) == 1, dtype=bool)


def normalize(text: str) -> str:
    """NFKC where it matters for tokens (full-width letters and digits become ASCII...), and lowercase.

    NFKC itself runs at only ~4 MB/s on Chinese text, so it is applied only when such characters occur.
    """
    if not text.isascii() and _NEEDS_NFKC.search(text):
        text = unicodedata.normalize("NFKC", text)
    return text.lower()


def stable_hash(word: str) -> int:
    """The same 64-bit value in every process (Python's own str hash is salted per process)."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")


def word_key(word: str) -> int:
    """The term key of a lowercase English word (its stem); 0 for a stopword or a short number (no term)."""
    if word == "\n":
        return _LINE_BREAK
    if word in STOPWORDS or (word.isdigit() and len(word) < 3):
        return 0
    return _WORD_BASE | (stable_hash(stem(word)) & (_WORD_BASE - 1))


# A text's words are found by bytes.split, in C, instead of _WORD_RE.findall (three times as fast): encoded as
# ASCII (other characters as '?'), every byte no word holds becomes a space and a line break a token of its own
# ("|", a space before). No match of _WORD_RE holds such a byte, so the tokens between them, each read as
# _WORD_RE reads it, give its matches in its order; nearly every token is one match.
_WORD_BYTES = bytes(c if chr(c) in "abcdefghijklmnopqrstuvwxyz0123456789'\n" else 32 for c in range(256))
_LINE_TOKEN = b"|"
# The key `_TokenKeys` gives a token that is not one match ("rock'n'roll", a lone "'"): read again with _WORD_RE.
_SPLIT = -2


def _tokens(text: str) -> list[bytes]:
    return text.encode("ascii", "replace").translate(_WORD_BYTES).replace(b"\n", b" | ").split()


def _token_matches(token: bytes) -> list[str]:
    return ["\n"] if token == _LINE_TOKEN else _WORD_RE.findall(token.decode())


class _TokenKeys(dict[bytes, int]):
    """token -> key of its one match (`_SPLIT` if it has not one), filled on first sight; lookups stay in C via
    map(__getitem__)."""

    def __missing__(self, token: bytes) -> int:
        if len(self) > 500_000:
            self.clear()
        found = _token_matches(token)
        key = self[token] = word_key(found[0]) if len(found) == 1 else _SPLIT
        return key


_token_keys = _TokenKeys()
# Which characters are CJK (those of _CJK_RANGES), by code point; one past the last stands for any code above.
_CJK_TABLE = np.zeros(max(hi for _lo, hi in _CJK_RANGES) + 2, dtype=bool)
for _lo, _hi in _CJK_RANGES:
    _CJK_TABLE[_lo : _hi + 1] = True


def batch_keys(texts: Sequence[str], mode: TokenMode = "bigram") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, term key, count) for every distinct term of every (normalised) text, sorted by row then key."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    rows, keys = _occurrences(texts, mode)
    combined, counts = np.unique((rows << KEY_BITS) | keys, return_counts=True)
    return combined >> KEY_BITS, combined & ((1 << KEY_BITS) - 1), counts.astype(np.float32)


def batch_vocabulary(texts: Sequence[str], mode: TokenMode = "bigram",
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`batch_keys`'s entries (same order) against the batch's sorted distinct keys: (distinct terms per text,
    each entry's position among those keys, count, the keys).

    One sort of the occurrences by key, then row, gives both the entries and the keys; a stable sort by
    row (a radix sort: rows are small integers) puts the entries in `batch_keys`'s order. Sorting by row
    first and then every entry's key again for the keys took three times as long (bench/README.md)."""
    if not texts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    rows, keys = _occurrences(texts, mode)
    row_bits = max(1, (len(texts) - 1).bit_length())
    if row_bits + KEY_BITS > 63:  # rows and keys share one int64 below
        raise ValueError(f"a batch of {len(texts)} texts: at most {1 << (63 - KEY_BITS)} are tokenised together")
    packed = (keys << row_bits) | rows
    del rows, keys
    packed.sort()
    first = np.flatnonzero(np.concatenate(([True], packed[1:] != packed[:-1]))) if len(packed) else packed
    counts = np.diff(np.append(first, len(packed)))
    entries = packed[first]
    del packed, first
    entry_rows = entries & ((1 << row_bits) - 1)
    entry_keys = entries >> row_bits
    new = np.concatenate(([True], entry_keys[1:] != entry_keys[:-1])) if len(entry_keys) else np.zeros(0, bool)
    vocab = entry_keys[new]
    inverse = np.cumsum(new) - 1
    order = np.argsort(entry_rows.astype(np.int16 if row_bits < 16 else np.int64), kind="stable")
    return np.bincount(entry_rows, minlength=len(texts)), inverse[order], counts[order], vocab


def _occurrences(texts: Sequence[str], mode: TokenMode) -> tuple[np.ndarray, np.ndarray]:
    """(row, term key) of every term occurrence in these texts, in no particular order."""
    words, word_rows = _word_occurrences(texts)
    kept = words != 0
    words, word_rows = words[kept], word_rows[kept]
    first, second = words[:-1], words[1:]
    pair = (first > 0) & (second > 0) & (word_rows[:-1] == word_rows[1:]) & WORD_PAIRS
    # Integer overflow wraps the same way in every process: a stable key, like the words' own.
    with np.errstate(over="ignore"):
        mixed = (first[pair] * 1_000_003) ^ (second[pair] * 7_919)
    kept = words > 0
    keys = [words[kept], (mixed & (_PAIR_BASE - 1)) | _PAIR_BASE]
    rows = [word_rows[kept], word_rows[:-1][pair]]
    # Only texts with other than ASCII characters can hold CJK ones.
    cjk_rows = [row for row, text in enumerate(texts) if not text.isascii()]
    if mode != "jieba" and cjk_rows:
        # All CJK bigrams of those texts at once; "\x00" between texts is a separator like any non-CJK char.
        held = [texts[row] for row in cjk_rows]
        codes = np.frombuffer("\x00".join(held).encode("utf-32-le"), dtype=np.uint32)
        cjk = np.concatenate(([False], _CJK_TABLE[np.minimum(codes, len(_CJK_TABLE) - 1)], [False]))
        pairs = np.flatnonzero(cjk[1:-1] & cjk[2:])
        lone = np.flatnonzero(cjk[1:-1] & ~cjk[:-2] & ~cjk[2:])
        keys += [(codes[pairs].astype(np.int64) << 16) | codes[pairs + 1], codes[lone].astype(np.int64) << 16]
        starts = np.cumsum([0] + [len(t) + 1 for t in held[:-1]])
        held_rows = np.asarray(cjk_rows, dtype=np.int64)
        rows += [held_rows[np.searchsorted(starts, pairs, side="right") - 1],
                 held_rows[np.searchsorted(starts, lone, side="right") - 1]]
    if mode != "bigram":
        for row, text in enumerate(texts):
            cut = [w for w in jieba_cut(text) if not w.isascii()]
            keys.append(np.asarray([_JIEBA_BASE | (stable_hash(w) & (_JIEBA_BASE - 1)) for w in cut], dtype=np.int64))
            rows.append(np.full(len(cut), row, dtype=np.int64))
    return np.concatenate(rows), np.concatenate(keys)


def _word_occurrences(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(key, row) of every match of _WORD_RE in these texts, in order: words, 0 for no term, line breaks."""
    token_lists = [_tokens(t) for t in texts]
    counts = [len(tokens) for tokens in token_lists]
    words = np.fromiter(map(_token_keys.__getitem__, chain.from_iterable(token_lists)), dtype=np.int64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
    split = np.flatnonzero(words == _SPLIT)
    if not len(split):
        return words, rows
    # Tokens of other than one match (rare): their matches in their place.
    offsets = np.cumsum([0] + counts[:-1])
    parts = [[word_key(w) for w in _token_matches(token_lists[row][at - offsets[row]])]
             for at, row in zip(split.tolist(), rows[split].tolist(), strict=True)]
    each = np.ones(len(words), dtype=np.int64)
    each[split] = [len(p) for p in parts]
    starts = np.cumsum(each) - each
    words, rows = np.repeat(words, each), np.repeat(rows, each)
    for at, part in zip(starts[split].tolist(), parts, strict=True):
        words[at : at + len(part)] = part
    return words, rows


def term_counts(text: str, mode: TokenMode = "bigram") -> dict[int, int]:
    """term key -> count for one text (normalised here): `batch_keys` for a single text."""
    _rows, keys, counts = batch_keys([normalize(text)], mode)
    return dict(zip(keys.tolist(), counts.astype(np.int64).tolist(), strict=True))
