"""Site boilerplate in item texts: sentences and lines that recur verbatim across many documents (footers,
notices, navigation text, share bars, author boxes), learned from the documents being related and removed
before they are vectorised. Pure (no I/O).

Why here and not in the crawler's article cleaning (crawler/article.py): boilerplate is defined by
repetition across a site's pages, and only relatedness sees a collection (the rebuild has every item, a
post-crawl refresh the crawl's own items plus the newest BOILERPLATE_SAMPLE of each of their sites); the
crawler sees one page at a time and has no store access by design. The crawler keeps its structural cleaning (nav/footer/aside tags, furniture
classes); what that misses inside an article's body is caught here. Feeds keep showing the body as the site
wrote it: only what relatedness reads changes. Measured in bench/related_quality.py (real-page corpus).
"""

from __future__ import annotations

import math
import re
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from feedsvc.related.docs import Doc

# A segment (a line, or a sentence of a line) is boilerplate of a site when it is found in at least
# max(MIN_DOCS, MIN_SHARE x the site's documents) of that site's documents. A footer or a notice recurs on
# every page, a section's notice on a good share of them; an article's sentences recur verbatim only in a
# few reposts and quotes, and a handful of shared stock phrases are left to idf.
MIN_DOCS = 5
MIN_SHARE = 0.1
# Segments this short ("首页", "Share") are left to idf: they are too short to say much either way.
MIN_SEGMENT_CHARS = 4
# A sentence ends after these characters, '.' only before a space. Found with finditer, not split on
# lookbehinds: those are tried at every character, and took twice as long (boilerplate learning of 100,000
# generated items 2.8 -> 1.2 CPU-s, the same segments).
_SENTENCE_END = re.compile(r"[。！？；!?;]|\.(?=\s)")


def _line_segments(line: str) -> list[str]:
    out: list[str] = []
    start = 0
    for end in _SENTENCE_END.finditer(line):
        part = line[start : end.end()].strip()
        if part:
            out.append(part)
        start = end.end()
    part = line[start:].strip()
    if part:
        out.append(part)
    return out


def segments(text: str) -> list[str]:
    """A text's lines, split after sentence ends; stripped, empty ones left out."""
    out: list[str] = []
    for line in text.split("\n"):
        out.extend(_line_segments(line))
    return out


@dataclass(frozen=True, slots=True)
class Boilerplate:
    """The boilerplate segments of each site of a collection (what `learn` found): source -> the segments'
    hashes (Python's str hash: salted per process, so a Boilerplate is used where it was learned)."""

    found: dict[str, frozenset[int]]

    @classmethod
    def learn(cls, docs: Iterable[Doc]) -> Boilerplate:
        """Per site, the segments found in enough of its documents (a document counts a segment once).

        Counted as 8-byte hashes in arrays: counting the segments themselves held a copy of nearly every
        text (most segments occur once), ~1.3 GB more at 1,000,000 generated items (bench/README.md)."""
        seen: dict[str, array[int]] = {}
        sizes: Counter[str] = Counter()
        for doc in docs:
            sizes[doc.source] += 1
            hashes = seen.get(doc.source)
            if hashes is None:
                hashes = seen[doc.source] = array("q")
            hashes.extend({hash(s) for s in segments(doc.text) if len(s) >= MIN_SEGMENT_CHARS})
        found = {}
        for source, hashes in seen.items():
            least = max(MIN_DOCS, math.ceil(MIN_SHARE * sizes[source]))
            values, counts = np.unique(np.frombuffer(hashes, dtype=np.int64), return_counts=True)
            common = frozenset(values[counts >= least].tolist())
            if common:
                found[source] = common
        return cls(found)

    def strip(self, text: str, source: str) -> str:
        """The text without its site's boilerplate segments (lines kept apart, so no term spans a removed part)."""
        found = self.found.get(source)
        if not found:
            return text
        lines = []
        for line in text.split("\n"):
            parts = _line_segments(line)
            kept = [s for s in parts if hash(s) not in found]
            if len(kept) == len(parts):
                lines.append(line)
            elif kept:
                lines.append(" ".join(kept))
        return "\n".join(lines)

    def strip_docs(self, docs: list[Doc]) -> None:
        """Remove boilerplate from these documents' texts, in place (a long list is not copied)."""
        if not self.found:
            return
        for k, doc in enumerate(docs):
            text = self.strip(doc.text, doc.source)
            if text != doc.text:
                docs[k] = Doc(doc.id, doc.title, text, doc.order, doc.source)


def remove_boilerplate(docs: list[Doc]) -> Boilerplate:
    """Learn the boilerplate of these documents and remove it from each, in place; returns what was found."""
    found = Boilerplate.learn(docs)
    found.strip_docs(docs)
    return found
