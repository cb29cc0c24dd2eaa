"""The benchmark harness: build the corpus, run each measurement several times, print
medians and ratios, write the results JSON. See docs/benchmarks.md.

    .venv/bin/python -m bench run [--quick] [--only extraction,nlp,embedded,scaling,longrun,streaming]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bench import corpus
from bench.procs import ROOT, ChildRun, run_child

MEASUREMENTS = ("extraction", "nlp", "embedded", "scaling", "longrun", "streaming")
RESULTS_DIR = ROOT / ".cache" / "bench"
FEED_ITEMS = 50  # items per feed, as news feeds carry 20–100
WARM_UP = 10  # pages of the warm-up round (round 0, not timed)


@dataclass(frozen=True)
class Plan:
    pages: int  # the 1x corpus
    repeats: int
    rounds: int  # of the embedded measurement
    scales: tuple[int, ...]
    longrun_rounds: int
    nlp_articles: int
    profile: Path | None = None  # pyinstrument text of the embedded run's timed rounds
    baseline: Path | None = None  # another checkout: its embedded service interleaved with ours, its notifier beside ours
    gap_seconds: float = 1.0  # session gap of the streaming job
    conflict_share: float = 0.2  # of the pages: the rest is ordinary world news (bench/corpus.py)


def plan(quick: bool, args: argparse.Namespace) -> Plan:
    base = 76  # the devset's 71 real articles and the 5 seeds
    if quick:
        return Plan(pages=args.pages or 2, repeats=args.repeats or 1, rounds=1, scales=(1,),
                    longrun_rounds=2, nlp_articles=20, profile=args.profile,
                    baseline=args.baseline, gap_seconds=args.gap_seconds, conflict_share=args.conflict_share)
    scales = tuple(int(s) for s in args.scales.split(",")) if args.scales else (1, 10, 100)
    return Plan(pages=args.pages or base, repeats=args.repeats or 5, rounds=args.repeats or 5,
                scales=scales, longrun_rounds=args.longrun_rounds, nlp_articles=300,
                profile=args.profile, baseline=args.baseline, gap_seconds=args.gap_seconds,
                conflict_share=args.conflict_share)


def _pages(count: int, start: int, conflict_share: float = 1.0) -> list[corpus.Page]:
    """Pages ``start`` … of the corpus; ``conflict_share`` < 1 mixes in ordinary world news
    (when its texts exist)."""
    texts = corpus.variants(corpus.real_texts(), count, start=start, world=corpus.world_texts(),
                            conflict_share=conflict_share)
    return [corpus.page(t, start + i) for i, t in enumerate(texts)]


# --- measurements --------------------------------------------------------------

def extraction(p: Plan, site: corpus.Site) -> dict:
    from bench.extraction import measure
    pages = _pages(p.pages, 0, p.conflict_share)
    urls = site.add_pages(pages)
    return measure(urls, [pg.body.decode("utf-8") for pg in pages], p.repeats)


def nlp(p: Plan, site: corpus.Site) -> dict:
    if not corpus.DEVSET.exists():
        return {"skipped": f"{corpus.DEVSET} missing: bench/nlp.py draws its mix from it"}
    child = run_child(["nlp", str(p.nlp_articles), str(p.repeats)])
    check(child, "nlp")
    rates: dict[str, list[float]] = {}
    for rec in child.records:
        if "mode" in rec:
            rates.setdefault(rec["mode"], []).append(rec["rate"])
    return {"articles": p.nlp_articles, "rates": rates, "maxrss_mb": child.maxrss_mb}


def service_config(site: corpus.Site, batches: Sequence[Sequence[corpus.Page]], workdir: Path,
                   start: int, **extra: object) -> Path:
    """A service config over new feeds that serve a warm-up batch, then ``batches`` in turn."""
    size = max(len(b) for b in batches)
    nfeeds = max(1, math.ceil(size / FEED_ITEMS))
    feed_base = site.feeds
    warm = corpus.split(_pages(WARM_UP, 10**7 + start), nfeeds)
    per_feed: list[list[list[corpus.Page]]] = [[w] for w in warm]
    for batch in batches:
        for j, part in enumerate(corpus.split(batch, nfeeds)):
            per_feed[j].append(part)
    urls = [site.add_feed(feed_base + j, b) for j, b in enumerate(per_feed)]
    config = {
        "feeds": [{"url": u} for u in urls], "interval_seconds": 0.01,
        "store": str(workdir / "store.db"), "out_dir": str(workdir / "out"),
        "allowed_networks": ["127.0.0.0/8"], "log_format": "text",
        "schedule": {"jitter": 0, "min_interval_seconds": 0.01},
        # One local host serves every feed: the per-host politeness delay would measure
        # the delay, not the pipeline.
        "politeness": {"workers": 8, "per_host": 8, "host_delay_seconds": 0},
        "ops": {"enabled": False}, **extra,
    }
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return workdir / "config.yaml"


def service_run(site: corpus.Site, batches: Sequence[int], workdir: Path, start: int, conflict_share: float,
                profile: Path | None = None, tree: Path | None = None) -> ChildRun:
    """The service, one round per batch size (after a warm-up round), on fresh feeds and
    store; ``tree``: the service of another checkout (its ``bench.child``, same venv)."""
    pages, offset = [], start
    for n in batches:
        pages.append(_pages(n, offset, conflict_share))
        offset += n
    config = service_config(site, pages, workdir, start)
    env = {"BENCH_PROFILE": str(profile)} if profile else None
    args = ["service", str(config), str(len(batches))]
    if tree is None:
        child = run_child(args, env=env)
    else:
        child = run_child([sys.executable, "-m", "bench.child", *args], env=env, cwd=tree.resolve())
    check(child, "service")
    return child


def _rounds(child: ChildRun) -> list[dict]:
    """The timed rounds that read pages. A round whose feeds showed nothing new (a poll
    the schedule put off) measures no work: it is left out, and counted by ``_idle``."""
    return [r for r in child.records if r.get("round", 0) >= 1 and r.get("new", 0)]


def _timed(child: ChildRun) -> list[dict]:
    """Every timed round's record, whether it read pages or not."""
    return [r for r in child.records if r.get("round", 0) >= 1 and "seconds" in r]


def _idle(child: ChildRun) -> int:
    return sum(1 for r in _timed(child) if not r.get("new", 0))


def _rate(rec: dict) -> float:
    return rec.get("new", 0) / rec["seconds"] if rec["seconds"] else 0.0


def _sustained(child: ChildRun) -> float:
    """Pages over the time from the first timed round's start to the last one's end. The
    measure of a service whose rounds overlap (a round read while the one before is
    analysed: a round's own ``seconds`` then counts time it shares); for rounds one after
    the other it also counts the waits between rounds, which are short here (the feeds
    are due every 10 ms). A child of a checkout without ``started`` gives ``ended - seconds``."""
    timed = _timed(child)
    if not timed:
        return 0.0
    start = min(r.get("started", r["ended"] - r["seconds"]) for r in timed)
    wall = max(r["ended"] for r in timed) - start
    return sum(r.get("new", 0) for r in timed) / wall if wall > 0 else 0.0


def _steady(child: ChildRun) -> float:
    """The sustained rate without the first timed round: the pages of rounds 2… over the
    time from round 1's end to the last one's end. Round 1 is the first to meet costs
    paid once per helper process (dateparser's locales: docs/benchmarks.md), in every
    checkout alike, and nothing overlaps its reading."""
    timed = sorted(_timed(child), key=lambda r: r["round"])
    if len(timed) < 2:
        return 0.0
    wall = timed[-1]["ended"] - timed[0]["ended"]
    return sum(r.get("new", 0) for r in timed[1:]) / wall if wall > 0 else 0.0


def compare(p: Plan, site: corpus.Site, workdir: Path) -> dict:
    """The embedded service of ``p.baseline`` and ours, in interleaved children (which goes
    first alternates), each over ``p.rounds`` new rounds of ``p.pages``: before/after
    measured side by side on a machine whose load changes."""
    assert p.baseline is not None
    out: dict[str, dict[str, list]] = {
        k: {"rates": [], "sustained": [], "steady": [], "records": [], "maxrss_mb": [], "tree_peak_mb": [], "tree_peak_pss_mb": [],
            "idle_rounds": []}
        for k in ("baseline", "current")}
    for pair in range(p.repeats):
        order = ("baseline", "current") if pair % 2 == 0 else ("current", "baseline")
        for k, which in enumerate(order):
            child = service_run(site, [p.pages] * p.rounds, workdir / f"ab-{pair}-{which}",
                                conflict_share=p.conflict_share, start=3 * 10**6 + (2 * pair + k) * 10**4,
                                tree=p.baseline if which == "baseline" else None)
            out[which]["rates"] += [_rate(r) for r in _rounds(child)]
            out[which]["sustained"].append(_sustained(child))
            out[which]["steady"].append(_steady(child))
            out[which]["records"].append([r for r in child.records if "round" in r])
            out[which]["idle_rounds"].append(_idle(child))
            out[which]["maxrss_mb"].append(child.maxrss_mb)
            out[which]["tree_peak_mb"].append(child.tree_peak_mb)
            out[which]["tree_peak_pss_mb"].append(child.tree_peak_pss_mb)
    return {"baseline_tree": str(p.baseline), "pairs": p.repeats, **out}


def embedded(p: Plan, site: corpus.Site, workdir: Path) -> dict:
    if p.baseline is not None:
        return {"batch": p.pages, "compare": compare(p, site, workdir)}
    child = service_run(site, [p.pages] * p.rounds, workdir / "embedded", start=0,
                        conflict_share=p.conflict_share, profile=p.profile)
    rounds = _rounds(child)
    return {"profile": str(p.profile) if p.profile else None, "batch": p.pages,
            "rates": [_rate(r) for r in rounds], "sustained": _sustained(child), "steady": _steady(child),
            "rounds": rounds,
            "idle_rounds": _idle(child),
            "maxrss_mb": child.maxrss_mb, "tree_peak_mb": child.tree_peak_mb,
            "tree_peak_pss_mb": child.tree_peak_pss_mb}


def scaling(p: Plan, site: corpus.Site, workdir: Path) -> dict:
    out = {}
    for scale in p.scales:
        n = p.pages * scale
        child = service_run(site, [n], workdir / f"scale{scale}", start=10**6 * scale,
                            conflict_share=p.conflict_share)
        rec = _rounds(child)[0]
        out[str(scale)] = {"articles_in": n, "rate": _rate(rec), "round": rec,
                           "maxrss_mb": child.maxrss_mb, "tree_peak_mb": child.tree_peak_mb,
                           "tree_peak_pss_mb": child.tree_peak_pss_mb}
    return out


def longrun(p: Plan, site: corpus.Site, workdir: Path) -> dict:
    child = service_run(site, [p.pages] * p.longrun_rounds, workdir / "longrun", start=5 * 10**6,
                        conflict_share=p.conflict_share)
    rounds = _rounds(child)
    return {"batch": p.pages, "rounds": len(rounds), "rss_mb": [r["rss_mb"] for r in rounds],
            "rates": [_rate(r) for r in rounds], "maxrss_mb": child.maxrss_mb,
            "timeline": child.timeline[:: max(1, len(child.timeline) // 200)]}


def streaming(p: Plan, site: corpus.Site, workdir: Path) -> dict:
    from bench.streaming import measure
    return measure(p, site, workdir)


def check(child: ChildRun, what: str) -> None:
    if child.returncode != 0:
        raise RuntimeError(f"bench child {what} exited {child.returncode}: {child.stderr_tail[-2000:]}")


# --- report --------------------------------------------------------------------

def _med(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(results: dict) -> list[str]:
    lines = ["measurement                                   median      ratio / note"]
    share = results.get("plan", {}).get("conflict_share", 1.0)
    if share < 1 and corpus.WORLDNEWS.exists():
        lines.insert(0, f"pages (1, 3, 5, 6): {share:.0%} conflict articles, the rest ordinary world news "
                        f"(--conflict-share 1 for conflict only)")

    def row(name: str, value: str, note: str = "") -> None:
        lines.append(f"{name:45} {value:>11}  {note}")

    def rates(prefix: str, sustained: float, steady: float, per_round: float, lead: str, per_round_note: str,
              target: str = "") -> None:
        """The embedded service's three rates. Rounds overlap (Service.rounds), so the
        sustained rate is the one the targets are checked on; a round's own seconds
        include time shared with the round before."""
        def ratio(value: float, target: str = "") -> str:
            return f"; x{value / floor:.2f} of trafilatura fetch+extract{target}" if floor else ""
        row(f"{prefix}sustained articles/s", f"{sustained:.1f}",
            lead + "pages over the first timed round's start to the last one's end" + ratio(sustained, target))
        row(f"{prefix}steady articles/s", f"{steady:.1f}", "the same from round 1's end: rounds 2... only" + ratio(steady))
        row(f"{prefix}per round articles/s", f"{per_round:.1f}",
            per_round_note + " (overlapping rounds: each counts shared time)")

    ex = results.get("extraction")
    floor = None
    if ex:
        floor = _med(ex["rates"].get("trafilatura", {}).get("fetch+extract", []))
        for view in ("fetch+extract", "extract"):
            base = _med(ex["rates"].get("trafilatura", {}).get(view, []))
            for tool, r in ex["rates"].items():
                m = _med(r[view])
                row(f"1 {view} pages/s: {tool}", f"{m:.1f}",
                    f"x{m / base:.2f} of trafilatura; {ex['extracted'].get(tool, 0)}/{ex['pages']} extracted")
        for tool, why in ex["missing"].items():
            row(f"1 {tool}", "n/a", f"not installed: {why}")
    nl = results.get("nlp")
    if nl:
        if "skipped" in nl:
            row("2 NLP articles/s per core", "n/a", nl["skipped"])
        else:
            for mode, r in nl["rates"].items():
                row(f"2 NLP articles/s per core ({mode})", f"{_med(r):.1f}", f"{nl['articles']} articles")
    em = results.get("embedded")
    if em and "compare" in em:
        for which, ab in ((w, em["compare"][w]) for w in ("baseline", "current")):
            m = _med(ab["rates"])
            note = f"{len(ab['rates'])} rounds of {em['batch']}, {em['compare']['pairs']} children"
            if sum(ab.get("idle_rounds", [])):
                note += f" ({sum(ab['idle_rounds'])} rounds that read nothing left out)"
            rates(f"3 embedded A/B, {which}: ", _med(ab.get("sustained", [])), _med(ab.get("steady", [])), m,
                  f"median of {em['compare']['pairs']} children: ", note)
            row(f"5 embedded A/B, {which}: peak RSS MB", f"{max(ab['maxrss_mb']):.0f}",
                f"process tree RSS {max(ab['tree_peak_mb']):.0f} MB, "
                f"PSS {max(ab['tree_peak_pss_mb']):.0f} MB")
    elif em:
        note = f"{len(em['rates'])} rounds of {em['batch']}"
        if em.get("idle_rounds"):
            note += f" ({em['idle_rounds']} rounds that read nothing left out)"
        rates("3 embedded service, ", em["sustained"], em["steady"], _med(em["rates"]), f"target >= 25; {note}; ",
              "median of the rounds' own rates", " (target >= 0.5)")
        row("5 service peak RSS MB (embedded run)", f"{em['maxrss_mb']:.0f}",
            f"target <= 1536; process tree (with tagging helpers) RSS {em['tree_peak_mb']:.0f}, "
            f"PSS {em['tree_peak_pss_mb']:.0f} MB")
    for scale, s in (results.get("scaling") or {}).items():
        row(f"6 {scale}x corpus in one round: articles/s", f"{s['rate']:.1f}",
            f"{s['articles_in']} pages offered, {s['round'].get('new', 0)} read (the cap); "
            f"peak RSS {s['maxrss_mb']:.0f} MB; tree PSS "
            f"{s.get('tree_peak_pss_mb', 0):.0f} MB")
    lr = results.get("longrun")
    if lr and lr["rss_mb"]:
        rss = lr["rss_mb"]
        row(f"5/6 long run: RSS after round 1 / {lr['rounds']}", f"{rss[0]:.0f}/{rss[-1]:.0f}",
            f"MB; {lr['rounds'] * lr['batch']} pages; rate first/last "
            f"{lr['rates'][0]:.1f}/{lr['rates'][-1]:.1f} articles/s")
    st = results.get("streaming")
    if st:
        if "skipped" in st:
            row("4 Kafka + Elasticsearch", "n/a", st["skipped"])
        else:
            row("4 streaming sustained articles/s", f"{st['rate']:.1f}", st.get("note", ""))
            lat = st["latency_s"]
            row("4 fetch-to-Slack latency p50/p95/p99 s", f"{lat['p50']:.2f}/{lat['p95']:.2f}/{lat['p99']:.2f}",
                "target p95 <= 2 s; " + st.get("latency_note", ""))
            for which, sl in st.get("slack", {}).items():
                a, b = sl["latency_s"], sl["notify_leg_s"]
                row(f"4 notifier {which}: to Slack p50/p95 s", f"{a['p50']:.2f}/{a['p95']:.2f}",
                    f"{a['n']} messages; alerts topic -> Slack p50/p95 {b['p50']:.2f}/{b['p95']:.2f} s")
            row("5 Beam job peak RSS MB (tree)", f"{st['job_peak_mb']:.0f}", "")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the measurements and print the table")
    run.add_argument("--quick", action="store_true", help="2 pages, 1 repeat: a smoke run")
    run.add_argument("--only", help=f"comma-separated: {','.join(MEASUREMENTS)}")
    run.add_argument("--pages", type=int, help="pages of the 1x corpus (default 76: the real articles)")
    run.add_argument("--repeats", type=int, help="runs per measurement (default 5)")
    run.add_argument("--scales", help="corpus multiples for measurement 6 (default 1,10,100)")
    run.add_argument("--longrun-rounds", type=int, default=30, help="service rounds of the long run")
    run.add_argument("--profile", type=Path, help="write a pyinstrument profile of the embedded run here")
    run.add_argument("--baseline", type=Path,
                     help="another checkout: measure its embedded service against ours, interleaved")
    run.add_argument("--gap-seconds", type=float, default=1.0,
                     help="session gap of the streaming job (measurement 4; default 1)")
    run.add_argument("--conflict-share", type=float, default=0.2,
                     help="share of conflict articles among the pages (default 0.2; the rest is the "
                          "world-news mix; 1: conflict articles only, the worst case)")
    run.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the results JSON")
    args = parser.parse_args(argv)
    only = args.only.split(",") if args.only else [m for m in MEASUREMENTS if m != "streaming" or not args.quick]
    unknown = set(only) - set(MEASUREMENTS)
    if unknown:
        parser.error(f"--only: unknown measurement(s): {', '.join(sorted(unknown))}")
    p = plan(args.quick, args)
    steps: dict[str, Callable[..., dict]] = {
        "extraction": extraction, "nlp": nlp, "embedded": embedded, "scaling": scaling,
        "longrun": longrun, "streaming": streaming}
    results: dict = {"started": datetime.now(UTC).isoformat(), "plan": p.__dict__,
                     "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                 "load_avg_start": os.getloadavg()}}
    with corpus.serve() as site, tempfile.TemporaryDirectory(prefix="newswatch-bench-") as tmp:
        for name in MEASUREMENTS:
            if name not in only:
                continue
            start = time.monotonic()
            fn = steps[name]
            results[name] = fn(p, site) if name in ("extraction", "nlp") else fn(p, site, Path(tmp))
            print(f"done: {name} in {time.monotonic() - start:.0f}s", flush=True)
    results["machine"]["load_avg_end"] = os.getloadavg()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"results-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    print("\n".join(table(results)))
    print(f"results: {path}  (shared machine: numbers are noisy; compare ratios from one run)")
    return 0
