"""The shared page vocabulary: the kinds headings name, pagination labels, chrome class words."""

from crawler.vocabulary import CHROME_WORDS, DECOR, NEXT_LABELS, PAGE_NUMBER, RELATED_WORDS, heading_kind


def test_heading_kinds_in_chinese_and_english() -> None:
    assert heading_kind("阅读排行") == "ranking"
    assert heading_kind("Most read") == "ranking"
    assert heading_kind("最新文章") == "latest"
    assert heading_kind("编辑推荐") == "recommended"
    assert heading_kind("相关阅读") == "related"
    assert heading_kind("You may also like") == "related"
    assert heading_kind("国际新闻") is None


def test_related_words_do_not_match_a_plain_section_name() -> None:
    assert RELATED_WORDS.search("延伸阅读")
    assert not RELATED_WORDS.search("Business")


def test_pagination_labels_and_decorations() -> None:
    assert PAGE_NUMBER.fullmatch("[3]") and PAGE_NUMBER.fullmatch("第4页")
    assert "下一页" in NEXT_LABELS
    assert "【推荐文稿】 >>".strip(DECOR) == "推荐文稿"


def test_chrome_words_are_whole_class_words() -> None:
    assert CHROME_WORDS.search("site-nav")
    assert CHROME_WORDS.search("breadcrumb")
    assert not CHROME_WORDS.search("navigator-story")  # a word inside another word is not chrome
