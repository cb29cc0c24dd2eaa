"""Run a child process, read its JSON lines, and watch its memory.

Peak memory is measured two ways: ``ru_maxrss`` of the child itself (from ``wait4``)
and the peak of the summed RSS of its whole process tree, sampled every 0.2 s (a Beam
job on Prism runs a Go runner and SDK worker processes beside the Python driver).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class TreeSampler:
    """Peak and timeline of the summed RSS of a process and its descendants."""

    pid: int
    every: float = 0.2
    peak_mb: float = 0.0
    # Proportional set size: a page shared by n processes (a forked helper's gazetteer)
    # counts 1/n in each, so the sum is the memory the tree really holds.
    peak_pss_mb: float = 0.0
    timeline: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._run, name=f"rss-{self.pid}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)

    def sample(self) -> float:
        return self.sample_both()[0]

    def sample_both(self) -> tuple[float, float]:
        """Summed RSS and PSS of the tree, MB."""
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0, 0.0
        rss = pss = 0
        for proc in procs:
            try:
                info = proc.memory_full_info()
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
        return rss / 2**20, pss / 2**20

    def _run(self) -> None:
        start = time.monotonic()
        while not self._stop.wait(self.every):
            mb, pss = self.sample_both()
            self.peak_mb = max(self.peak_mb, mb)
            self.peak_pss_mb = max(self.peak_pss_mb, pss)
            self.timeline.append((round(time.monotonic() - start, 2), round(mb, 1)))


@dataclass(frozen=True)
class ChildRun:
    records: list[dict]
    seconds: float
    maxrss_mb: float  # of the child process itself (wait4)
    tree_peak_mb: float  # of the child and its descendants (sampled)
    tree_peak_pss_mb: float  # the same, shared pages counted once
    timeline: list[tuple[float, float]]
    returncode: int
    stderr_tail: str


def run_child(args: Sequence[str], env: dict[str, str] | None = None,
              timeout: float = 3600.0, cwd: Path = ROOT) -> ChildRun:
    """``python -m bench.child ARGS…`` (or ``ARGS`` when it starts with a path) to the end,
    in ``cwd`` (another checkout's code runs in the same way from its own folder)."""
    cmd = list(args) if args and os.path.sep in args[0] else [sys.executable, "-m", "bench.child", *args]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})
    sampler = TreeSampler(proc.pid).start()
    err: list[str] = []
    drain = threading.Thread(target=lambda: err.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    drain.start()
    records = []
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{"):
            records.append(json.loads(line))
        if time.monotonic() - start > timeout:
            proc.kill()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - start
    sampler.stop()
    drain.join(timeout=2)
    proc.stdout.close()
    if proc.stderr is not None:
        proc.stderr.close()
    return ChildRun(records, seconds, usage.ru_maxrss / 1024, sampler.peak_mb, sampler.peak_pss_mb,
                    sampler.timeline,
                    proc.returncode, "".join(err[-20:]))
