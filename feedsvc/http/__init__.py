"""The Starlette app serving what feedsvc.feeds renders: routes, the fast path, the feed cache, metrics."""
