"""feedsvc/related/index.py: queries and all-pairs neighbours over the labelled corpus."""

from __future__ import annotations

from typing import Any

import pytest
import scipy.sparse as sp

from feedsvc.related import index as index_module
from feedsvc.related import ranking
from feedsvc.related.docs import Doc
from feedsvc.related.index import RelatedIndex
from feedsvc.related.scoring import compute_related
from tests.support.related_corpus import build_corpus

CORPUS = build_corpus(sentences=3, boilerplate=2)


def test_new_edition_with_same_template_is_related_not_duplicate() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    for first, second in CORPUS.not_duplicates:
        rel, dups = index.query(docs[second - 1], limit=5)
        assert first not in {d.id for d in dups}
        # The previous edition comes first or right after the original story (the same text under the title
        # without an edition: word pairs such as "2024 edition" make the editions' titles differ more).
        close = {r.id: r.score for r in rel[:2]}
        assert first in close and close[first] > 0.8


def test_new_item_query_finds_related_and_its_duplicate() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs[:-1])
    target = docs[0]
    copy = Doc(10_000, target.title + "（转载）", target.text)
    rel, dups = index.query(copy, limit=5)
    assert [d.id for d in dups] == [target.id]
    assert target.id not in {r.id for r in rel} and len(rel) == 5
    label = {it.doc.id: it.category for it in CORPUS.items}
    assert sum(label[r.id] == label[target.id] for r in rel) >= 4


def test_neighbours_of_indexed_documents_match_the_rebuild() -> None:
    """A crawl's new items are related from their index rows in blocks: the rebuild's answers for them."""
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    everything = {doc.id: (rel, dups) for doc, rel, dups in index.neighbours(limit=8, min_score=0.05)}
    positions = list(range(0, len(docs), 3))
    batched = list(index.neighbours_of(positions, limit=8, min_score=0.05, block=7))
    assert [doc.id for doc, _, _ in batched] == [docs[p].id for p in positions]
    for doc, rel, dups in batched:
        assert (rel, dups) == everything[doc.id]
        # Re-tokenising the document (`query`) finds nearly the same list: only ties at the 64th
        # signature term may be cut differently.
        again, _ = index.query(doc, limit=8, min_score=0.05)
        assert len({s.id for s in again} & {s.id for s in rel}) >= len(rel) - 2
    assert any(dups for _, _, dups in batched) and all(rel for _, rel, _ in batched)


def test_query_skips_unseen_terms_and_an_empty_index_answers_nothing() -> None:
    index = RelatedIndex([Doc(1, "防汛工作", "水库巡查"), Doc(2, "期末考试", "考风考纪")])
    rel, dups = index.query(Doc(3, "防汛 unknownword", "水库"), limit=5)
    assert [s.id for s in rel] == [1] and dups == []
    assert RelatedIndex([]).query(Doc(1, "x"), limit=5) == ([], [])


def _weak_docs() -> list[Doc]:
    """Three long texts about different things that share one word each way: every match is weak."""
    return [Doc(1, "Rowing club regatta", "The rowing club held its spring regatta on the river; eights and "
                "sculls raced in wind and rain, coxswains shouting over oars. Library volunteers cheered."),
            Doc(2, "Library opening hours", "The city library extends its opening hours; readers may borrow "
                "novels, atlases and periodicals until nine, and the reading room gets new lamps."),
            Doc(3, "Orchard harvest", "Apple pickers finished the orchard harvest early; cider presses ran "
                "all week and the growers' cooperative sold crates at the market. Readers wrote in.")]


def test_an_item_whose_best_match_is_weak_still_gets_its_closest_items() -> None:
    index = RelatedIndex(_weak_docs())
    lists = {doc.id: [s.id for s in rel] for doc, rel, _dups in index.neighbours(limit=5, min_score=0.08)}
    scores = {doc.id: [s.score for s in rel] for doc, rel, _dups in index.neighbours(limit=5, min_score=0.0)}
    assert all(0 < max(v) < 0.08 for v in scores.values()), scores  # all below min_score...
    assert all(lists.values()), lists  # ...and still answered: the cut follows each item's own best match
    assert lists[1] == [2] and 1 in lists[2]  # the shared word "library" is what links them


def test_a_strong_match_keeps_weak_ones_out() -> None:
    docs = [it.doc for it in CORPUS.items]
    index = RelatedIndex(docs)
    for doc, rel, _dups in index.neighbours(limit=10, min_score=0.08):
        if rel and rel[0].score >= 0.16:  # min_score applies: half the best is above it
            assert min(s.score for s in rel) > 0.08, (doc.id, rel)


def test_whole_collection_signatures_rank_shared_terms_and_post_the_heaviest() -> None:
    """A term one item holds takes no ranking slot (it matches nothing) but is posted, so a later item with it
    finds the item; a word pair one item holds is dropped from a rebuild's terms altogether."""
    from feedsvc.related.tokens import term_counts, word_key

    docs = [Doc(1, "Harbour ferry timetable", "The harbour ferry timetable changes; zanzibar crossings resume."),
            Doc(2, "Harbour ferry fares", "Ferry fares rise at the harbour from Monday."),
            Doc(3, "Museum opening", "The museum opens a new wing of paintings.")]
    index = RelatedIndex(docs, shared_slots=True)
    keys = set(index.keys.tolist())
    rare, shared = word_key("zanzibar"), word_key("harbour")
    ranked = set(index.signature(0)[0].tolist())
    posted = set(index.keys[index.posted[0].indices].tolist())
    assert shared in ranked and rare not in ranked and rare in posted
    # Written a slice of terms at a time: the same postings as the whole matrix, each term's rows in order.
    by_term = sp.vstack([index.posted_terms(lo, min(lo + 2, len(index.keys))) for lo in range(0, len(index.keys), 2)])
    assert (sp.csr_matrix(by_term) != sp.csr_matrix(index.posted.T)).nnz == 0
    (harbour_ferry,) = set(term_counts("harbour ferry")) - {word_key("harbour"), word_key("ferry")}
    (zanzibar_crossings,) = set(term_counts("zanzibar crossings")) - {rare, word_key("crossings")}
    assert harbour_ferry in keys and zanzibar_crossings not in keys
    # Scaled by the length of the whole vector (one-off terms included): below 1 against itself.
    own = float(index.signature(0)[1].astype(float) @ index.signature(0)[1].astype(float))
    assert 0 < own < 1


def test_top_n_products_give_the_full_products_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each document's few best candidates (sparse_dot_topn) settle its list; a document with more
    near-duplicate-strength candidates than the margin is ranked again from its full product: the lists are
    those of the full product either way."""
    docs = [it.doc for it in CORPUS.items]
    base = docs[0]
    copies = [Doc(50_000 + k, f"{base.title} {k}", base.text, order=1e6 + k) for k in range(index_module.SLACK * 4)]
    collection = docs + copies
    unsettled: list[int] = []
    rank = ranking.rank

    def counted(*args: Any) -> ranking.Ranked:
        ranked = rank(*args)
        unsettled.append(int((~ranked.exact).sum()))
        return ranked

    monkeypatch.setattr(ranking, "rank", counted)
    found = [(d.id, rel, dups) for d, rel, dups in RelatedIndex(collection).neighbours(limit=15, min_score=0.08,
                                                                                       block=16)]
    assert sum(unsettled) >= len(copies)  # the copies' lists came from their full products
    monkeypatch.setattr(index_module, "TOP_MARGIN", 10 * len(collection))  # every candidate kept: the reference
    reference = [(d.id, rel, dups) for d, rel, dups in RelatedIndex(collection).neighbours(limit=15, min_score=0.08)]
    assert found == reference


@pytest.mark.parametrize(("limit", "min_score"), [(3, 0.08), (15, 0.08), (15, 0.0)])
def test_a_block_of_lists_made_at_once_equals_the_lists_made_one_by_one(limit: int, min_score: float) -> None:
    """ranking.block_lists (the rebuild) against ranking.lists (the refresh), entry by entry: ids, scores,
    near-duplicates, on the labelled corpus with its reposts and near-duplicate editions, and 40 copies of one
    document (lists full of near-duplicate-strength candidates)."""
    docs = [it.doc for it in CORPUS.items]
    copies = [Doc(50_000 + k, f"{docs[0].title} {k}", docs[0].text, order=1e6 + k) for k in range(40)]
    index = RelatedIndex(docs + copies)
    looked_at = 0
    for rows, ranked in index.ranked_blocks(range(len(index)), limit, min_score, block=37):
        block = [index.docs[r] for r in rows.tolist()]
        made = ranking.block_lists(index.docs, block, ranked, limit, min_score, index_module.RELATIVE_CUT)
        looked_at += int(ranked.maybe.any(axis=1).sum())
        start = 0
        for k, doc in enumerate(block):
            related, duplicates = ranking.lists(index.docs, doc, ranked, k, limit, min_score, index_module.RELATIVE_CUT)
            stop = start + int(made.counts[k])
            assert made.ids[start:stop].tolist() == [s.id for s in related]
            assert made.scores[start:stop].tolist() == [s.score for s in related]
            assert made.duplicates.get(doc.id, []) == duplicates
            start = stop
        assert start == len(made.ids) == len(made.scores)
    assert looked_at > len(copies)  # both kinds of entries were compared


def test_a_block_of_documents_without_any_term_gets_empty_lists() -> None:
    """Blank titles and texts make a block whose candidates are an empty matrix (no column at all)."""
    blank = [Doc(k, "", "") for k in range(1, 5)]
    lists, duplicates = compute_related(blank + [Doc(9, "hockey game", "the goalie stopped every shot")], 10, 0.08)
    assert dict(lists) == {k: [] for k in (1, 2, 3, 4, 9)} and duplicates == {}
    lists, _ = compute_related(blank, 10, 0.08)
    assert dict(lists) == {k: [] for k in (1, 2, 3, 4)}
