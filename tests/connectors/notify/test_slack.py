from connectors.notify.config import SlackChannelConfig
from connectors.notify.slack import SlackChannel, build_payload, escape, link
from tests.connectors.notify.alerts import hostile_alert, town_alert


def test_the_payload_is_block_kit_with_place_map_actors_sources_and_rule():
    payload = build_payload(town_alert())
    assert payload == {
        "text": "town-captured: Government regains territory at Town 1, Homs, Syria "
                "(Syrian government forces from Islamic State)",
        "unfurl_links": False, "unfurl_media": False,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "verbatim": True, "text":
                ":large_orange_circle: *town-captured: Government regains territory at Town 1, Homs, "
                "Syria (Syrian government forces from Islamic State)*"}},
            {"type": "section", "fields": [
                {"type": "mrkdwn", "verbatim": True,
                 "text": "*What*\nBattles / Government regains territory"},
                {"type": "mrkdwn", "verbatim": True, "text":
                    "*Place*\nTown 1, Homs, Syria (<https://www.openstreetmap.org/?mlat=34.8800&amp;"
                    "mlon=38.8700#map=10/34.8800/38.8700|map>)"},
                {"type": "mrkdwn", "verbatim": True,
                 "text": "*Actors*\nSyrian government forces vs Islamic State"},
                {"type": "mrkdwn", "verbatim": True, "text": "*When*\n2017-08-12"}]},
            {"type": "section", "text": {"type": "mrkdwn", "verbatim": True, "text":
                "Report e1. [2 independent source(s): Middle East Eye, Rudaw]"}},
            {"type": "section", "text": {"type": "mrkdwn", "verbatim": True, "text":
                "*Sources*\n• <https://www.middleeasteye.net/1|Middle East Eye>\n"
                "• <https://www.rudaw.net/1|Rudaw>"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "verbatim": True, "text":
                "rule `town-captured` (high): sub_event_type=Government regains territory; "
                "populated_place=True; named_place=True; modality=asserted"}]},
        ],
    }


def test_a_hostile_headline_cannot_ping_a_channel_or_forge_a_link():
    body = str(build_payload(hostile_alert()))
    assert "<!channel>" not in body and "<!here>" not in body
    assert "<http://evil.example|click here>" not in body
    assert "&lt;!channel&gt; &lt;http://evil.example|click here&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in body
    # The outlet's URL cannot close the link early or relabel it.
    assert "<https://ok.example/a?b=1&amp;c=&lt;2&gt;%7Cevil|&lt;!here&gt; Outlet|x&gt;>" in body


def test_escape_and_link():
    assert escape("a & <b>") == "a &amp; &lt;b&gt;"
    assert link(None, "<x>") == "&lt;x&gt;"
    assert link("javascript:alert(1)", "x") == "<javascript:alert(1)|x>"  # link() trusts its caller


def test_the_message_is_posted_to_the_webhook(webhook):
    channel = SlackChannel("slack", SlackChannelConfig(type="slack"),
                           environ={"NEWSWATCH_SLACK_WEBHOOK_URL": webhook.url()})
    channel.send(town_alert())
    assert webhook.bodies == [build_payload(town_alert())]
    assert webhook.paths == ["/services/T000/B000/XXXXSECRETXXXX"]
