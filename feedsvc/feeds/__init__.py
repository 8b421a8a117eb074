"""What readers get: feed documents (Atom/RSS/JSON, the only feedgen importer), OPML, the front page and
static publishing of them all. Reads through feedsvc.store; no SQL, no HTTP."""
