"""Relatedness on real labelled text: the corpus on disk, the production rebuild on a SQLite store, and plain
TF-IDF (scikit-learn) over the same texts in the same run.

Corpus folder (default /work/corpus/related, or $FEEDSVC_RELATED_CORPUS): `manifest_<set>.json` files, each
{"repo", "commit", "sampling", "files": [{"local", "category", "path" or "row", "sha256"}]}, the `local` paths
relative to the folder. Each set is related as a collection of its own (its own store); a set named zh... is
Chinese. A file is a post or article as published: optional mail/news headers ("Subject: ..."), a blank line,
the body; without a Subject header the first line is the title. bench/related_manifest_<set>.json say where
each sample came from (20 Newsgroups: en, the Fudan corpus: zh, AG News: en-agnews); the texts themselves are
not in the repository: bench/related_real_corpus.py rebuilds the folder from git mirrors.
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
import scipy.sparse as sp
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.preprocessing import normalize

from feedsvc.related.docs import to_doc
from feedsvc.related.scoring import compute_related
from feedsvc.store.related import ItemText

T0 = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_CORPUS = "/work/corpus/related"  # where bench/related_real_corpus.py builds it
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
    """Every item's related list as `feedsvc related --rebuild` stores it, from a real SQLite store (one per set)."""
    out: dict[int, list[int]] = {}
    for lang in sorted({d.lang for d in docs}):
        out.update(_production_lists([d for d in docs if d.lang == lang], limit, min_score))
    return out


def _production_lists(docs: list[RealDoc], limit: int, min_score: float) -> dict[int, list[int]]:
    from feedsvc.config import parse_config
    from feedsvc.related.refresh import rebuild_related
    from feedsvc.store import Store
    from feedsvc.store.items import ItemRecord, store_items
    from feedsvc.store.related import related_items
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
            # What a reader is shown (`feedsvc related ID`, the item's related feed): a near-duplicate shows
            # its original's list.
            shown = {by_id[i]: [by_id[item.id] for item, _score in related_items(session, i, limit)] for i in ids}
        store.engine.dispose()
    return {i: v for i, v in shown.items() if v}


def engine_lists(docs: list[RealDoc], limit: int = 10, min_score: float = 0.08) -> dict[int, list[int]]:
    """The same pure computation without the store (for comparing settings quickly), per set."""
    out: dict[int, list[int]] = {}
    for lang in sorted({d.lang for d in docs}):
        items = [to_doc(ItemText(d.id, d.title, None, _html(d.body), T0 + timedelta(seconds=d.id), None, "real"))
                 for d in docs if d.lang == lang]
        lists, dups = compute_related(items, limit, min_score)
        shown = {i: [j for j, _ in v] for i, v in lists.items()}
        # A near-duplicate shows its original's list, as in production (store.related.related_items).
        shown.update((dup, [j for j in shown.get(original, []) if j != dup]) for dup, original in dups.items())
        out.update((i, v) for i, v in shown.items() if v)
    return out


def _vectorizer_args(lang: str) -> dict[str, object]:
    return {"analyzer": "char_wb", "ngram_range": (2, 2)} if lang.startswith("zh") else {}


def _top_lists(part: list[RealDoc], scores: np.ndarray, k: int, cut: float = 0.0) -> dict[int, list[int]]:
    """Each row's k best (score > 0), and with `cut` only those at least `cut` of the row's best."""
    np.fill_diagonal(scores, -np.inf)
    out: dict[int, list[int]] = {}
    for row, doc in enumerate(part):
        order = np.argsort(-scores[row], kind="stable")[:k]
        best = scores[row, order[0]] if len(order) else 0.0
        out[doc.id] = [part[c].id for c in order if scores[row, c] > 0 and scores[row, c] >= cut * best]
    return out


def _per_set(docs: list[RealDoc], lists: Callable[[list[RealDoc], str], dict[int, list[int]]]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for lang in sorted({d.lang for d in docs}):
        out.update(lists([d for d in docs if d.lang == lang], lang))
    return out


def tfidf_lists(docs: list[RealDoc], k: int = 10, cut: float = 0.0) -> dict[int, list[int]]:
    """Plain TF-IDF per set, scikit-learn: 1 + ln tf, smoothed idf, unit length, cosine; words for English,
    character bigrams (char_wb) for Chinese; title + whole body. `cut`: keep only candidates scoring at least
    that share of the item's best match (the chosen method's relative cut, for lists as short as its own)."""
    def lists(part: list[RealDoc], lang: str) -> dict[int, list[int]]:
        matrix = TfidfVectorizer(sublinear_tf=True, **_vectorizer_args(lang)).fit_transform(  # type: ignore[arg-type]
            [d.title + "\n" + d.body for d in part])
        return _top_lists(part, (matrix @ matrix.T).toarray(), k, cut)
    return _per_set(docs, lists)


def bm25_lists(docs: list[RealDoc], k: int = 10, k1: float = 1.2, b: float = 0.75) -> dict[int, list[int]]:
    """BM25 document vectors (Okapi tf saturation with length normalisation, idf ln(1 + (n - df + 0.5) /
    (df + 0.5))), unit length, cosine; same terms and texts as plain TF-IDF."""
    def lists(part: list[RealDoc], lang: str) -> dict[int, list[int]]:
        counts = sp.csr_matrix(CountVectorizer(**_vectorizer_args(lang)).fit_transform(  # type: ignore[arg-type]
            [d.title + "\n" + d.body for d in part]), dtype=np.float64)
        n = counts.shape[0]
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
        length = np.asarray(counts.sum(axis=1)).ravel()
        rows = np.repeat(np.arange(n), np.diff(counts.indptr))
        tf = counts.data
        counts.data = tf * (k1 + 1) / (tf + k1 * (1 - b + b * length[rows] / length.mean())) * idf[counts.indices]
        matrix = normalize(counts)
        return _top_lists(part, (matrix @ matrix.T).toarray(), k)
    return _per_set(docs, lists)


def lsa_lists(docs: list[RealDoc], dims: int = 100, k: int = 10) -> dict[int, list[int]]:
    """LSA: plain TF-IDF reduced to `dims` dimensions (TruncatedSVD), unit length, cosine."""
    def lists(part: list[RealDoc], lang: str) -> dict[int, list[int]]:
        matrix = TfidfVectorizer(sublinear_tf=True, **_vectorizer_args(lang)).fit_transform(  # type: ignore[arg-type]
            [d.title + "\n" + d.body for d in part])
        reduced = normalize(TruncatedSVD(min(dims, matrix.shape[1] - 1), random_state=0).fit_transform(matrix))
        return _top_lists(part, reduced @ reduced.T, k)
    return _per_set(docs, lists)


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


def shown(docs: list[RealDoc], lists: dict[int, list[int]], lang: str, k: int = 5) -> float:
    """Mean length of the first k items shown, over the items of `lang` that got a list (precision@k is
    over these: a method that shows fewer items is measured on fewer)."""
    sizes = [min(k, len(lists[d.id])) for d in docs if d.lang == lang and lists.get(d.id)]
    return float(np.mean(sizes)) if sizes else 0.0


def report(docs: list[RealDoc], variants: list[tuple[str, Callable[[], dict[int, list[int]]]]],
           echo: Callable[[str], None] = print) -> dict[str, dict[str, tuple[float, float]]]:
    langs = sorted({d.lang for d in docs})
    counts = ", ".join(f"{lang} {sum(d.lang == lang for d in docs)} items in "
                       f"{len({d.category for d in docs if d.lang == lang})} categories" for lang in langs)
    echo(f"real labelled text: {counts}")
    echo(f"{'method':<52}" + "".join(f"{'p@5 ' + lang:>{max(9, len(lang) + 5)}}{'answered':>10}"
                                     for lang in langs))
    results: dict[str, dict[str, tuple[float, float]]] = {}
    lengths: list[str] = []
    for name, make in variants:
        lists = make()
        results[name] = quality(docs, lists)
        if len(lengths) < 3:  # the chosen method and plain TF-IDF (uncut, cut): how long their lists are
            lengths.append(f"{name.split(' (')[0]} " + ", ".join(
                f"{lang} {shown(docs, lists, lang):.1f}" for lang in langs))
        echo(f"{name:<52}" + "".join(f"{results[name][lang][0]:{max(9, len(lang) + 5)}.3f}"
                                     f"{results[name][lang][1]:10.1%}" for lang in langs))
    echo("items shown of the first 5, mean over the items answered: " + "; ".join(lengths))
    return results
