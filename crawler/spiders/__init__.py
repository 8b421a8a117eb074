"""Spiders. ArticleListSpider is driven by a SourceConfig; a site-specific spider only when selectors are not enough."""
