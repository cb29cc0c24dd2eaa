"""What every channel says about an alert, as plain values; each channel
then formats and escapes them its own way (``email``, ``slack``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pipelines.rules import describe_place
from schemas import Alert

from connectors.notify.config import OSM_MAP_URL


@dataclass(frozen=True)
class Source:
    name: str
    url: str | None


@dataclass(frozen=True)
class AlertView:
    subject: str
    headline: str
    severity: str
    rule_id: str
    what: str | None
    when: str | None
    place: str | None
    map_url: str | None
    actors: str | None
    fatalities: int | None
    summary: str
    sources: tuple[Source, ...]
    reasons: tuple[str, ...]
    update: bool
    claimed: bool


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are offered (a ``javascript:`` URL in a feed is not)."""
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def one_line(text: str) -> str:
    return " ".join(text.split())


def view(alert: Alert, map_url: str = OSM_MAP_URL) -> AlertView:
    event = alert.event
    prefix = "UPDATE " if alert.revision > 1 else ""
    place = describe_place(event) if event else None
    link = None
    if event and event.latitude is not None and event.longitude is not None:
        link = map_url.format(lat=f"{event.latitude:.4f}", lon=f"{event.longitude:.4f}")
    actors = None
    if event and (event.actor1 or event.actor2):
        actors = " vs ".join(a for a in (event.actor1, event.actor2) if a)
    seen: dict[str, Source] = {}
    for ref in alert.sources:
        name = one_line(ref.name or ref.doc_id)
        seen.setdefault(f"{name}\x1f{ref.url}", Source(name, safe_url(ref.url)))
    return AlertView(
        subject=one_line(f"[newswatch {alert.severity}] {prefix}{alert.title}")[:200],
        headline=one_line(prefix + alert.title),
        severity=alert.severity,
        rule_id=alert.rule_id,
        what=f"{event.event_type} / {event.sub_event_type}" if event else None,
        when=event.event_date.isoformat() if event and event.event_date else None,
        place=place,
        map_url=link,
        actors=actors,
        fatalities=event.fatalities if event else None,
        summary=one_line(alert.summary),
        sources=tuple(seen.values()),
        reasons=tuple(alert.reasons),
        update=alert.revision > 1,
        claimed=alert.claimed,
    )
