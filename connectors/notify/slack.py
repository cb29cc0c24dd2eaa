"""Slack alerts through an incoming webhook, in Block Kit:
``build_payload`` (pure) and ``SlackChannel.send``.

Slack reads ``<…>`` in message text as control sequences: ``<!channel>``
pings everyone, ``<http://evil|click here>`` is a link labelled as anything.
So every value from an article is escaped (``&`` ``<`` ``>``) and our own
links are built from checked http(s) URLs. The webhook URL is a credential:
it is never logged, and httpx's request log lines are redacted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from connectors.notify.channels import DeliveryError, register
from connectors.notify.config import OSM_MAP_URL, SlackChannelConfig
from connectors.notify.render import AlertView, view
from schemas import Alert

log = logging.getLogger(__name__)

SEVERITY_EMOJI = {"low": ":white_circle:", "medium": ":large_yellow_circle:",
                  "high": ":large_orange_circle:", "critical": ":red_circle:"}


def escape(text: str) -> str:
    """Slack's escaping for message text: only these three characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str | None, label: str) -> str:
    """``<url|label>`` with the label escaped; a URL that could break out of the
    link (``|``, ``>``) is percent-encoded. No URL: the label alone."""
    if not url:
        return escape(label)
    safe = escape(url).replace("|", "%7C")
    return f"<{safe}|{escape(label)}>"


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack does not turn bare URLs, #channels or @names into links.
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _fields(v: AlertView) -> list[dict[str, Any]]:
    fields = []
    if v.what:
        fields.append(_mrkdwn(f"*What*\n{escape(v.what)}"))
    if v.place:
        fields.append(_mrkdwn(f"*Place*\n{escape(v.place)}"
                              + (f" ({link(v.map_url, 'map')})" if v.map_url else "")))
    if v.actors:
        fields.append(_mrkdwn(f"*Actors*\n{escape(v.actors)}"))
    if v.when:
        fields.append(_mrkdwn(f"*When*\n{escape(v.when)}"))
    if v.fatalities is not None:
        fields.append(_mrkdwn(f"*Fatalities*\n{v.fatalities}"))
    return fields


def build_payload(alert: Alert, map_url: str = OSM_MAP_URL) -> dict[str, Any]:
    """The webhook body for one alert."""
    v = view(alert, map_url)
    headline = escape(v.headline)
    sources = "\n".join(f"• {link(s.url, s.name)}" for s in v.sources)
    summary = escape(v.summary) + ("\n_This rests on one side's claim._" if v.claimed else "")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": _mrkdwn(f"{SEVERITY_EMOJI[v.severity]} *{headline}*")},
    ]
    if fields := _fields(v):
        blocks.append({"type": "section", "fields": fields})
    blocks += [
        {"type": "section", "text": _mrkdwn(summary[:2900])},
        {"type": "section", "text": _mrkdwn(f"*Sources*\n{sources}"[:2900])},
        {"type": "context", "elements": [_mrkdwn(
            f"rule `{escape(v.rule_id)}` ({v.severity}): " + escape("; ".join(v.reasons))[:2800])]},
    ]
    # ``text`` is what notifications and old clients show.
    return {"text": headline, "blocks": blocks, "unfurl_links": False, "unfurl_media": False}


def build_digest_payload(alerts: Sequence[Alert], start: datetime, end: datetime,
                         map_url: str = OSM_MAP_URL) -> dict[str, Any]:
    span = f"{start:%Y-%m-%d %H:%M} to {end:%H:%M} UTC"
    lines = []
    for v in (view(a, map_url) for a in alerts):
        names = ", ".join(link(s.url, s.name) for s in v.sources)
        lines.append(f"• {SEVERITY_EMOJI[v.severity]} {escape(v.headline)} ({names})")
    title = f"newswatch digest: {len(alerts)} alert(s), {span}"
    blocks: list[dict[str, Any]] = [{"type": "section", "text": _mrkdwn(f"*{title}*")}]
    # A section holds at most 3000 characters: several sections for a long digest.
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
            chunk = []
        chunk.append(line[:2900])
    if chunk:
        blocks.append({"type": "section", "text": _mrkdwn("\n".join(chunk))})
    return {"text": title, "blocks": blocks[:50], "unfurl_links": False, "unfurl_media": False}


class _RedactSecrets(logging.Filter):
    """httpx logs each request's URL at INFO; a webhook URL must not reach a log."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(s in message for s in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "<webhook>")
            record.msg, record.args = message, None
        return True


_REDACT = _RedactSecrets()
logging.getLogger("httpx").addFilter(_REDACT)


@register("slack")
class SlackChannel:
    def __init__(self, name: str, config: SlackChannelConfig, map_url: str = OSM_MAP_URL,
                 environ: dict[str, str] | None = None) -> None:
        self.name, self.config, self.map_url = name, config, map_url
        url = config.secret(environ)
        if not url:
            raise ValueError(f"channel {name}: no webhook URL (set ${config.webhook_url_env} "
                             "or webhook_url:)")
        self._url = url
        _REDACT.secrets.add(url)
        # Built once: httpx builds a context per call otherwise (loading the CA bundle,
        # ~35 ms of CPU a message), which queued alerts of a burst wait for in turn.
        self._tls = httpx.create_ssl_context()

    def send(self, alert: Alert) -> None:
        self.post(build_payload(alert, self.map_url))

    def send_digest(self, alerts: Sequence[Alert], start: datetime, end: datetime) -> None:
        self.post(build_digest_payload(alerts, start, end, self.map_url))

    def post(self, payload: dict[str, Any]) -> None:
        try:
            response = httpx.post(self._url, json=payload, timeout=self.config.timeout_seconds,
                                  follow_redirects=False, verify=self._tls)
        except httpx.HTTPError as exc:
            # Not str(exc) alone: some httpx errors quote the request URL.
            reason = str(exc).replace(self._url, "<webhook>")
            raise DeliveryError(f"Slack webhook: {type(exc).__name__}: {reason}") from exc
        if response.status_code != 200:
            retry_after = response.headers.get("Retry-After")
            raise DeliveryError(
                f"Slack webhook: HTTP {response.status_code}: {response.text[:200]}",
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None)
        log.info("channel %s: sent", self.name)
