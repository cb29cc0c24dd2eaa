"""A capped round: the service reads at most ``embedded.max_entries_per_round`` new
entries, and the rest in the rounds right after, none missed and none twice."""

import io
import re
from datetime import UTC, datetime

from connectors.service import FeedConfig, Service, ServiceConfig
from connectors.service_settings import EmbeddedConfig, OpsConfig, PolitenessConfig
from tests.connectors.news_site import news_site


def test_entries_beyond_the_cap_wait_for_the_next_round_which_is_due_at_once(server, tmp_path):
    feed = news_site(server)  # the five seeds
    out = io.StringIO()
    config = ServiceConfig(feeds=(FeedConfig(url=feed),), store=tmp_path / "nw.db",
                           out_dir=tmp_path / "out", allowed_networks=("127.0.0.0/8",),
                           ops=OpsConfig(port=0), politeness=PolitenessConfig(host_delay_seconds=0),
                           embedded=EmbeddedConfig(max_entries_per_round=2, helper_processes=0))
    svc = Service(config, out=out)
    for _ in range(4):  # the fourth finds nothing due and nothing new
        before = svc.store.schedule(feed)
        svc.run(once=True)
        rounds = re.findall(r"round: new=(\d+)", out.getvalue())
        if rounds and rounds[-1] == "2" and before != svc.store.schedule(feed):
            schedule = svc.store.schedule(feed)  # capped: the feed is due again at once
            assert schedule is not None and schedule.next_poll <= datetime.now(UTC)
    assert rounds == ["2", "2", "1"]
    pages = [r.path for r in server.requests if r.path.startswith("/news/")]
    assert len(pages) == len(set(pages)) == 5
    assert "ALERT" in out.getvalue()
