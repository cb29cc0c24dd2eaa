"""Write deploy/kibana/newswatch.ndjson: Kibana 9 saved objects for the newswatch indices.

Run ``.venv/bin/python deploy/kibana/build_saved_objects.py`` after changing this file;
``tests/deploy/test_kibana.py`` fails when the ndjson and this script disagree, and checks
that every field the objects use exists in the Elasticsearch templates.

Kibana stores nested state as JSON strings (panelsJSON, layerListJSON, searchSourceJSON);
building them here keeps those strings valid and the references consistent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("newswatch.ndjson")
CORE_MIGRATION = "8.8.0"   # the saved-object format Kibana 8.8+ and 9.x import and migrate

DATA_VIEWS = {  # id = title = the write/read alias (schemas/elasticsearch/README.md)
    "newswatch-articles": ("newswatch articles", "published"),
    "newswatch-events": ("newswatch events", "event_date"),
    "newswatch-alerts": ("newswatch alerts", "created_at"),
}


def _s(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def data_view(view_id: str) -> dict:
    name, time_field = DATA_VIEWS[view_id]
    return {"id": view_id, "type": "index-pattern", "coreMigrationVersion": CORE_MIGRATION,
            "typeMigrationVersion": "8.0.0", "managed": False, "references": [],
            "attributes": {"title": view_id, "name": name, "timeFieldName": time_field,
                           "fields": "[]", "fieldAttrs": "{}", "runtimeFieldMap": "{}", "typeMeta": "{}"}}


def saved_search(search_id: str, title: str, view_id: str, columns: list[str], sort_field: str) -> dict:
    source = {"query": {"query": "", "language": "kuery"}, "filter": [],
              "indexRefName": "kibanaSavedObjectMeta.searchSourceJSON.index"}
    return {"id": search_id, "type": "search", "coreMigrationVersion": CORE_MIGRATION,
            "typeMigrationVersion": "8.0.0",
            "references": [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index",
                            "type": "index-pattern", "id": view_id}],
            "attributes": {"title": title, "description": "", "columns": columns,
                           "sort": [[sort_field, "desc"]], "grid": {}, "hideChart": False,
                           "kibanaSavedObjectMeta": {"searchSourceJSON": _s(source)}}}


def _terms(field: str, size: int, order_by: str) -> dict:
    return {"label": f"Top {size} values of {field}", "dataType": "string", "operationType": "terms",
            "sourceField": field, "isBucketed": True, "scale": "ordinal",
            "params": {"size": size, "orderBy": {"type": "column", "columnId": order_by},
                       "orderDirection": "desc", "otherBucket": True, "missingBucket": False}}


COUNT = {"label": "Count of records", "dataType": "number", "operationType": "count",
         "sourceField": "___records___", "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True}}


def lens(lens_id: str, title: str, view_id: str, columns: dict[str, dict], visualization: dict,
         layer: str = "layer1") -> dict:
    state = {"visualization": visualization, "query": {"query": "", "language": "kuery"}, "filters": [],
             "datasourceStates": {"formBased": {"layers": {layer: {
                 "columns": columns, "columnOrder": list(columns), "incompleteColumns": {}}}}},
             "internalReferences": [], "adHocDataViews": {}}
    return {"id": lens_id, "type": "lens", "coreMigrationVersion": CORE_MIGRATION,
            "typeMigrationVersion": "8.9.0",
            "references": [{"name": f"indexpattern-datasource-layer-{layer}", "type": "index-pattern",
                            "id": view_id}],
            "attributes": {"title": title, "description": "", "visualizationType": visualization["type"],
                           "state": state}}


def events_over_time() -> dict:
    columns = {
        "date": {"label": "event_date", "dataType": "date", "operationType": "date_histogram",
                 "sourceField": "event_date", "isBucketed": True, "scale": "interval",
                 "params": {"interval": "auto", "includeEmptyRows": True, "dropPartials": False}},
        "type": _terms("event_type", 10, "count"),
        "count": COUNT,
    }
    vis = {"type": "lnsXY", "preferredSeriesType": "bar_stacked", "legend": {"isVisible": True, "position": "right"},
           "valueLabels": "hide",
           "layers": [{"layerId": "layer1", "layerType": "data", "seriesType": "bar_stacked",
                       "xAccessor": "date", "splitAccessor": "type", "accessors": ["count"]}]}
    return lens("newswatch-events-over-time", "Events over time by type", "newswatch-events", columns, vis)


def top_values(lens_id: str, title: str, field: str) -> dict:
    columns = {"value": _terms(field, 10, "count"), "count": COUNT}
    vis = {"type": "lnsXY", "preferredSeriesType": "bar_horizontal", "legend": {"isVisible": False},
           "valueLabels": "show",
           "layers": [{"layerId": "layer1", "layerType": "data", "seriesType": "bar_horizontal",
                       "xAccessor": "value", "accessors": ["count"]}]}
    return lens(lens_id, title, "newswatch-events", columns, vis)


def events_map() -> dict:
    layers = [
        {"id": "basemap", "type": "EMS_VECTOR_TILE", "label": None, "minZoom": 0, "maxZoom": 24, "alpha": 1,
         "visible": True, "includeInFitToBounds": True, "style": {"type": "EMS_VECTOR_TILE", "color": ""},
         "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True, "lightModeDefault": "road_map_desaturated"}},
        {"id": "events", "type": "GEOJSON_VECTOR", "label": "Events", "minZoom": 0, "maxZoom": 24, "alpha": 0.8,
         "visible": True, "includeInFitToBounds": True,
         "sourceDescriptor": {
             "id": "events-source", "type": "ES_SEARCH", "geoField": "location_point",
             "scalingType": "LIMIT", "filterByMapBounds": True, "applyGlobalQuery": True, "applyGlobalTime": True,
             "tooltipProperties": ["event_date", "event_type", "sub_event_type", "actor1", "actor2",
                                   "location", "admin1", "fatalities", "modality", "source"],
             "sortField": "event_date", "sortOrder": "desc", "topHitsSplitField": "", "topHitsSize": 1,
             "indexPatternRefName": "layer_1_source_index_pattern"},
         "style": {"type": "VECTOR", "properties": {
             "icon": {"type": "STATIC", "options": {"value": "marker"}},
             "fillColor": {"type": "DYNAMIC", "options": {
                 "field": {"name": "event_type", "origin": "source"}, "type": "CATEGORICAL",
                 "colorCategory": "palette_0"}},
             "lineColor": {"type": "STATIC", "options": {"color": "#FFFFFF"}},
             "lineWidth": {"type": "STATIC", "options": {"size": 1}},
             "iconSize": {"type": "STATIC", "options": {"size": 7}}}}},
    ]
    map_state = {"zoom": 5, "center": {"lat": 34.8, "lon": 38.9}, "timeFilters": {"from": "now-30d", "to": "now"},
                 "refreshConfig": {"isPaused": False, "interval": 60000},
                 "query": {"query": "", "language": "kuery"}, "filters": [], "settings": {"autoFitToDataBounds": False}}
    return {"id": "newswatch-events-map", "type": "map", "coreMigrationVersion": CORE_MIGRATION,
            "typeMigrationVersion": "8.4.0",
            "references": [{"name": "layer_1_source_index_pattern", "type": "index-pattern",
                            "id": "newswatch-events"}],
            "attributes": {"title": "Map of events", "description": "Events at their location_point",
                           "layerListJSON": _s(layers), "mapStateJSON": _s(map_state),
                           "uiStateJSON": _s({"isLayerTOCOpen": True, "openTOCDetails": []})}}


PANELS = [  # (panel object, x, y, w, h) on Kibana's 48-column grid
    ("newswatch-events-map", "map", 0, 0, 28, 18),
    ("newswatch-latest-alerts", "search", 28, 0, 20, 18),
    ("newswatch-events-over-time", "lens", 0, 18, 48, 12),
    ("newswatch-top-actor1", "lens", 0, 30, 16, 14),
    ("newswatch-top-actor2", "lens", 16, 30, 16, 14),
    ("newswatch-top-places", "lens", 32, 30, 16, 14),
    ("newswatch-article-search", "search", 0, 44, 48, 16),
]


def dashboard() -> dict:
    panels, references = [], []
    for i, (obj_id, obj_type, x, y, w, h) in enumerate(PANELS, start=1):
        index = str(i)
        panels.append({"type": obj_type, "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                       "panelIndex": index, "embeddableConfig": {}, "panelRefName": f"panel_{index}"})
        references.append({"name": f"{index}:panel_{index}", "type": obj_type, "id": obj_id})
    return {"id": "newswatch-overview", "type": "dashboard", "coreMigrationVersion": CORE_MIGRATION,
            "typeMigrationVersion": "8.9.0", "references": references,
            "attributes": {"title": "newswatch overview", "description": "Conflict events, alerts and articles",
                           "panelsJSON": _s(panels), "timeRestore": True, "timeFrom": "now-30d", "timeTo": "now",
                           "refreshInterval": {"pause": False, "value": 60000},
                           "optionsJSON": _s({"useMargins": True, "syncColors": False, "syncCursor": True,
                                              "syncTooltips": False, "hidePanelTitles": False}),
                           "kibanaSavedObjectMeta": {"searchSourceJSON": _s(
                               {"query": {"query": "", "language": "kuery"}, "filter": []})}}}


def saved_objects() -> list[dict]:
    return [
        *(data_view(v) for v in DATA_VIEWS),
        events_map(),
        events_over_time(),
        top_values("newswatch-top-actor1", "Top actors (actor1)", "actor1"),
        top_values("newswatch-top-actor2", "Top actors (actor2)", "actor2"),
        top_values("newswatch-top-places", "Top places", "location"),
        saved_search("newswatch-latest-alerts", "Latest alerts", "newswatch-alerts",
                     ["severity", "title", "rule_id", "event.location", "event.event_type", "claimed"], "created_at"),
        saved_search("newswatch-article-search", "Article search", "newswatch-articles",
                     ["title", "source", "language", "url"], "published"),
        dashboard(),
    ]


def ndjson() -> str:
    return "".join(json.dumps(o, sort_keys=True) + "\n" for o in saved_objects())


if __name__ == "__main__":
    OUT.write_text(ndjson(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUT}\n")
