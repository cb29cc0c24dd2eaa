"""Alerts for delivery tests."""

from __future__ import annotations

from datetime import UTC, datetime

from pipelines.cluster import cluster_events
from pipelines.rules import default_rules, match_event
from schemas import Alert, SourceRef
from tests.factories import event

NOW = datetime(2017, 8, 12, 9, 0, tzinfo=UTC)
HOSTILE = "<!channel> <http://evil.example|click here> & <b>bold</b>"


def town_alert(n: int = 1, **changes) -> Alert:
    """A town-captured alert for a distinct event ``n``, cited by two outlets."""
    ev = event(f"e{n}", doc=f"d{n}", outlet="Middle East Eye", location=f"Town {n}",
               geonames_id=170000 + n, **changes)
    [clustered] = cluster_events([ev])
    clustered = clustered.model_copy(update={"sources": [
        SourceRef(doc_id=f"d{n}", name="Middle East Eye", url=f"https://www.middleeasteye.net/{n}"),
        SourceRef(doc_id=f"r{n}", name="Rudaw", url=f"https://www.rudaw.net/{n}")],
        "independent_sources": 2, "doc_ids": [f"d{n}", f"r{n}"]})
    [alert] = match_event(default_rules(), clustered, NOW)
    return alert


def hostile_alert() -> Alert:
    alert = town_alert(99)
    return alert.model_copy(update={
        "title": HOSTILE, "summary": f"Text: {HOSTILE}",
        "sources": [SourceRef(doc_id="x", name="<!here> Outlet|x>",
                              url="https://ok.example/a?b=1&c=<2>|evil")]})
