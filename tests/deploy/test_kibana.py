"""The Kibana saved objects use only fields the Elasticsearch templates map, and their references resolve.

Kibana cannot run here, so the ndjson is checked structurally; load.sh is run against a
stand-in for Kibana's import endpoint (a real HTTP server on 127.0.0.1 that records the request).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from schemas import es_templates as t

KIBANA = Path(__file__).resolve().parents[2] / "deploy" / "kibana"
NDJSON = KIBANA / "newswatch.ndjson"
VIEW_KIND = {t.names(k).alias: k for k in t.KINDS}


def objects() -> list[dict]:
    return [json.loads(line) for line in NDJSON.read_text(encoding="utf-8").splitlines()]


def by_id() -> dict[tuple[str, str], dict]:
    return {(o["type"], o["id"]): o for o in objects()}


def fields_of(kind: str) -> dict[str, dict]:
    """Every searchable name in the template, multi-fields included: name -> mapping."""
    out: dict[str, dict] = {}

    def walk(properties: dict, prefix: str) -> None:
        for name, spec in properties.items():
            path = prefix + name
            if "properties" in spec:
                walk(spec["properties"], path + ".")
                continue
            out[path] = spec
            for sub, sub_spec in spec.get("fields", {}).items():
                out[f"{path}.{sub}"] = sub_spec

    walk(t.mappings(kind)["properties"], "")
    return out


def view_of(obj: dict, ref_name: str) -> str:
    (ref,) = [r for r in obj["references"] if r["name"] == ref_name]
    assert ref["type"] == "index-pattern"
    return ref["id"]


def used_fields(obj: dict) -> list[tuple[str, str, bool]]:
    """(data view id, field, must be aggregatable) for every field an object uses."""
    a = obj["attributes"]
    if obj["type"] == "index-pattern":
        return [(obj["id"], a["timeFieldName"], True)]
    if obj["type"] == "search":
        view = view_of(obj, json.loads(a["kibanaSavedObjectMeta"]["searchSourceJSON"])["indexRefName"])
        return [(view, c, False) for c in a["columns"]] + [(view, f, True) for f, _ in a["sort"]]
    if obj["type"] == "lens":
        out = []
        for layer_id, layer in a["state"]["datasourceStates"]["formBased"]["layers"].items():
            view = view_of(obj, f"indexpattern-datasource-layer-{layer_id}")
            out += [(view, c["sourceField"], True) for c in layer["columns"].values()
                    if c["sourceField"] != "___records___"]
        return out
    if obj["type"] == "map":
        out = []
        for layer in json.loads(a["layerListJSON"]):
            src = layer["sourceDescriptor"]
            if src["type"] != "ES_SEARCH":
                continue
            view = view_of(obj, src["indexPatternRefName"])
            out += [(view, src["geoField"], True), (view, src["sortField"], True)]
            out += [(view, f, False) for f in src["tooltipProperties"]]
            out += [(view, p["options"]["field"]["name"], True) for p in layer["style"]["properties"].values()
                    if p["type"] == "DYNAMIC"]
        return out
    return []


def test_the_ndjson_is_what_the_build_script_writes():
    result = subprocess.run([sys.executable, "-c",
                             "import runpy,sys; m = runpy.run_path(sys.argv[1]); sys.stdout.write(m['ndjson']())",
                             str(KIBANA / "build_saved_objects.py")], capture_output=True, text=True, check=True)
    assert result.stdout == NDJSON.read_text(encoding="utf-8"), "run deploy/kibana/build_saved_objects.py"


def test_there_is_a_data_view_per_index_named_after_its_alias():
    views = {o["id"]: o["attributes"] for o in objects() if o["type"] == "index-pattern"}
    assert set(views) == set(VIEW_KIND)
    assert all(v["title"] == view_id for view_id, v in views.items())


def test_the_dashboard_has_the_map_the_time_chart_top_actors_and_places_alerts_and_article_search():
    dash = by_id()[("dashboard", "newswatch-overview")]
    panels = {r["id"]: by_id()[(r["type"], r["id"])] for r in dash["references"]}
    assert {(o["type"], o["attributes"]["title"]) for o in panels.values()} == {
        ("map", "Map of events"), ("lens", "Events over time by type"), ("lens", "Top actors (actor1)"),
        ("lens", "Top actors (actor2)"), ("lens", "Top places"), ("search", "Latest alerts"),
        ("search", "Article search")}


def test_every_field_a_saved_object_uses_is_mapped_and_aggregations_use_aggregatable_fields():
    problems = []
    for obj in objects():
        for view, field, aggregated in used_fields(obj):
            spec = fields_of(VIEW_KIND[view]).get(field)
            if spec is None:
                problems.append(f"{obj['id']}: {field} not in {view}")
            elif aggregated and spec["type"] == "text":
                problems.append(f"{obj['id']}: {field} is text, cannot be aggregated or sorted")
    assert problems == []
    map_fields = [f for _, f, _ in used_fields(by_id()[("map", "newswatch-events-map")])]
    assert fields_of("events")[map_fields[0]]["type"] == "geo_point"


def test_every_reference_points_at_an_object_in_the_file():
    known = set(by_id())
    dangling = [(o["id"], r) for o in objects() for r in o["references"] if (r["type"], r["id"]) not in known]
    assert dangling == []


def test_every_reference_name_used_inside_an_object_is_declared_and_every_declared_one_is_used():
    for obj in objects():
        declared = {r["name"] for r in obj["references"]}
        text = json.dumps(obj["attributes"])
        if obj["type"] == "dashboard":
            panels = json.loads(obj["attributes"]["panelsJSON"])
            used = {f"{p['panelIndex']}:{p['panelRefName']}" for p in panels}
            assert len({p["panelIndex"] for p in panels}) == len(panels)
        elif obj["type"] == "lens":
            used = {f"indexpattern-datasource-layer-{layer}"
                    for layer in obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]}
        else:
            used = set(re.findall(r'(?:indexRefName|indexPatternRefName)\\*"\s*:\s*\\*"([^"\\]+)', text))
        assert used == declared, obj["id"]


def test_dashboard_panels_fit_kibanas_48_column_grid_without_overlapping():
    panels = json.loads(by_id()[("dashboard", "newswatch-overview")]["attributes"]["panelsJSON"])
    cells = set()
    for p in panels:
        g = p["gridData"]
        assert g["x"] + g["w"] <= 48
        area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & area, p["panelIndex"]
        cells |= area


# --- load.sh against a stand-in for Kibana (Kibana itself cannot run here) --------------------

class _Kibana(BaseHTTPRequestHandler):
    reply = b'{"success":true,"successCount":11}'
    seen: list[tuple[str, dict[str, str], bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).seen.append((self.path, dict(self.headers.items()), body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.reply)))
        self.end_headers()
        self.wfile.write(self.reply)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def kibana() -> Iterator[tuple[str, type[_Kibana]]]:
    handler = type("Kibana", (_Kibana,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def load(url: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIBANA_")}
    return subprocess.run([str(KIBANA / "load.sh")], env={**clean, "KIBANA_URL": url, **env},
                          capture_output=True, text=True, timeout=60)


def test_load_posts_the_ndjson_to_the_import_api_with_overwrite_xsrf_and_an_api_key(kibana):
    url, handler = kibana
    result = load(url, KIBANA_API_KEY="s3cret-key")
    assert result.returncode == 0, result.stderr
    ((path, headers, body),) = handler.seen
    assert path == "/api/saved_objects/_import?overwrite=true"
    assert headers["kbn-xsrf"] == "true"
    assert headers["Authorization"] == "ApiKey s3cret-key"
    assert headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="newswatch.ndjson"' in body
    assert NDJSON.read_bytes() in body
    assert "s3cret" not in result.stdout + result.stderr


def test_load_uses_basic_auth_and_the_space_when_given(kibana):
    url, handler = kibana
    assert load(url + "/", KIBANA_USER="elastic", KIBANA_PASSWORD="pw", KIBANA_SPACE="ops").returncode == 0
    ((path, headers, _),) = handler.seen
    assert path == "/s/ops/api/saved_objects/_import?overwrite=true"
    assert headers["Authorization"] == "Basic ZWxhc3RpYzpwdw=="   # elastic:pw


def test_load_fails_when_kibana_reports_that_objects_were_not_imported(kibana):
    url, handler = kibana
    handler.reply = b'{"success":false,"errors":[{"id":"newswatch-events-map","error":{"type":"missing_references"}}]}'
    result = load(url)
    assert result.returncode == 1
    assert "import reported errors" in result.stderr and "missing_references" in result.stderr


def test_load_fails_with_one_line_naming_kibana_when_it_cannot_connect():
    result = load("http://127.0.0.1:9")
    assert result.returncode == 1
    assert result.stderr.startswith("load.sh: http://127.0.0.1:9: import failed")
