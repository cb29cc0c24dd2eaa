"""Input connectors: everything newswatch reads from disk or the web.

- ``http``: a careful HTTP fetcher (timeouts, total deadline, size cap, redirect
  and address checks on every hop, conditional GET).
- ``feeds``: RSS/Atom/RDF and OPML parsing; pure, bytes in, records out.
- ``extract``: article text and metadata from an HTML page (trafilatura); pure.
- ``files``: articles, JSONL, HTML, feed and OPML files from local folders.
- ``sources``: ``read_inputs`` (folders, files and URLs to ``RawDocument`` or
  ``Failure``) and ``poll_feed`` for the always-on service.

Parsing never touches the network; only ``http.Fetcher`` does, and it is passed
in. Nothing here raises for a bad input item: it becomes a ``schemas.Failure``.
See ``docs/connectors.md``.
"""
