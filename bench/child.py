"""What runs inside a measured child process, so that its memory is its own.

    python -m bench.child service CONFIG.yaml ROUNDS   # the always-on service, ROUNDS rounds
    python -m bench.child nlp ARTICLES ROUNDS          # bench.nlp's two modes

Each prints one JSON object per line; the parent (bench.run) reads them.
The service child runs round 0 as a warm-up (imports, gazetteer, spaCy, Beam), then
ROUNDS timed rounds; each round polls every feed once, so the site serves one new batch.
In the embedded mode the timed rounds overlap as in the service (``Service.rounds``: a
round is read while the one before is analysed), so a round's ``seconds`` (reading
started → stored) is no longer its share of the time: the harness takes the sustained
rate, the rounds' pages over the time from the first one's start to the last one's end.
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

import psutil


def _rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def _emit(**record: object) -> None:
    print(json.dumps(record), flush=True)


def service(config_path: str, rounds: int) -> None:
    from connectors.http import Fetcher
    from connectors.service import Service, load_config

    out = io.StringIO()
    svc = Service(load_config(Path(config_path)), out=out)
    profile = os.environ.get("BENCH_PROFILE")  # a path: pyinstrument over the timed rounds
    profiler = None
    pause = float(os.environ.get("BENCH_ROUND_PAUSE", "0"))  # seconds between rounds
    # The embedded service reads a round while the one before is analysed (Service.rounds):
    # its timed rounds run as the service runs them, and each record says when its reading
    # started and when it was stored; the harness measures the sustained rate over them.
    overlap = svc.config.kafka is None and svc.config.embedded.overlap_rounds and not pause
    with Fetcher(svc.ops.fetch_settings()) as fetcher, svc.ops.running():
        for r in range(1 if overlap else rounds + 1):
            if profile and r == 1:
                from pyinstrument import Profiler
                profiler = Profiler(interval=0.005)
                profiler.start()
            if pause and r:
                time.sleep(pause)
            if r:
                svc.ops.sleep()  # as the service does: until a feed is due (not timed)
            out.seek(0)
            out.truncate()  # this round's summary only: a round that reads nothing prints none
            start, started = time.perf_counter(), time.time()
            new = svc.round(fetcher)
            seconds = time.perf_counter() - start
            line = (out.getvalue().strip().splitlines() or [""])[-1]
            counts = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
            _emit(**{**counts, "round": r, "seconds": seconds, "announced": len(new), "rss_mb": _rss_mb(),
                     "started": started, "ended": time.time()})
        if overlap and rounds:
            if profile:
                from pyinstrument import Profiler
                profiler = Profiler(interval=0.005)  # this thread only: the reading, not the pipeline
                profiler.start()
            svc.ops.sleep()
            done = 0

            def record(batch, alerts) -> None:  # type: ignore[no-untyped-def]
                nonlocal done
                done += 1
                ended = time.time()
                _emit(new=len(batch.raw), failed=len(batch.failures), round=done,
                      seconds=ended - batch.started, announced=len(alerts), rss_mb=_rss_mb(),
                      started=batch.started, ended=ended, overlapped=True)

            svc.rounds(fetcher, rounds, record)
    if profiler is not None:
        profiler.stop()
        Path(profile).write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    _emit(done=True, maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def nlp(articles: int, rounds: int) -> None:
    from bench import nlp as nlp_bench  # issue 4's measurement, called as it is

    mix = nlp_bench.load_mix(articles, 0.2)
    modes = {"triggered": nlp_bench.triggered, "full": nlp_bench.make_full()}
    for fn in modes.values():
        nlp_bench.rate(fn, mix[:20])  # warm-up
    for r in range(rounds):
        for name, fn in modes.items():
            _emit(round=r, mode=name, rate=nlp_bench.rate(fn, mix), rss_mb=_rss_mb())
    _emit(done=True, articles=len(mix), maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main(argv: list[str]) -> int:
    what, first, rounds = argv
    if what == "service":
        service(first, int(rounds))
    elif what == "nlp":
        nlp(int(first), int(rounds))
    else:
        raise SystemExit(f"bench.child: unknown measurement {what}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
