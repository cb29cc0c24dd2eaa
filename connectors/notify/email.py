"""Email alerts over SMTP: ``build_message`` (pure) and ``EmailChannel.send``.

Each message has a plain-text and an HTML part; every value that comes from
an article is HTML-escaped in the HTML part. The Message-ID is derived from
the delivery's idempotency key, so a copy sent twice (a crash between the
server's acceptance and the outbox mark) is the same message to mail clients,
and an update threads under the first alert (References).
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape

from connectors.notify.channels import DeliveryError, register
from connectors.notify.config import OSM_MAP_URL, EmailChannelConfig
from connectors.notify.render import AlertView, view
from schemas import Alert

log = logging.getLogger(__name__)


def message_id(key: str) -> str:
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@newswatch>"


def _text(v: AlertView) -> str:
    lines = [v.headline, ""]
    if v.update:
        lines += ["This is an update of an earlier alert.", ""]
    for label, value in (("What", v.what), ("When", v.when), ("Place", v.place),
                         ("Map", v.map_url), ("Actors", v.actors),
                         ("Fatalities", None if v.fatalities is None else str(v.fatalities))):
        if value:
            lines.append(f"{label}: {value}")
    lines += ["", v.summary]
    if v.claimed:
        lines.append("This rests on one side's claim.")
    lines += ["", "Sources:"]
    lines += [f"- {s.name}: {s.url}" if s.url else f"- {s.name}" for s in v.sources]
    lines += ["", f"Rule: {v.rule_id} (severity {v.severity})"]
    lines += [f"  {r}" for r in v.reasons]
    return "\n".join(lines) + "\n"


def _html(v: AlertView) -> str:
    e = escape
    rows = []
    for label, value in (("What", v.what), ("When", v.when), ("Actors", v.actors),
                         ("Fatalities", None if v.fatalities is None else str(v.fatalities))):
        if value:
            rows.append(f"<tr><th align=\"left\">{label}</th><td>{e(value)}</td></tr>")
    if v.place:
        place = e(v.place)
        if v.map_url:
            place += f" (<a href=\"{e(v.map_url)}\">map</a>)"
        rows.insert(2, f"<tr><th align=\"left\">Place</th><td>{place}</td></tr>")
    sources = "".join(
        f"<li><a href=\"{e(s.url)}\">{e(s.name)}</a></li>" if s.url else f"<li>{e(s.name)}</li>"
        for s in v.sources)
    reasons = "".join(f"<li><code>{e(r)}</code></li>" for r in v.reasons)
    return (
        "<html><body>"
        f"<h2>{e(v.headline)}</h2>"
        + ("<p><strong>This is an update of an earlier alert.</strong></p>" if v.update else "")
        + f"<table>{''.join(rows)}</table>"
        f"<p>{e(v.summary)}</p>"
        + ("<p><em>This rests on one side's claim.</em></p>" if v.claimed else "")
        + f"<h3>Sources</h3><ul>{sources}</ul>"
        f"<p>Rule <code>{e(v.rule_id)}</code> (severity {e(v.severity)}):</p><ul>{reasons}</ul>"
        "</body></html>\n"
    )


def build_message(alert: Alert, channel: str, sender: str, recipients: Sequence[str],
                  map_url: str = OSM_MAP_URL) -> EmailMessage:
    """The email for one alert on one channel: text and HTML parts."""
    v = view(alert, map_url)
    msg = EmailMessage()
    msg["Subject"] = v.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(alert.created_at)
    msg["Message-ID"] = message_id(f"{alert.alert_id}.{alert.revision}.{channel}")
    if alert.revision > 1:
        first = message_id(f"{alert.alert_id}.1.{channel}")
        msg["In-Reply-To"] = first
        msg["References"] = first
    msg["X-Newswatch-Alert"] = f"{alert.alert_id} revision {alert.revision}"
    msg.set_content(_text(v))
    msg.add_alternative(_html(v), subtype="html")
    return msg


def build_digest_message(alerts: Sequence[Alert], channel: str, window_start: datetime,
                         window_end: datetime, sender: str, recipients: Sequence[str],
                         map_url: str = OSM_MAP_URL) -> EmailMessage:
    """One summary of the alerts of a digest window."""
    views = [view(a, map_url) for a in alerts]
    span = f"{window_start:%Y-%m-%d %H:%M} to {window_end:%H:%M} UTC"
    msg = EmailMessage()
    msg["Subject"] = f"[newswatch digest] {len(alerts)} alert(s), {span}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(window_end)
    msg["Message-ID"] = message_id(f"digest.{channel}.{window_start.timestamp():.0f}")
    text = [f"{len(alerts)} alert(s), {span}", ""]
    html = [f"<html><body><h2>{len(alerts)} alert(s), {escape(span)}</h2><ul>"]
    for v in views:
        names = ", ".join(s.name for s in v.sources)
        text.append(f"- {v.headline} [{names}]" + (f" {v.map_url}" if v.map_url else ""))
        html.append(f"<li>{escape(v.headline)} <small>[{escape(names)}]</small>"
                    + (f" (<a href=\"{escape(v.map_url)}\">map</a>)" if v.map_url else "") + "</li>")
    msg.set_content("\n".join(text) + "\n")
    msg.add_alternative("".join(html) + "</ul></body></html>\n", subtype="html")
    return msg


@register("email")
class EmailChannel:
    """Sends over SMTP: implicit TLS (``ssl``), ``starttls`` or plain, with
    AUTH when a username is set. Certificates are always verified."""

    def __init__(self, name: str, config: EmailChannelConfig, map_url: str = OSM_MAP_URL,
                 environ: dict[str, str] | None = None) -> None:
        self.name, self.config, self.map_url = name, config, map_url
        self._password = config.secret(environ)
        if config.username and not self._password:
            raise ValueError(f"channel {name}: username set but no password "
                             f"(set ${config.password_env} or password:)")

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        if self.config.ca_file:
            context.load_verify_locations(cafile=str(self.config.ca_file))
        return context

    def send(self, alert: Alert) -> None:
        self.deliver(build_message(alert, self.name, self.config.sender, self.config.recipients,
                                   self.map_url))

    def send_digest(self, alerts: Sequence[Alert], start: datetime, end: datetime) -> None:
        self.deliver(build_digest_message(alerts, self.name, start, end, self.config.sender,
                                          self.config.recipients, self.map_url))

    def deliver(self, msg: EmailMessage) -> None:
        c = self.config
        host, port, timeout = c.host, c.smtp_port(), c.timeout_seconds
        try:
            if c.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=self._tls())
            else:
                smtp = smtplib.SMTP(host, port, timeout=timeout)
            with smtp:
                if c.security == "starttls":
                    smtp.starttls(context=self._tls())
                if c.username:
                    smtp.login(c.username, self._password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            # The reason only: smtplib's messages carry no password.
            raise DeliveryError(f"SMTP {host}:{port}: {type(exc).__name__}: {exc}") from exc
        log.info("channel %s: sent %s", self.name, msg["Message-ID"])
