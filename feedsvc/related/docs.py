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

MAX_BODY_CHARS = 1200
TITLE_WEIGHT = 2


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


def to_doc(text: ItemText) -> Doc:
    """A stored item as a Doc (first_seen orders who came first)."""
    return Doc(text.id, text.title, plain_text(text.summary, text.content), text.first_seen.timestamp())


def doc_text(doc: Doc) -> str:
    """What is vectorised: the title TITLE_WEIGHT times, then the text, normalised.

    Line breaks separate the parts, so no bigram spans two of them.
    """
    return normalize("\n".join([doc.title] * TITLE_WEIGHT + [doc.text[:MAX_BODY_CHARS]]))
