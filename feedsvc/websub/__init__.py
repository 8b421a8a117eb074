"""WebSub publishing (W3C WebSub §5 "Publishing"): tell hubs which feed URLs changed.

`hub.py` speaks to one hub (form POST, batches, retries with backoff); `announce.py` decides which feeds
changed since their last announcement, announces them and records each result through feedsvc/store/websub.py.
Feeds advertise the hubs themselves (feedsvc/feeds/render.py, jsonfeed.py). No SQL, no XML here.
"""
