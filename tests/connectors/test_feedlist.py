"""`newswatch feeds import|export|status`: the feed list as OPML."""

import io

from connectors.cli import main
from connectors.feeds import FeedRef, parse_opml
from connectors.service import FeedConfig, Service, ServiceConfig
from connectors.service_settings import OpsConfig

OPML = b"""<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
<outline text="Syria"><outline text="Wire" xmlUrl="https://wire.example.org/rss"/>
<outline text="Local" title="Local news" xmlUrl="https://local.example.org/feed"/></outline>
<outline text="Mail" xmlUrl="mailto:someone@example.org"/></body></opml>"""


def config_file(tmp_path):
    path = tmp_path / "nw.yaml"
    path.write_text(f"store: {tmp_path / 'nw.db'}\nfeeds:\n  - url: https://a.example.org/rss\n"
                    "    name: A\n")
    return path


def test_import_adds_http_feeds_once_and_refuses_the_rest(tmp_path, capsys):
    (tmp_path / "list.opml").write_bytes(OPML)
    config = config_file(tmp_path)
    assert main(["feeds", "import", str(tmp_path / "list.opml"), "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert out == "imported 2 new feed(s) of 3 listed; 0 already imported, 1 refused\n"
    assert "mailto:someone@example.org: not an http(s) URL" in err
    main(["feeds", "import", str(tmp_path / "list.opml"), "--config", str(config)])
    assert capsys.readouterr().out.startswith("imported 0 new feed(s) of 3 listed; 2 already")


def test_export_lists_configured_then_imported_feeds(tmp_path, capsys):
    (tmp_path / "list.opml").write_bytes(OPML)
    config = config_file(tmp_path)
    main(["feeds", "import", str(tmp_path / "list.opml"), "--config", str(config)])
    assert main(["feeds", "export", "--out", str(tmp_path / "out.opml"), "--config", str(config)]) == 0
    assert parse_opml((tmp_path / "out.opml").read_bytes()) == [
        FeedRef("https://a.example.org/rss", "A"), FeedRef("https://wire.example.org/rss", "Wire"),
        FeedRef("https://local.example.org/feed", "Local news")]


def test_an_unreadable_opml_file_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "bad.opml").write_bytes(b"<rss/>")
    assert main(["feeds", "import", str(tmp_path / "bad.opml"), "--config",
                 str(config_file(tmp_path))]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'bad.opml'}: not an OPML document: root element <rss>\n")


def test_the_service_polls_imported_feeds(server, tmp_path):
    config = ServiceConfig(feeds=(FeedConfig(url=server.url("/a.xml")),), store=tmp_path / "nw.db",
                           allowed_networks=("127.0.0.0/8",), ops=OpsConfig(enabled=False))
    svc = Service(config, out=io.StringIO())
    svc.store.import_feeds([(server.url("/b.xml"), "B")], "2026-01-01T00:00:00+00:00")
    svc.run(once=True)
    assert {r.path for r in server.requests} == {"/a.xml", "/b.xml"}
