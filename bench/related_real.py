"""Relatedness on real labelled text: the corpus on disk, the production rebuild on a SQLite store, and plain
TF-IDF (scikit-learn) over the same texts in the same run.

Corpus folder (default /work/corpus/related, or $FEEDSVC_RELATED_CORPUS): `manifest_<lang>.json` files, each
{"repo", "commit", "sampling", "files": [{"local", "category", "path", "sha256"}]}, the `local` paths relative to
the folder. A file is a post or article as published: optional mail/news headers ("Subject: ..."), a blank
line, the body; without a Subject header the first line is the title. bench/related_manifest_en.json says
where the English sample came from; the texts themselves are not in the repository.
"""

from __future__ import annotations

import html
import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from feedsvc.related.docs import to_doc
from feedsvc.related.scoring import compute_related
from feedsvc.store.related import ItemText

T0 = datetime(2026, 1, 1, tzinfo=UTC)
_SUBJECT_RE = re.compile(r"^Subject:[ \t]*(.*)$", re.M)
_HEADER_RE = re.compile(r"^[A-Za-z][\w-]*:")


@dataclass(frozen=True, slots=True)
class RealDoc:
    id: int
    lang: str
    category: str
    title: str
    body: str


def load_corpus(folder: Path) -> list[RealDoc]:
    """Every document of every manifest in the folder (ids in manifest order, from 1)."""
    docs: list[RealDoc] = []
    for manifest in sorted(folder.glob("manifest_*.json")):
        lang = manifest.stem.removeprefix("manifest_")
        for entry in json.loads(manifest.read_text())["files"]:
            raw = (folder / entry["local"]).read_bytes().decode("utf-8", "replace")
            head, sep, body = raw.partition("\n\n")
            if sep and all(_HEADER_RE.match(line) or line[:1] in " \t" for line in head.splitlines()):
                found = _SUBJECT_RE.search(head)
                title = found.group(1).strip() if found else ""
            else:
                title, _, body = raw.strip().partition("\n")
            title = re.sub(r"^(?:re:\s*)+", "", title, flags=re.I)
            docs.append(RealDoc(len(docs) + 1, lang, entry["category"], title, body.strip()))
    return docs


def _html(body: str) -> str:
    """The body as a cleaned article body: a paragraph per blank-line-separated block."""
    blocks = [b for b in re.split(r"\n\s*\n", body) if b.strip()]
    return "".join(f"<p>{html.escape(b)}</p>" for b in blocks)


def production_lists(docs: list[RealDoc], limit: int = 10, min_score: float = 0.08) -> dict[int, list[int]]:
    """Every item's related list as `feedsvc related --rebuild` stores it, from a real SQLite store."""
    from feedsvc.config import parse_config
    from feedsvc.related.refresh import rebuild_related
    from feedsvc.store import Store
    from feedsvc.store.items import ItemRecord, store_items
    from feedsvc.store.related import computed_links
    from feedsvc.store.sources import sync_sources

    with tempfile.TemporaryDirectory() as folder:
        cfg = parse_config({"database": {"url": f"sqlite:///{folder}/real.db"},
                            "related": {"limit": limit, "min_score": min_score},
                            "sources": [{"id": "real", "title": "Real", "start_urls": ["http://127.0.0.1/"],
                                         "listings": [{"id": "latest", "heading": "Latest"}]}]})
        store = Store.open(cfg.database.url)
        with store.session_factory() as session:
            sync_sources(session, cfg.sources, T0)
            records = [ItemRecord(source_id="real", url=f"http://real.test/{d.id}", title=d.title,
                                  content=_html(d.body), is_article=True) for d in docs]
            ids = store_items(session, records, None, T0).new_item_ids
            session.commit()
        rebuild_related(store.session_factory, cfg, T0 + timedelta(hours=1))
        with store.session_factory() as session:
            by_id = dict(zip(ids, (d.id for d in docs), strict=True))
            stored = computed_links(session, ids)
        store.engine.dispose()
    return {by_id[i]: [by_id[j] for j, _ in v] for i, v in stored.items() if v}


def engine_lists(docs: list[RealDoc], limit: int = 10, min_score: float = 0.08) -> dict[int, list[int]]:
    """The same pure computation without the store (for comparing settings quickly)."""
    items = [to_doc(ItemText(d.id, d.title, None, _html(d.body), T0 + timedelta(seconds=d.id), None, "real"))
             for d in docs]
    lists, _dups = compute_related(items, limit, min_score)
    return {i: [j for j, _ in v] for i, v in lists.items() if v}


def tfidf_lists(docs: list[RealDoc], k: int = 10) -> dict[int, list[int]]:
    """Plain TF-IDF per language, scikit-learn: 1 + ln tf, smoothed idf, unit length, cosine; words for
    English, character bigrams (char_wb) for Chinese; title + whole body."""
    out: dict[int, list[int]] = {}
    for lang in sorted({d.lang for d in docs}):
        part = [d for d in docs if d.lang == lang]
        vectorizer = (TfidfVectorizer(sublinear_tf=True, analyzer="char_wb", ngram_range=(2, 2)) if lang == "zh"
                      else TfidfVectorizer(sublinear_tf=True))
        matrix = vectorizer.fit_transform([d.title + "\n" + d.body for d in part])
        scores = (matrix @ matrix.T).toarray()
        np.fill_diagonal(scores, -1.0)
        for row, doc in enumerate(part):
            order = np.argsort(-scores[row], kind="stable")[:k]
            out[doc.id] = [part[c].id for c in order if scores[row, c] > 0]
    return out


def quality(docs: list[RealDoc], lists: dict[int, list[int]], k: int = 5) -> dict[str, tuple[float, float]]:
    """Per language: (precision@k over the items that got a list, share of items that got one).
    precision@k = share of the first k items shown (k, or fewer when the list is shorter) in the same category."""
    label = {d.id: d.category for d in docs}
    out: dict[str, tuple[float, float]] = {}
    for lang in sorted({d.lang for d in docs}):
        part = [d for d in docs if d.lang == lang]
        answered = [d for d in part if lists.get(d.id)]
        hits = [sum(label[j] == d.category for j in lists[d.id][:k]) / len(lists[d.id][:k]) for d in answered]
        out[lang] = (float(np.mean(hits)) if hits else 0.0, len(answered) / len(part))
    return out


def report(docs: list[RealDoc], variants: list[tuple[str, Callable[[], dict[int, list[int]]]]],
           echo: Callable[[str], None] = print) -> dict[str, dict[str, tuple[float, float]]]:
    langs = sorted({d.lang for d in docs})
    counts = ", ".join(f"{lang} {sum(d.lang == lang for d in docs)} items in "
                       f"{len({d.category for d in docs if d.lang == lang})} categories" for lang in langs)
    echo(f"real labelled text: {counts}")
    echo(f"{'method':<52}" + "".join(f"{'p@5 ' + lang:>9}{'answered':>10}" for lang in langs))
    results: dict[str, dict[str, tuple[float, float]]] = {}
    for name, make in variants:
        results[name] = quality(docs, make())
        echo(f"{name:<52}" + "".join(f"{results[name][lang][0]:9.3f}{results[name][lang][1]:10.1%}"
                                     for lang in langs))
    return results
