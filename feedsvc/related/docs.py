"""Documents as relatedness sees them: `Doc` (title + plain body text), `Scored`, and how an item becomes one.

Pure apart from the `ItemText` row shape it reads (feedsvc/store/related.py). Only the start of a body says
what a document is about; capping it bounds the cost of long pages.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import NamedTuple

from feedsvc.related.tokens import normalize
from feedsvc.store.related import ItemText

# What is read of a body, in UTF-8 bytes: 1,200 Chinese characters or 3,600 ASCII ones. A byte budget
# gives English (about three times as many characters per term as Chinese bigrams) a fair share, at about
# the same memory per document; on long bodies a 1,200-character cap read too little English
# (bench/related_quality.py, real-page corpus).
MAX_BODY_BYTES = 3600
MAX_BODY_CHARS = MAX_BODY_BYTES  # an upper bound in characters (all ASCII)
TITLE_WEIGHT = 2


@dataclass(frozen=True, slots=True)
class Doc:
    """One item as the scorer sees it. `order` breaks ties on who came first (first_seen, then id); `source`
    is the site it came from (boilerplate is learned per site)."""

    id: int
    title: str
    text: str = ""
    order: float = 0.0
    source: str = ""

    def __reduce__(self) -> tuple[type[Doc], tuple[int, str, str, float, str]]:
        # Pickled as a constructor call: a rebuild gets every Doc from its worker processes, and unpickling
        # a frozen slots dataclass field by field took three times as long (1.4 CPU-s for 100,000).
        return (Doc, (self.id, self.title, self.text, self.order, self.source))


# The text of a placeholder for a document that has text: not empty, so code that asks only whether a document
# has text gets the right answer; never read as text (a rebuild reloads a document before the near-duplicate
# rules compare it: feedsvc/related/scoring.py).
HELD_ELSEWHERE = "\x00"


def placeholder(doc: Doc) -> Doc:
    """The document without its title and text (id, order and site kept; the text says only whether it had one):
    what a rebuild keeps of a document once it is tokenised."""
    return Doc(doc.id, "", HELD_ELSEWHERE if doc.text.strip() else "", doc.order, doc.source)


class Scored(NamedTuple):
    """A candidate and its score (cosine in 0..1, plus any weak-signal bonus). A tuple: made by the million."""

    id: int
    score: float


# Block elements end a line: boilerplate is found line by line (feedsvc/related/boilerplate.py), and no
# bigram spans two paragraphs. Other tags separate like a space.
_BLOCK_RE = re.compile(r"<(?:/?(?:p|div|br|li|ul|ol|h[1-6]|tr|td|th|table|section|article|header|footer|nav|"
                       r"aside|blockquote|pre|dd|dt|dl|figure|figcaption|hr)\b)[^>]*>", re.IGNORECASE)
_TAG_RE = re.compile(r"<[^>]*>")


def _lines(part: str) -> str:
    """Plain text of an HTML fragment: one line per block, spaces collapsed, no blank lines."""
    if "<" in part or "&" in part:
        part = html.unescape(_TAG_RE.sub(" ", _BLOCK_RE.sub("\n", part)))
    # str.split() splits at what the regular expressions' \s matches (str.isspace), in C: a rebuild's 100,000 items
    # took 4.0 CPU-s to become Docs with two whitespace substitutions, 1.7 s so.
    return "\n".join(filter(None, (" ".join(line.split()) for line in part.split("\n"))))


def cap(text: str, limit: int | None = None) -> str:
    """The longest start of `text` within `limit` UTF-8 bytes (default MAX_BODY_BYTES)."""
    limit = MAX_BODY_BYTES if limit is None else limit
    if len(text) * 4 <= limit:
        return text
    encoded = text.encode()
    return text if len(encoded) <= limit else encoded[:limit].decode("utf-8", "ignore")


def item_text(*parts: str | None) -> str:
    """Summary and (HTML) body as relatedness reads them: plain text with a line per block, tags and entities
    removed, capped at MAX_BODY_BYTES. A part that repeats the start of the one before (a summary is the
    body's first lines) replaces it. Not feedsvc.text.plain_text: that gives one line (for feed summaries),
    which would glue a site's footer to an article's last paragraph, where boilerplate removal needs lines."""
    out: list[str] = []
    flat: list[str] = []  # the same texts on one line, for comparing
    size = 0
    for part in parts:
        if not part:
            continue
        text = _lines(part)
        if not text:
            continue
        line = " ".join(text.split())
        if out and line.startswith(flat[-1][:60]):  # the summary is the body's first lines: keep the body
            size += len(text) - len(out[-1])
            out[-1], flat[-1] = text, line
        elif not out or line[:60] not in flat[-1]:
            out.append(text)
            flat.append(line)
            size += len(text)
        if size >= MAX_BODY_CHARS:
            break
    return cap("\n".join(out))


def to_doc(text: ItemText) -> Doc:
    """A stored item as a Doc (first_seen orders who came first)."""
    return Doc(text.id, text.title, item_text(text.summary, text.content), text.first_seen.timestamp(),
               text.source_id)


def doc_text(doc: Doc) -> str:
    """What is vectorised: the title TITLE_WEIGHT times, then the text, normalised.

    Line breaks separate the parts, so no bigram spans two of them.
    """
    return normalize("\n".join([doc.title] * TITLE_WEIGHT + [cap(doc.text)]))
