"""feedsvc/related/duplicates.py: the near-duplicate rules and which item of a group is the original."""

from __future__ import annotations

import pytest

from feedsvc.related.docs import Doc, Scored
from feedsvc.related.duplicates import assign_duplicates, is_near_duplicate, title_key


@pytest.mark.parametrize(
    ("a", "b", "cosine", "expected"),
    [
        (("支部党员大会会议记录", "正文"), ("支部党员大会会议记录（转载）", "正文"), 0.97, True),
        (("支部党员大会会议记录", "正文"), ("党风廉政建设责任书", "正文"), 0.99, False),  # template body
        (("2023年工作总结", "正文"), ("2024年工作总结", "正文"), 0.99, False),  # another edition
        (("Budget deficit widens", "text"), ("Budget deficit widens!", "text"), 0.85, True),  # rare new word
        (("Budget deficit widens", "text"), ("Budget deficit widens!", "text"), 0.5, False),  # pre-filter
        (("Budget deficit widens", "Taxes rose and spending fell sharply this year."),
         ("Budget deficit widens", "Spending rose and taxes fell this spring, officials said."), 0.9, False),
        (("关于防汛工作的通知", ""), ("关于防汛工作的通知", ""), 1.0, True),  # title only, identical
        (("通知", ""), ("通知", ""), 1.0, False),  # title only, too short to tell
    ],
)
def test_near_duplicate_table(a: tuple[str, str], b: tuple[str, str], cosine: float, expected: bool) -> None:
    assert is_near_duplicate(Doc(1, *a), Doc(2, *b), cosine) is expected


def test_title_key_ignores_spacing_punctuation_and_width() -> None:
    assert title_key("【通知】 Ｔａｘ  Reform!") == title_key("通知tax reform") == "通知taxreform"


def test_the_earliest_of_a_group_is_the_original_and_chains_resolve_to_it() -> None:
    docs = {i: Doc(i, f"t{i}", "x", order) for i, order in ((1, 30.0), (2, 10.0), (3, 20.0), (4, 40.0))}
    # 1 ~ 3, 3 ~ 2, 4 ~ 1: all one group, and 2 came first.
    found = {1: [Scored(3, 0.9), Scored(4, 0.9)], 3: [Scored(1, 0.9), Scored(2, 0.9)], 2: [Scored(3, 0.9)],
             4: [Scored(1, 0.9)]}
    assert assign_duplicates(docs, found) == {3: 2, 1: 2, 4: 2}
    assert assign_duplicates(docs, {}) == {}
