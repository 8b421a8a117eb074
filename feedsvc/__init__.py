"""feedsvc: scrape dated listings from sites without feeds and serve them as feeds."""

__version__ = "0.1.0"
