"""Block discovery and healing: find a page's dated listings by themselves, name them, give each a selector that
survives redesigns, and find where a listing went after its block was renamed.

Pure functions over parsel Selectors (no Scrapy, no SQL); `crawler/discover/fetch.py` is the one Scrapy part.
"""
