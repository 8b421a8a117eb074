"""Topic feeds: which new items match an admin's `[[topics]]` entry, and how well.

An item matches by keywords (a keyword in the title scores 1.0, in the text 0.6, each further keyword
found +0.1) or by resemblance to the topic's seed pages (the best TF-IDF cosine to any seed); its score is
the better of the two, and it is listed when that reaches the topic's threshold (`threshold`, else
`[related] topic_threshold`). Only the newest `RECENT_WINDOW` items are considered: a topic feed shows new
items, and this keeps a feed build well under a second on a large database. SQL stays in feedsvc/store/;
this is the feed side: it imports only pure relatedness code, never the crawl-time refresh.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from feedsvc.config import AppConfig, TopicConfig
from feedsvc.related.boilerplate import remove_boilerplate
from feedsvc.related.docs import Doc, to_doc
from feedsvc.related.index import RelatedIndex
from feedsvc.related.tokens import normalize
from feedsvc.store.items import item_ids_by_url
from feedsvc.store.related import item_texts, recent_item_texts

RECENT_WINDOW = 3000
TITLE_MATCH = 1.0
TEXT_MATCH = 0.6
EXTRA_KEYWORD = 0.1


class Keyword:
    """A topic keyword, normalised. Chinese keywords match anywhere; ASCII ones only at a word start
    ('ai' must not match 'said'). A plain substring test runs first: most texts lack most keywords."""

    def __init__(self, keyword: str) -> None:
        self.key = normalize(keyword).strip()
        self.pattern = re.compile(r"(?<![a-z0-9])" + re.escape(self.key)) if self.key.isascii() else None

    def found_in(self, text: str) -> bool:
        return self.key in text and (self.pattern is None or self.pattern.search(text) is not None)


def keyword_score(doc: Doc, keywords: Sequence[Keyword]) -> float:
    title, text = normalize(doc.title), normalize(doc.text)
    best, found = 0.0, 0
    for keyword in keywords:
        if keyword.found_in(title):
            best, found = max(best, TITLE_MATCH), found + 1
        elif keyword.found_in(text):
            best, found = max(best, TEXT_MATCH), found + 1
    return min(1.0, best + EXTRA_KEYWORD * max(0, found - 1)) if found else 0.0


def score_topic(keywords: Sequence[str], seeds: Sequence[Doc], docs: Sequence[Doc]) -> dict[int, float]:
    """Pure: each doc's topic score (0 when it does not match at all). Seeds score against each other too."""
    matchers = [Keyword(k) for k in keywords if normalize(k).strip()]
    scores: dict[int, float] = {}
    for doc in docs:
        value = keyword_score(doc, matchers) if matchers else 0.0
        if value:
            scores[doc.id] = value
    if seeds and docs:
        index = RelatedIndex(docs)
        for seed in seeds:
            found, dups = index.query(seed, limit=len(docs), min_score=0.0)
            for hit in [*found, *dups]:
                if hit.score > scores.get(hit.id, 0.0):
                    scores[hit.id] = hit.score
    return scores


def topic_items(session: Session, topic: TopicConfig, cfg: AppConfig, limit: int) -> list[tuple[int, float]]:
    """(item id, score) of new items matching the topic, best first (ties: newest first); seed pages themselves
    are left out. Ids, not rows: the feed builder reads the items it shows."""
    threshold = topic.threshold if topic.threshold is not None else cfg.related.topic_threshold
    seed_ids = set(item_ids_by_url(session, topic.seed_urls).values()) if topic.seed_urls else set()
    seeds = [to_doc(t) for t in item_texts(session, sorted(seed_ids))]
    window = [to_doc(t) for t in recent_item_texts(session, RECENT_WINDOW) if t.id not in seed_ids]
    # A keyword in a site's footer or notice says nothing about the page: match article text only.
    remove_boilerplate(window).strip_docs(seeds)
    scores = score_topic(topic.keywords, seeds, window)
    order = {doc.id: doc.order for doc in window}
    ranked = sorted((i for i, s in scores.items() if s >= threshold and s > 0),
                    key=lambda i: (-scores[i], -order.get(i, 0.0), -i))[:limit]
    return [(i, round(scores[i], 6)) for i in ranked]
