"""The scheduling and operations sections of the service config
(``schedule:``, ``fetch:``, ``politeness:``, ``ops:``, ``websub:``, ``embedded:``), and their environment
overrides ``NEWSWATCH_<SECTION>__<KEY>`` (two underscores), for example
``NEWSWATCH_OPS__PORT=9000``. docs/operations.md lists every key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.schedule import SchedulePolicy


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScheduleConfig(_Section):
    min_interval_seconds: float | None = Field(
        default=None, gt=0, description="Shortest wait between polls of a feed "
        "(default: 60, or interval_seconds if that is shorter)")
    max_interval_seconds: float | None = Field(
        default=None, gt=0, description="Longest wait (default: 3600, or interval_seconds if longer)")
    jitter: float = Field(default=0.1, ge=0, lt=1, description="± fraction added to each wait")
    failing_after: int = Field(default=5, ge=1,
                               description="Failures in a row before a feed is reported as failing")
    backoff_max_seconds: float = Field(default=6 * 3600, gt=0,
                                       description="Longest backoff; a failing feed's retry period")

    def policy(self, interval: float) -> SchedulePolicy:
        low = self.min_interval_seconds or min(60.0, interval)
        high = self.max_interval_seconds or max(3600.0, interval)
        return SchedulePolicy(initial_interval=min(max(interval, low), high), min_interval=low,
                              max_interval=high, jitter=self.jitter,
                              failing_after=self.failing_after,
                              backoff_max=max(self.backoff_max_seconds, low))

    @model_validator(mode="after")
    def _bounds(self) -> ScheduleConfig:
        low, high = self.min_interval_seconds, self.max_interval_seconds
        if low is not None and high is not None and low > high:
            raise ValueError("min_interval_seconds is greater than max_interval_seconds")
        return self


class FetchConfig(_Section):
    connect_timeout_seconds: float = Field(default=5.0, gt=0)
    read_timeout_seconds: float = Field(default=10.0, gt=0, description="Per read")
    total_timeout_seconds: float = Field(default=30.0, gt=0,
                                         description="Whole fetch: stops servers that trickle bytes")
    max_bytes: int = Field(default=5 * 1024 * 1024, gt=0, description="Per response, after gzip")
    max_redirects: int = Field(default=5, ge=0)


class PolitenessConfig(_Section):
    workers: int = Field(default=8, ge=1, le=64, description="Fetch threads")
    per_host: int = Field(default=2, ge=1, description="Concurrent requests to one host")
    host_delay_seconds: float = Field(default=1.0, ge=0,
                                      description="Least time between request starts to one host")
    robots_ttl_seconds: float = Field(default=3600, gt=0, description="How long robots.txt is cached")


class OpsConfig(_Section):
    enabled: bool = True
    host: str = Field(default="127.0.0.1", description="Address to bind, IPv4 or IPv6 (\"::1\"); loopback by default")
    port: int = Field(default=9464, ge=0, le=65535, description="0: any free port")
    stall_after_seconds: float = Field(
        default=1800, gt=0, description="/healthz fails when the loop has not beaten for this long")


class WebSubConfig(_Section):
    public_url: str | None = Field(
        default=None, pattern=r"^https?://",
        description="Base URL at which hubs reach the ops port (via your proxy); unset: no WebSub")
    secret_env: str = Field(default="NEWSWATCH_WEBSUB_SECRET",
                            description="Environment variable holding the master secret")
    lease_seconds: int = Field(default=864000, ge=60)

    def secret(self, environ: Mapping[str, str] | None = None) -> str | None:
        return (os.environ if environ is None else environ).get(self.secret_env) or None


class EmbeddedConfig(_Section):
    """How the service analyses a round itself (no Kafka): docs/benchmarks.md measures these."""

    helper_processes: int = Field(
        default=2, ge=0, le=16, description="Processes that turn pages into text and tag a round's "
        "articles beside the pipeline (forked once, sharing the gazetteer and spaCy; ~80 MB of their "
        "own each); 0: none, all in the service's process")
    overlap_rounds: bool = Field(
        default=True, description="Read the next round's pages while this round's pipeline runs "
        "(two rounds in flight; the pipelines still run one at a time, in order)")
    max_entries_per_round: int = Field(
        default=1000, ge=1, description="Most new entries read and analysed in one round; the "
        "rest wait for the next round, which starts at once (a round's memory grows with its size)")


SECTIONS = ("schedule", "fetch", "politeness", "ops", "websub", "embedded")


def env_overrides(data: dict[str, Any], environ: Mapping[str, str], prefix: str) -> list[str]:
    """Put ``{prefix}{SECTION}__{KEY}`` values into ``data``; return the variables used."""
    used = []
    for name, value in sorted(environ.items()):
        if not name.startswith(prefix) or "__" not in name or not value:
            continue
        section, _, key = name[len(prefix):].lower().partition("__")
        if section in SECTIONS and key:
            current = data.get(section)
            data[section] = {**(current if isinstance(current, dict) else {}), key: value}
            used.append(name)
    return used
