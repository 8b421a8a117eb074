"""feedsvc/related/scoring.py: weak-signal boosts, the stored list of an item, the whole-collection computation."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from feedsvc.related import index as related_index
from feedsvc.related.docs import Doc, Scored
from feedsvc.related.scoring import (
    COAPPEARANCE_BOOST,
    COAPPEARANCE_MAX,
    SITE_LINK_BOOST,
    RelatedLists,
    boosts,
    compute_related,
    related_list,
)

TARGET = Doc(1, "防汛工作部署", "水库堤防巡查，防汛物资储备，山洪预警。")
DOCS = [
    TARGET,
    Doc(2, "防汛工作部署（转载）", TARGET.text, 2.0),  # a repost: a near-duplicate
    Doc(3, "汛期防汛值班", "防汛值班，水库巡查，山洪灾害预警发布。", 3.0),
    Doc(4, "防汛抢险队伍", "抢险队伍集结，堤防巡查，防汛物资。", 4.0),
    Doc(5, "期末考试安排", "期末考试严肃考风考纪。", 5.0),
]


def test_boosts_for_site_links_either_way_and_capped_coappearance() -> None:
    pairs = {(1, 3), (4, 1)}
    counts = Counter({(1, 3): 1, (1, 5): 10})
    got = boosts(1, [3, 4, 5, 6], pairs, counts)
    assert got == {3: SITE_LINK_BOOST + COAPPEARANCE_BOOST / COAPPEARANCE_MAX, 4: SITE_LINK_BOOST,
                   5: COAPPEARANCE_BOOST}
    assert boosts(1, [3], set(), Counter()) == {}


def test_related_list_drops_itself_and_hidden_caps_scores_and_breaks_ties_by_id() -> None:
    found = [Scored(1, 1.0), Scored(9, 0.99), Scored(8, 0.5), Scored(7, 0.5), Scored(6, 0.4), Scored(2, 0.3)]
    assert related_list(1, found, 3, {6}, {(1, 9)}, Counter()) == [(9, 1.0), (7, 0.5), (8, 0.5)]


def test_duplicates_are_hidden_and_boosts_only_reorder_similar_items() -> None:
    plain, dup_of = compute_related(DOCS, limit=5, min_score=0.0)
    assert dup_of == {2: 1} and 2 not in plain
    assert [i for i, _ in plain[1]][:2] in ([3, 4], [4, 3]) and {1, 2, 5}.isdisjoint(i for i, _ in plain[1])
    boosted, _ = compute_related(DOCS, limit=5, min_score=0.0, site_pairs={(1, 4), (1, 5)},
                                 coappear=Counter({(1, 4): 3}))
    # The site's link and co-listing move 4 first; 5 is unrelated in content, so no boost makes it related.
    assert boosted[1][0][0] == 4 and 5 not in {i for i, _ in boosted[1]}


@pytest.mark.parametrize("one_pass_items", [0, 1000], ids=["tokenised twice", "tokenised once"])
def test_texts_let_go_and_reloaded_give_the_same_lists_and_marks(monkeypatch: pytest.MonkeyPatch,
                                                                 one_pass_items: int) -> None:
    # Batches of 2 merged 2 at a time: several windows of pass 1 and texts let go window by window.
    monkeypatch.setattr(related_index, "BATCH", 2)
    monkeypatch.setattr(related_index, "MERGE", 2)
    monkeypatch.setattr(related_index, "ONE_PASS_ITEMS", one_pass_items)
    docs = [*DOCS, Doc(6, "防汛工作部署会议", "", 6.0), Doc(7, "防汛工作部署会议", "", 7.0)]  # title-only twins
    kept_lists, kept_marks = compute_related(list(docs), limit=5, min_score=0.0)
    by_id = {d.id: d for d in docs}
    asked: list[int] = []

    def reload(ids: list[int]) -> list[Doc]:
        asked.extend(ids)
        return [by_id[i] for i in ids]

    held = list(docs)
    lists, marks = compute_related(held, limit=5, min_score=0.0, reload=reload)
    assert marks == kept_marks == {2: 1, 7: 6}
    assert dict(lists.items()) == dict(kept_lists.items())
    assert all(d.title == "" for d in held)  # placeholders: only what the duplicate rules read was read again
    assert {1, 2, 6, 7} <= set(asked) and 5 not in asked


def test_lists_as_columns_are_the_lists_one_by_one() -> None:
    """What a rebuild writes (columns made by numpy) is each item's `related_list`: self, hidden and left-out
    items dropped, boosts applied, ties by id, scores rounded and capped, cut to the limit, ranks 1.. per item."""
    rng = np.random.default_rng(7)
    ids = rng.permutation(np.arange(1, 301))  # documents in an order other than their ids
    lengths = rng.integers(0, 16, len(ids))
    found_ids = rng.integers(1, 305, int(lengths.sum()))  # ids not stored, and the item itself, among them
    found_scores = rng.choice([0.25, 0.5, 0.1234565, 0.1234575, 0.999999, 1.03], len(found_ids))  # ties
    hidden, gone = {5, 17, 40}, {8, 41}
    pairs, coappear = {(3, 9), (12, 3), (100, 101)}, Counter({(7, 200): 2, (8, 9): 1})
    lists = RelatedLists(ids, np.concatenate(([0], np.cumsum(lengths))), found_ids, found_scores, 4, hidden,
                         pairs, coappear)
    written: dict[int, list[tuple[int, float]]] = {}
    for part in lists.columns(leave_out=gone, items=37):  # parts of 37 items, the last one shorter
        for from_id, to_id, score, rank in zip(*(c.tolist() for c in part), strict=True):
            assert from_id not in written or rank > 1  # an item's list is never split between parts
            written.setdefault(from_id, []).append((to_id, score))
            assert rank == len(written[from_id])
    assert list(written) == sorted(written)
    one_by_one = RelatedLists(ids, np.concatenate(([0], np.cumsum(lengths))), found_ids, found_scores, 4,
                              hidden | gone, pairs, coappear)
    expected = {i: one_by_one[i] for i in sorted(ids.tolist()) if i not in gone and one_by_one[i]}
    assert written == expected
    assert any(i in written for i in (3, 7, 9, 12)) and len(written) > 200
