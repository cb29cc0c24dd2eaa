"""The embedded pipeline: in-memory input in, JSONL files and the SQLite
store out, on the FnApiRunner the DirectRunner would pick (other runners through
``beam_args``). No servers.

The analysis is ``AnalyzeNews``, the same composite the streaming job runs;
only the sources and sinks here are particular to this mode.

Made for the service's rounds (docs/benchmarks.md): the graph is built and translated
for the runner once and run again for each batch (read from a file in the output
folder), the outputs are written by a plain DoFn where they are made (no
``WriteToText``, no Flatten: each is stages rebuilt every run), and ``TagAhead``
helper processes tag the articles on a second core while the pages are read and the
pipeline runs.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import heapq
import json
import logging
import multiprocessing
import pickle
import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.portability.api import beam_provision_api_pb2, beam_runner_api_pb2
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.runners.portability.fn_api_runner.fn_runner import (
    ExtendedProvisionInfo,
    RunnerResult,
)
from apache_beam.runners.portability.portable_runner import JobServiceHandle

from connectors.store_sink import WriteToStore
from pipelines import dedup, entities
from pipelines.normalize import NormalizeError, normalize
from pipelines.rules import Rule
from pipelines.transforms import AnalyzeNews
from schemas import Alert, Article, Entity, Failure, RawDocument

log = logging.getLogger(__name__)
_T = TypeVar("_T")

OUTPUTS = ("articles", "events", "alerts", "failures")


@dataclass(frozen=True)
class RunResult:
    """What a run wrote, counted from its output files."""

    out_dir: Path
    articles: int
    duplicates: int
    events: int
    alerts: list[Alert]
    failures: list[Failure]


class _WriteJsonl(beam.DoFn):
    """Each bundle's records as JSON lines in a part file of its own; ``run`` joins the
    parts of an output in the order of their ``rank``, then of their names. ``WriteToText``
    costs three stages and a finalize step per output, a quarter of a small run's CPU
    (docs/benchmarks.md)."""

    def __init__(self, parts: str, name: str, rank: str) -> None:
        self.parts, self.name, self.rank = parts, name, rank
        self.lines: list[str] = []

    def start_bundle(self) -> None:
        self.lines = []

    def process(self, record):  # type: ignore[no-untyped-def]
        self.lines.append(record.model_dump_json())
        return []

    def finish_bundle(self) -> None:
        if self.lines:
            part = Path(self.parts) / f"{self.name}-{self.rank}-{uuid.uuid4().hex}.jsonl"
            part.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
            self.lines = []


def _write_jsonl(pcoll: beam.PCollection, parts: Path, name: str, rank: int = 0, label: str = "") -> None:
    _ = pcoll | f"Write{label or name.title()}" >> beam.ParDo(_WriteJsonl(str(parts), name, str(rank)))


def _join_parts(out_dir: Path, parts: Path) -> None:
    """``out_dir/<output>.jsonl`` from the bundles' part files (empty when none)."""
    for name in OUTPUTS:
        with (out_dir / f"{name}.jsonl").open("w", encoding="utf-8") as out:
            for part in sorted(parts.glob(f"{name}-*.jsonl")):
                out.write(part.read_text(encoding="utf-8"))
                part.unlink()


# Who took a submitted article (a slot per submission, reused round after round): a
# helper claims it when it starts on it, the pipeline when it reaches it first.
_FREE, _HELPER, _PIPELINE = 0, 1, 2
_SLOTS = 1 << 14
_claims: Any = None  # in a helper: the shared claim flags (``_init_helper``)


def _init_helper(claims: Any) -> None:
    global _claims
    _claims = claims


def _claim(claims: Any, slot: int, who: int) -> bool:
    """Take ``slot`` for ``who`` unless someone has it already."""
    with claims.get_lock():
        if claims[slot] != _FREE:
            return False
        claims[slot] = who
        return True


def _text_key(article: Article) -> bytes:
    """The text TagEntities reads, as a digest: what a helper sends back with its
    entities instead of the text itself (a merged story keeps one copy's title and text)."""
    return hashlib.blake2b(entities.full_text(article).encode("utf-8"), digest_size=16).digest()


def _tag_raw(raw: RawDocument, slot: int) -> tuple[bytes, list[Entity]] | None:
    """In a helper process: what TagEntities will find for ``raw`` once normalised,
    keyed by the text it reads; None when the pipeline took it first."""
    if _claims is not None and not _claim(_claims, slot, _HELPER):
        return None
    entities._ahead = None  # a helper computes; it never asks another helper
    try:
        article = normalize(raw)
    except NormalizeError:
        return None  # the pipeline reports it
    return _text_key(article), entities.tag_entities(article)


def _resolve(future: Future, result: Any, exc: BaseException | None = None) -> None:
    """Settle ``future`` unless ``TagAhead.finish`` cancelled it meanwhile."""
    try:
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass  # cancelled: the round is over


@dataclass(frozen=True)
class _Submitted:
    """One article handed to ``TagAhead``: its result, its claim slot, and the round
    (generation) it was read in."""

    future: Future
    slot: int
    generation: int


class TagAhead:
    """Tags a round's articles in ``processes`` helper processes while the pipeline runs
    here, so the NLP stage (most of a round's CPU) uses a second core without changing
    ``AnalyzeNews``: ``TagEntities`` takes a helper's result when there is one, waits for
    it when a helper is computing it, and computes it itself when no helper has started
    it (both take the round from its start, so neither waits long for the other).

    "Started" is a flag in shared memory that a helper sets when it begins an article,
    not the future's state: the executor marks a queued call running before any helper
    picks it up, and waiting for those left this process idle (~0.1–0.2 s a round).

    Two rounds may be in flight (``connectors.service.Service.rounds``): one whose
    pipeline runs and one whose pages are being read. Each submission belongs to the
    *generation* that was current when it was made (``begin`` starts one); ``start``
    and ``finish`` act on one generation only, so a round read while another runs keeps
    its submissions, and the running round's articles go to the helpers first.

    Helpers are forked once, after the gazetteer and spaCy are loaded, so they share
    those pages with this process instead of loading their own: a helper's RSS is
    ~420 MB but its own pages (PSS) ~80 MB (docs/benchmarks.md)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = None
        self.lost = False  # a helper died: forked again only by an explicit ``open``
        self.pending: dict[str, _Submitted] = {}
        self.claims: Any = None
        self.submitted = 0
        self.generation = 0  # that of new submissions (``begin``)
        self.generations = 0  # how many were handed out
        # Tagging waits here while pages are read, at most ``processes`` articles at a
        # time in the helpers, so a page to extract (``call``) never queues behind a
        # round's worth of tagging: the pages are read first, and the pipeline starts
        # while the helpers still tag. Taken in the order of (generation, article id):
        # a running round's articles first, in the order in which TagEntities asks for
        # Deduplicate's stories, so the helpers tag what the pipeline needs next.
        self.queue: list[tuple[int, str, int, RawDocument, int, Future]] = []
        self.running = 0
        # Generations whose pages are all read (``read_all``) or whose pipeline runs
        # (``start``): all their articles go to the helpers at once.
        self.started: set[int] = set()
        self.lock = threading.RLock()  # the pool calls ``_done`` from its own thread

    @property
    def reading(self) -> bool:
        """No pipeline is running: tagging waits for the pages to be read."""
        return not self.started

    def open(self) -> ProcessPoolExecutor:
        """The helpers, forked now if they are not running. Call it from the thread that
        runs the rounds when no other thread of ours is busy (before the reading threads
        need the helpers, and not while a pipeline runs): forking while another thread
        holds a lock copies the lock held. The helpers are started here (the executor
        forks them at its first call), not by whichever thread calls first."""
        if self.pool is None:
            entities.default_gazetteer(), entities.default_actors(), entities.default_nlp()
            if not gc.get_freeze_count():  # once: what is loaded by now lives as long as we do
                gc.freeze()  # the collector would otherwise write to every shared object's page
            fork = multiprocessing.get_context("fork")
            if self.claims is None:
                self.claims = fork.Array("b", _SLOTS)
            self.pool = ProcessPoolExecutor(self.processes, mp_context=fork, initializer=_init_helper,
                                            initargs=(self.claims,))
            self.lost = False
            self.pool.submit(int).result()  # forks every helper now, from this thread
        return self.pool

    def begin(self) -> int:
        """A new generation: the service calls it as a round's reading starts; what is
        submitted from now on belongs to that round."""
        with self.lock:
            live = {s.generation for s in self.pending.values()}
            self.started &= live  # a round that read nothing is never started nor finished
            self.generations += 1
            self.generation = self.generations
            return self.generation

    def read_all(self) -> None:
        """Every page of the current generation is read: no page waits to be extracted
        behind its articles any more, so they may all go to the helpers (the round before
        may still be in its pipeline; its articles were handed over first)."""
        with self.lock:
            self.started.add(self.generation)
        self._feed()

    def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """``fn(*args)`` in a helper, waiting for it; here when no helper runs. The service
        reads pages this way: turning a page into text is most of a reading thread's CPU,
        and the reading threads share this process's one interpreter lock."""
        pool = self.pool
        if pool is None:
            return fn(*args)
        try:
            return pool.submit(fn, *args).result()
        except BrokenProcessPool as exc:
            self._lost(exc)
            return fn(*args)

    def _lost(self, exc: BrokenProcessPool) -> None:
        """A helper died (the OOM killer): this process does the work alone until the
        service opens the helpers again (at the start of its next round)."""
        if self.pool is not None:
            log.warning("tagging helper died: %s; starting a new one next round", exc)
        self.pool, self.lost = None, True

    def submit(self, raw: RawDocument, generation: int | None = None) -> None:
        """Start tagging ``raw`` (the service calls this as each page is read), in the
        current generation unless told which."""
        if raw.doc_id in self.pending:
            return
        if self.pool is None and not self.lost:
            self.open()
        if self.claims is None:
            return  # never opened, none to come: the pipeline tags it
        tagged: Future = Future()
        with self.lock:  # reading threads and, with rounds in flight, the pipeline's thread
            slot = self.submitted % _SLOTS
            self.submitted += 1
            seq = self.submitted
            self.claims[slot] = _FREE
            generation = self.generation if generation is None else generation
            self.pending[raw.doc_id] = _Submitted(tagged, slot, generation)
        try:
            article = normalize(raw)
        except NormalizeError:
            _resolve(tagged, None)  # the pipeline reports it
            return
        with self.lock:
            heapq.heappush(self.queue, (generation, article.id, seq, raw, slot, tagged))
        self._feed()
        dedup.signature(article)  # while the pages are read this process is idle

    def _feed(self) -> None:
        """Hand queued articles to the helpers: all of a running round's; of a round
        being read, only while fewer than ``processes`` are being tagged."""
        with self.lock:
            while self.queue and self.pool is not None and (
                    self.queue[0][0] in self.started or self.running < self.processes):
                _gen, _id, _seq, raw, slot, tagged = heapq.heappop(self.queue)
                if self.claims[slot] != _FREE:  # the pipeline took it, or nobody needs it
                    _resolve(tagged, None)
                    continue
                try:
                    helper = self.pool.submit(_tag_raw, raw, slot)
                except BrokenProcessPool as exc:
                    _resolve(tagged, None, exc)
                    self._lost(exc)
                    continue
                self.running += 1
                helper.add_done_callback(functools.partial(self._done, tagged))

    def _done(self, tagged: Future, helper: Future) -> None:
        with self.lock:
            self.running -= 1
        if helper.cancelled():
            _resolve(tagged, None)
        elif helper.exception() is not None:
            _resolve(tagged, None, helper.exception())  # raised where the pipeline asks for it
        else:
            _resolve(tagged, helper.result())
        self._feed()

    def start(self, raw: Sequence[RawDocument]) -> int:
        """The pipeline starts on ``raw``: its round's articles may all go to the helpers
        (one refilled from this process's thread would wait for the pipeline's interpreter
        lock, leaving a helper idle a few milliseconds each time). Returns the round's
        generation, for ``finish``: that of its submitted articles, else a new one."""
        with self.lock:
            generation = self.generation_of(raw)
            if generation is None:  # none was submitted: a generation of its own
                self.generations += 1
                generation = self.generations
            self.started.add(generation)
        for r in raw:
            self.submit(r, generation)
        self._feed()
        return generation

    def generation_of(self, raw: Sequence[RawDocument]) -> int | None:
        """The generation ``raw``'s articles were submitted in (None: none was)."""
        with self.lock:
            return next((self.pending[r.doc_id].generation for r in raw if r.doc_id in self.pending), None)

    def lookup(self, article: Article) -> list[Entity] | None:
        # A merged story reads its representative's text: the copy at the story's URL.
        # The other copies' tags are never asked for: a helper that has not started
        # them skips them.
        lead = [c.doc_id for c in article.copies if c.url == article.url] or article.doc_ids[:1]
        for doc_id in article.doc_ids:
            if doc_id not in lead and doc_id in self.pending:
                _claim(self.claims, self.pending[doc_id].slot, _PIPELINE)
        submitted = self.pending.get(lead[0])
        if submitted is None:
            return None
        if _claim(self.claims, submitted.slot, _PIPELINE):
            return None  # no helper has started it: computed here, the helper will skip it
        try:
            done = submitted.future.result()
        except BrokenProcessPool as exc:
            self._lost(exc)
            return None
        if done is None or done[0] != _text_key(article):
            return None
        return done[1]

    def finish(self, generation: int | None = None) -> None:
        """The round of ``generation`` is over (every round when None): what a helper has
        not started of it is skipped, and its results are dropped."""
        with self.lock:
            for doc_id, submitted in list(self.pending.items()):
                if generation is None or submitted.generation == generation:
                    _claim(self.claims, submitted.slot, _PIPELINE)  # a helper skips what is queued
                    submitted.future.cancel()
                    del self.pending[doc_id]
            if generation is None:
                self.queue.clear()
                self.started.clear()
            else:
                self.queue = [q for q in self.queue if q[0] != generation]
                heapq.heapify(self.queue)
                self.started.discard(generation)
        self._feed()  # the next round's articles may go to the helpers now

    def close(self) -> None:
        self.finish()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _load(_impulse: bytes, path: str) -> list:
    with open(path, "rb") as handle:
        return pickle.load(handle)  # written by run() just before, in this run's folder


class _TranslateOnce(FnApiRunner):
    """The FnApiRunner, which the DirectRunner picks for this batch graph, keeping the
    graph's runner-API form from the first run: the graph never changes between runs
    (each run reads its batch from the same file), and translating it again (the
    DirectRunner's checks, ``to_runner_api``) cost ~0.1 s of CPU a round."""

    proto: beam_runner_api_pb2.Pipeline | None = None

    def run_via_runner_api(self, pipeline_proto: beam_runner_api_pb2.Pipeline,
                           options: PipelineOptions) -> RunnerResult:
        self.proto = pipeline_proto
        return super().run_via_runner_api(pipeline_proto, options)

    def rerun(self, pipeline: beam.Pipeline) -> RunnerResult:
        if self.proto is None:
            return pipeline.run()
        return self.run_via_runner_api(self.proto, pipeline.options)


def _run(pipeline: beam.Pipeline) -> None:
    if isinstance(pipeline.runner, _TranslateOnce):
        pipeline.runner.rerun(pipeline).wait_until_finish()
    else:
        pipeline.run().wait_until_finish()


def _build(rules: Sequence[Rule], parts: Path, batch: Path, store_path: Path | None,
           beam_args: Sequence[str]) -> beam.Pipeline:
    """The pipeline, reading each run's input from ``batch``/raw.pickle."""
    if beam_args:
        p = beam.Pipeline(options=PipelineOptions(list(beam_args)))
    else:
        options = PipelineOptions([])
        # What the DirectRunner hands its FnApiRunner: the options, for the SDK worker.
        provision = ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(
            pipeline_options=JobServiceHandle.encode_pipeline_options(options.get_all_options())))
        p = beam.Pipeline(runner=_TranslateOnce(provision_info=provision), options=options)
    outputs = (
        p | "Read" >> beam.Impulse()  # not Create: its three ParDos are rebuilt every run
        | "Load" >> beam.FlatMap(_load, str(batch / "raw.pickle"))
        | "Analyze" >> AnalyzeNews(rules)
    )
    # Each output written where it is made, not through a Flatten: a Flatten of outputs
    # of two stages is a stage of its own, rebuilt every run. The read failures are
    # written by ``run`` itself; the ranks keep each file's order what it was (article
    # alerts before event alerts, the pipeline's failures before the read ones).
    for name in ("articles", "events", "failures"):
        _write_jsonl(outputs[name], parts, name)
    _write_jsonl(outputs["article_alerts"], parts, "alerts", 0, "ArticleAlerts")
    _write_jsonl(outputs["event_alerts"], parts, "alerts", 1, "EventAlerts")
    if store_path is not None:
        # Alerts go to the store through the caller, which must know which
        # ones are new (Store.put_alerts) to announce each alert once.
        for name in ("articles", "events"):
            _ = outputs[name] | f"Store{name.title()}" >> WriteToStore(store_path, name)
    return p


# The service runs the same graph every round: building it (AnalyzeNews, the sinks)
# costs ~0.4 s of CPU a run, so the last one is kept, keyed by what it was built from.
_built: tuple[tuple, list[Rule], beam.Pipeline] | None = None
_built_lock = threading.Lock()


def _pipeline(rules: Sequence[Rule], out_dir: Path, store_path: Path | None,
              beam_args: Sequence[str]) -> beam.Pipeline:
    global _built
    key = (tuple(id(r) for r in rules), out_dir.resolve(),
           store_path.resolve() if store_path else None, tuple(beam_args))
    if _built is None or _built[0] != key:
        pipeline = _build(rules, out_dir / ".parts", out_dir / ".batch", store_path, beam_args)
        _built = (key, list(rules), pipeline)  # the rules kept alive: their ids are the key
    return _built[2]


def run(raw: Sequence[RawDocument], read_failures: Sequence[Failure], rules: Sequence[Rule],
        out_dir: Path, store_path: Path | None, beam_args: Sequence[str] = (),
        ahead: TagAhead | None = None) -> RunResult:
    """Analyse ``raw`` and write ``out_dir/{articles,events,alerts,failures}.jsonl``
    (and articles and events to the store, when ``store_path`` is given); ``ahead``
    tags articles in helper processes meanwhile."""
    out_dir.mkdir(parents=True, exist_ok=True)
    parts, batch = out_dir / ".parts", out_dir / ".batch"
    with _built_lock:  # one run at a time per process: the graph and its folders are shared
        for folder in (parts, batch):
            shutil.rmtree(folder, ignore_errors=True)  # a crashed run's leftovers
            folder.mkdir()
        with (batch / "raw.pickle").open("wb") as handle:
            pickle.dump(list(raw), handle, protocol=pickle.HIGHEST_PROTOCOL)
        if read_failures:  # joined after the pipeline's own failures (rank 0)
            (parts / "failures-1-read.jsonl").write_text(
                "".join(f.model_dump_json() + "\n" for f in read_failures), encoding="utf-8")
        pipeline = _pipeline(rules, out_dir, store_path, beam_args)
        if ahead is None or beam_args:  # helpers only for the in-process DirectRunner
            if ahead is not None and (generation := ahead.generation_of(raw)) is not None:
                ahead.finish(generation)  # what the service already handed to them
            _run(pipeline)
        else:
            generation = ahead.start(raw)
            try:
                with entities.tagged_ahead(ahead.lookup):
                    _run(pipeline)
            finally:
                ahead.finish(generation)
        _join_parts(out_dir, parts)
        for folder in (parts, batch):
            shutil.rmtree(folder, ignore_errors=True)
    return collect(out_dir)


def _lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def collect(out_dir: Path) -> RunResult:
    articles = _lines(out_dir / "articles.jsonl")
    return RunResult(
        out_dir=out_dir,
        articles=len(articles),
        duplicates=sum(len(a["doc_ids"]) - 1 for a in articles),
        events=len(_lines(out_dir / "events.jsonl")),
        alerts=sorted((Alert.model_validate(a) for a in _lines(out_dir / "alerts.jsonl")),
                      key=lambda a: a.alert_id),
        failures=[Failure.model_validate(f) for f in _lines(out_dir / "failures.jsonl")],
    )
