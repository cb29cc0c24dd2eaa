"""The console sink: alerts as a few readable lines for a terminal."""

from __future__ import annotations

from typing import TextIO

from schemas import Alert


def format_alert(alert: Alert) -> str:
    lines = [f"ALERT [{alert.severity}] {alert.title}"]
    event = alert.event
    if event is not None:
        where = f"{event.latitude:.4f},{event.longitude:.4f}" if event.latitude is not None else "?"
        lines.append(f"  place: {event.location} ({event.admin1 or '-'}, {event.country or '-'}) at {where}"
                     f"  date: {event.event_date or 'unknown'}  modality: {event.modality}")
        lines.append(f"  evidence: {event.notes}")
    lines += [f"  source: {s.name or '-'} {s.url or ''} [{s.doc_id}]".rstrip() for s in alert.sources]
    return "\n".join(lines)


def print_alert(alert: Alert, stream: TextIO) -> None:
    print(format_alert(alert), file=stream, flush=True)
