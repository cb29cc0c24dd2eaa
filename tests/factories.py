"""Small builders for records in tests: only the fields a test cares about."""

from __future__ import annotations

from datetime import date

from schemas import Event, SourceRef


def event(event_id: str = "e1", *, doc: str = "d1", outlet: str = "Outlet", article: str | None = None,
          sub_event_type: str = "Government regains territory", geonames_id: int | None = 170794,
          location: str | None = "As Sukhnah", event_date: date | None = date(2017, 8, 12),
          modality: str = "asserted", populated_place: bool = True, fatalities: int | None = None,
          event_type: str = "Battles", country_code: str | None = "SY", confidence: float = 0.8,
          actor1: str | None = "Syrian government forces", actor2: str | None = "Islamic State",
          ) -> Event:
    return Event(
        event_id=event_id, event_date=event_date, event_type=event_type, sub_event_type=sub_event_type,
        actor1=actor1, actor2=actor2, country="Syria" if country_code == "SY" else None,
        country_code=country_code, admin1="Homs", location=location, latitude=34.88, longitude=38.87,
        geonames_id=geonames_id, populated_place=populated_place, fatalities=fatalities, source=outlet,
        notes=f"Report {event_id}.", modality=modality, confidence=confidence,
        article_ids=[article or f"a-{doc}"], doc_ids=[doc], sources=[SourceRef(doc_id=doc, name=outlet)],
        independent_sources=1,
    )
