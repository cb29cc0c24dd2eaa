import pytest

from connectors.notify.channels import DeliveryError
from connectors.notify.config import EmailChannelConfig
from connectors.notify.email import EmailChannel, build_message
from tests.connectors.notify.alerts import hostile_alert, town_alert
from tests.connectors.notify.conftest import PASSWORD, USER, SmtpServer


def config(server: SmtpServer, ca_file, security="starttls", **more) -> EmailChannelConfig:
    return EmailChannelConfig(type="email", host="127.0.0.1", port=server.port, security=security,
                              username=USER, sender="newswatch@example.org",
                              recipients=["analyst@example.org"], ca_file=ca_file, **more)


def test_the_message_has_text_and_html_with_place_map_actors_sources_and_rule():
    msg = build_message(town_alert(), "email", "newswatch@example.org", ["analyst@example.org"])
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert msg["Subject"] == ("[newswatch high] town-captured: Government regains territory at "
                              "Town 1, Homs, Syria (Syrian government forces from Islamic State)")
    for part in (text, html):
        assert "Town 1, Homs, Syria" in part
        assert "https://www.openstreetmap.org/?mlat=34.8800&amp;mlon=38.8700" in part.replace(
            "mlat=34.8800&mlon", "mlat=34.8800&amp;mlon")
        assert "Syrian government forces vs Islamic State" in part
        assert "https://www.rudaw.net/1" in part and "Middle East Eye" in part
        assert "town-captured" in part and "populated_place=True" in part
    assert '<a href="https://www.middleeasteye.net/1">Middle East Eye</a>' in html


def test_the_message_id_is_the_same_for_the_same_alert_and_channel():
    a = build_message(town_alert(), "email", "s@example.org", ["r@example.org"])
    b = build_message(town_alert(), "email", "s@example.org", ["r@example.org"])
    assert a["Message-ID"] == b["Message-ID"]


def test_an_update_threads_under_the_first_alert():
    first = build_message(town_alert(), "email", "s@example.org", ["r@example.org"])
    update = build_message(town_alert().model_copy(update={"revision": 2}), "email", "s@example.org",
                           ["r@example.org"])
    assert update["In-Reply-To"] == first["Message-ID"] != update["Message-ID"]
    assert update["Subject"].startswith("[newswatch high] UPDATE town-captured")


def test_a_hostile_headline_is_escaped_in_html_and_cannot_break_the_subject():
    msg = build_message(hostile_alert(), "email", "s@example.org", ["r@example.org"])
    html = msg.get_body(("html",)).get_content()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;!channel&gt;" in html
    assert "\n" not in msg["Subject"]


def test_delivery_over_starttls_with_auth_to_a_real_smtp_server(smtp_server, tls_files):
    channel = EmailChannel("email", config(smtp_server, tls_files[0]),
                           environ={"NEWSWATCH_SMTP_PASSWORD": PASSWORD})
    channel.send(town_alert())
    [received] = smtp_server.mailbox.messages
    assert smtp_server.mailbox.logins == [USER]
    assert received["To"] == "analyst@example.org"
    assert received.get_body(("html",)) is not None and received.get_body(("plain",)) is not None


def test_delivery_over_implicit_tls(tls_files):
    with SmtpServer(tls_files, "ssl") as server:
        channel = EmailChannel("email", config(server, tls_files[0], security="ssl"),
                               environ={"NEWSWATCH_SMTP_PASSWORD": PASSWORD})
        channel.send(town_alert())
        assert len(server.mailbox.messages) == 1


def test_an_untrusted_certificate_is_refused_not_ignored(smtp_server):
    channel = EmailChannel("email", config(smtp_server, None),
                           environ={"NEWSWATCH_SMTP_PASSWORD": PASSWORD})
    with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED"):
        channel.send(town_alert())
    assert smtp_server.mailbox.messages == []


def test_the_password_is_not_in_the_config_repr():
    cfg = EmailChannelConfig(type="email", host="h", username="u", password=PASSWORD, sender="s@x.org",
                             recipients=["r@x.org"])
    assert PASSWORD not in repr(cfg) and PASSWORD not in str(cfg.model_dump())
