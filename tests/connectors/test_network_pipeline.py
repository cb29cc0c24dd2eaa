"""Feed → fetch → extract → events → alert, over a real local HTTP server."""

import json

from connectors.cli import main
from connectors.feeds import short_id
from tests.connectors.news_site import guid, news_site


def test_a_served_feed_of_the_seed_pages_gives_the_al_sukhna_alert(server, tmp_path, capsys):
    feed = news_site(server)
    out = tmp_path / "out"
    code = main(["process", feed, "--out", str(out), "--no-store", "--allow-network", "127.0.0.0/8"])
    assert code == 0, capsys.readouterr().err
    [alert] = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()]
    assert alert["rule_id"] == "town-captured"
    assert sorted(alert["doc_ids"]) == sorted(short_id(guid(d)) for d in
                                              ("001_e72dd448992d5374", "004_882908644c043aa1"))
    assert {s["url"].rsplit("/", 1)[-1] for s in alert["sources"]} == {
        "001_e72dd448992d5374.html", "004_882908644c043aa1.html"}
    assert alert["event"]["event_date"] == "2017-08-12"
    # the feed and every page were fetched over HTTP
    assert {r.path for r in server.requests} >= {"/feed.xml", "/news/004_882908644c043aa1.html"}


def test_without_an_allowlist_a_loopback_feed_is_refused_not_fetched(server, tmp_path, capsys):
    feed = news_site(server)
    code = main(["process", feed, "--out", str(tmp_path / "out"), "--no-store"])
    assert code == 1
    assert "127.0.0.1 is a loopback address" in capsys.readouterr().err
    assert server.requests == []
