"""feedsvc/related/topics.py: keyword rules, seed-page resemblance, and topic items read from the database."""

from __future__ import annotations

from sqlalchemy.orm import Session

from feedsvc.related.docs import Doc
from feedsvc.related.topics import (
    EXTRA_KEYWORD,
    TEXT_MATCH,
    TITLE_MATCH,
    Keyword,
    keyword_score,
    score_topic,
    topic_items,
)
from tests.support.related import ARTICLES, CFG, T0, store_articles, url_ids


def test_keywords_match_words_not_inside_words_and_chinese_anywhere() -> None:
    assert Keyword("AI").found_in("new ai rules") and not Keyword("ai").found_in("he said so")
    assert Keyword("market").found_in("stock markets rallied")
    assert Keyword("防汛").found_in("做好防汛工作") and Keyword("ＰＹＴＨＯＮ").found_in("python 3")


def test_title_beats_text_and_more_keywords_add_a_little() -> None:
    words = [Keyword("防汛"), Keyword("水库"), Keyword("tax")]
    assert keyword_score(Doc(1, "防汛工作", "无关"), words) == TITLE_MATCH
    assert keyword_score(Doc(2, "工作", "防汛值班"), words) == TEXT_MATCH
    assert keyword_score(Doc(3, "工作", "防汛，水库"), words) == TEXT_MATCH + EXTRA_KEYWORD
    assert keyword_score(Doc(4, "工作", "无关"), words) == 0.0


def test_seed_pages_rank_similar_items_first() -> None:
    seed = Doc(1, "Tax reform for small businesses", "The tax bill cuts income tax for small businesses.")
    docs = [Doc(2, "Income tax cut for small firms", "Small businesses pay less income tax under the bill."),
            Doc(3, "Club wins the final", "The striker scored twice in the final."),
            Doc(4, "Corporate tax reform", "The reform changes corporate tax rates.")]
    scores = score_topic([], [seed], docs)
    assert 3 not in scores and scores[2] > 0.1 and scores[4] > 0
    both = score_topic(["final"], [seed], docs)
    assert both[3] == TITLE_MATCH and both[2] == scores[2]


def test_topic_items_by_keywords_and_by_seed_pages(session: Session) -> None:
    store_articles(session, ARTICLES, T0)  # no related refresh: topic feeds do not depend on it
    urls = {i: url for url, i in url_ids(session).items()}
    party = topic_items(session, CFG.topics[0], CFG, 10)
    assert {urls[i] for i, _ in party} == {"http://gw/p1", "http://gw/p2"}
    assert all(score >= CFG.related.topic_threshold for _, score in party)
    tax = topic_items(session, CFG.topics[1], CFG, 10)
    assert [urls[i] for i, _ in tax] == ["http://gw/en/tax2"]  # the seed page itself is left out
