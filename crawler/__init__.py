"""Scrapy side of feedsvc: spiders, items, pipelines, settings. Imports feedsvc; feedsvc never imports this."""
