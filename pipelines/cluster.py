"""Cluster reports of the same real-world event from several outlets.

Two event reports are the same event when they have the same sub-event type,
the same place (GeoNames id, else the folded place name) and dates no more
than ``DAY_TOLERANCE`` apart (an unknown date joins any date). Only reports
that state the event as news (asserted or claimed) are clustered: a background
mention of an old capture or a hypothetical one is a different thing and keeps
its own record, so it can never re-open or re-alert an event.

The cluster id is derived from what every report of the event shares (type and
place) plus the earliest date in the cluster, so the same reports give the same
id in every run and in both pipeline modes.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from pipelines.taxonomy import NEWS_MODALITIES
from schemas import Event, SourceRef

DAY_TOLERANCE = 3
# When reports disagree, the strongest statement stands for the cluster.
MODALITY_RANK = {m: i for i, m in enumerate(NEWS_MODALITIES)}


def place_key(event: Event) -> str | None:
    if event.geonames_id is not None:
        return f"geonames:{event.geonames_id}"
    if event.location:
        return "name:" + " ".join(event.location.casefold().split())
    return None


def cluster_key(event: Event) -> tuple[str, str] | None:
    """What all reports of one event share, or None when it must stay alone.

    Taking positions near a town and taking the town are different events
    with the same reference place, hence the populated-place flag.
    """
    place = place_key(event)
    if place is None or event.modality not in NEWS_MODALITIES:
        return None
    target = "populated" if event.populated_place else "site"
    return (event.sub_event_type, f"{place}/{target}")


def cluster_id(key: tuple[str, str], first_date: date | None) -> str:
    text = "\x1f".join([*key, first_date.isoformat() if first_date else "undated"])
    return "c" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _close(a: date | None, b: date | None) -> bool:
    return a is None or b is None or abs((a - b).days) <= DAY_TOLERANCE


def group_by_date(events: list[Event]) -> list[list[Event]]:
    """Single-link groups of events whose dates are within the tolerance."""
    dated = sorted((e for e in events if e.event_date), key=lambda e: (e.event_date, e.event_id))
    groups: list[list[Event]] = []
    for event in dated:
        if groups and _close(groups[-1][-1].event_date, event.event_date):
            groups[-1].append(event)
        else:
            groups.append([event])
    undated = sorted((e for e in events if not e.event_date), key=lambda e: e.event_id)
    if undated:
        # Without a date a report cannot be told apart from any report of the
        # same event; it joins the most recent dated group.
        if groups:
            groups[-1].extend(undated)
        else:
            groups.append(undated)
    return groups


def merge_reports(key: tuple[str, str], reports: list[Event]) -> Event:
    """One event from several reports of it: every source, the best-attested facts."""
    reports = sorted(reports, key=lambda e: (MODALITY_RANK[e.modality], -e.confidence, e.event_id))
    lead = reports[0]
    dates = [e.event_date for e in reports if e.event_date]
    sources: dict[str, SourceRef] = {}
    for report in reports:
        for ref in report.sources:
            sources.setdefault(ref.doc_id, ref)
    article_ids = sorted({a for e in reports for a in e.article_ids})
    names = sorted({ref.name for ref in sources.values() if ref.name})
    fatalities = [e.fatalities for e in reports if e.fatalities is not None]
    return lead.model_copy(update={
        "event_date": min(dates) if dates else None,
        "article_ids": article_ids,
        "doc_ids": sorted({d for e in reports for d in e.doc_ids}),
        "sources": sorted(sources.values(), key=lambda r: r.doc_id),
        "source": "; ".join(names) if names else lead.source,
        # Copies of one wire story are one article after Deduplicate, so
        # counting articles counts independent reports.
        "independent_sources": len(article_ids),
        "confidence": max(e.confidence for e in reports),
        "fatalities": max(fatalities) if fatalities else None,
        "cluster_id": cluster_id(key, min(dates) if dates else None),
    })


def cluster_events(events: Iterable[Event]) -> list[Event]:
    """Merge reports of the same event; others pass with a cluster of their own."""
    by_key: dict[tuple[str, str], list[Event]] = defaultdict(list)
    alone: list[Event] = []
    for event in events:
        key = cluster_key(event)
        if key is None:
            alone.append(event)
        else:
            by_key[key].append(event)
    out = [e.model_copy(update={"cluster_id": "c" + e.event_id}) for e in alone]
    for key, reports in by_key.items():
        out.extend(merge_reports(key, group) for group in group_by_date(reports))
    return sorted(out, key=lambda e: e.cluster_id or "")


def merge_into(stored: Event, update: Event) -> Event:
    """A cluster seen again in a later batch: the stored event with the new
    reports folded in, under the stored cluster id (ids never move)."""
    key = cluster_key(stored) or cluster_key(update)
    if key is None or stored.cluster_id != update.cluster_id:
        return update
    return merge_reports(key, [stored, update]).model_copy(update={"cluster_id": stored.cluster_id})
