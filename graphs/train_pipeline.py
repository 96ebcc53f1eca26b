"""Graph ``train_pipeline``: the whole training recipe on your labels, resumable step by step.

::

    START -> prepare -> augment -> train -> mine -> retrain -> judge -> rankpo -> evaluate -> report -> END

``augment`` writes HyRe reference resumes for every job post; ``train`` is ConFit* with in-batch
negatives; ``mine`` is Runner-Up Mining with that model; ``retrain`` trains ConFit* again with
the mined negatives; ``judge`` has the local LLM compare pairs from the RUM model's top-k;
``rankpo`` tunes the RUM model on the judged preferences; ``evaluate`` scores every model on
both ranking tasks; ``report`` writes ``report.md`` / ``report.json``.

Each step runs in ``<run_dir>/<NN-step>/`` through :func:`agentic_match.pipeline.run_step`
and records a ``done.json`` (inputs digest, outputs, wall time). Two mechanisms make a killed
pipeline resume at the step that died and never redo a finished one: the graph's SQLite
checkpoint (``<run_dir>/checkpoints.sqlite``, thread = run id) restarts at the failed node,
and a step whose ``done.json`` holds the same inputs digest is skipped even if the checkpoint
was lost. Training steps also resume inside themselves (epoch checkpoints), and LLM answers
are in the generation cache.

Example::

    from agentic_match.llm import open_llm
    from agentic_match.pipeline import PipelineConfig
    from graphs.train_pipeline import run_pipeline

    with open_llm() as llm:
        final = run_pipeline("runs/pipe-1", "../shared/data/benchmark/v1", PipelineConfig(), llm=llm)
    print(final["report"]["report"])          # runs/pipe-1/08-report/report.md (relative path)

Dependencies are injected (``build_graph(llm, steps=..., load_data=...)``) so tests run the
graph with fake LLMs or tiny fake steps.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy

from agentic_match.data.schema import Corpus
from agentic_match.errors import ConfigError, DataError, Problem
from agentic_match.events import StepEvent
from agentic_match.files import private_dir
from agentic_match.pipeline import (
    CHECKPOINT_FILE,
    DEFAULT_STEPS,
    MANIFEST_FILE,
    STEP_SPECS,
    STEPS,
    PipelineConfig,
    StepContext,
    StepFn,
    StepRecord,
    check_inputs,
    corpus_fingerprint,
    inputs_digest,
    load_data,
    no_llm,
    run_step,
    step_dir,
    utc_now,
    write_json,
)
from agentic_match.pipeline.steps import step_augment, step_judge
from graphs.batching import DEFAULT_RETRY, BoundGraph


class PipelineState(TypedDict, total=False):
    """State of ``train_pipeline``.

    Attributes:
        run_dir: The run folder (step folders, checkpoints, report).
        data: ``"demo"`` or a folder in the benchmark layout.
        config: :meth:`PipelineConfig.to_dict`.
        llm_id: Identity of the generator (model spec); part of the LLM steps' digests.
        data_fingerprint: Hash of the corpus (set by ``prepare``).
        steps: ``{step: StepRecord.to_dict()}`` of the steps finished in this run.
        report: The report step's outputs (paths relative to ``run_dir``).
    """

    run_dir: str
    data: str
    config: dict[str, Any]
    llm_id: str
    data_fingerprint: str
    steps: dict[str, dict[str, Any]]
    report: dict[str, Any]


def inputs_for(
    run_dir: str | Path, data: str | Path, config: PipelineConfig | None = None, *, llm_id: str = ""
) -> PipelineState:
    """The input state of a pipeline run (``data``: ``"demo"`` or a benchmark folder)."""
    config = config or PipelineConfig()
    return PipelineState(
        run_dir=str(Path(run_dir).resolve()),
        data=str(data) if str(data) == "demo" else str(Path(data).resolve()),
        config=config.to_dict(),
        llm_id=llm_id,
    )


def _say(message: str) -> None:
    print(message, flush=True)


@dataclass
class PipelineContext:
    """Runtime context of ``train_pipeline``: the generator, the step functions, the data loader.

    Attributes:
        llm: The generator client (HyRe and the judge), or ``None``.
        llm_factory: Called once, on the first step that needs a client, when ``llm`` is
            ``None`` (so a pipeline whose LLM steps are done or skipped starts no server).
            The default, for runs started by the LangGraph server: a client from the settings.
        steps: The step functions by name (tests inject tiny fakes).
        load_data: ``data`` spec -> corpus (default: ``"demo"`` or a benchmark folder).
        say: Progress line printer.
    """

    llm: Any = None
    llm_factory: Callable[[], Any] | None = None
    steps: Mapping[str, StepFn] = field(default_factory=lambda: dict(DEFAULT_STEPS))
    load_data: Callable[[str], Corpus] = load_data
    say: Callable[[str], None] = _say
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def corpus_of(self, state: PipelineState) -> Corpus:
        """The run's corpus, loaded once per process; a resumed run checks it did not change."""
        with self.lock:
            key = f"corpus:{state['data']}"
            if key not in self.memo:
                corpus = self.load_data(state["data"])
                fp = corpus_fingerprint(corpus)
                expected = state.get("data_fingerprint")
                if expected and fp != expected:
                    raise DataError(
                        Problem(
                            state["data"], None, None, "the data changed since this run started; use another run folder"
                        )
                    )
                self.memo[key] = corpus
                self.memo[f"fp:{state['data']}"] = fp
            return self.memo[key]

    def get_llm(self) -> Any:
        """The generator, started on first use."""
        if self.llm is not None:
            return self.llm
        if self.llm_factory is None:
            return no_llm()
        with self.lock:
            if "llm" not in self.memo:
                self.memo["llm"] = self.llm_factory()
            return self.memo["llm"]


def _ctx(runtime: Runtime[PipelineContext]) -> PipelineContext:
    if runtime.context is not None:
        return runtime.context
    from graphs.runtime import settings_client

    return PipelineContext(llm_factory=settings_client)


def prepare(state: PipelineState, runtime: Runtime[PipelineContext]) -> dict:
    """Refuse inputs the pipeline cannot finish on, before any work; record the run's manifest."""
    ctx = _ctx(runtime)
    config = PipelineConfig.from_dict(state["config"])
    # Refuse before any work when a step will need a generator nobody can supply.
    wants_llm = (not config.skip_augment and ctx.steps["augment"] is step_augment) or (
        not config.skip_judge and ctx.steps["judge"] is step_judge
    )
    if wants_llm and ctx.llm is None and ctx.llm_factory is None:
        no_llm()
    ctx.memo.pop(f"corpus:{state['data']}", None)  # a new run reads the data afresh
    corpus = ctx.corpus_of({**state, "data_fingerprint": ""})  # type: ignore[typeddict-item]
    check_inputs(corpus, config)
    fp = ctx.memo[f"fp:{state['data']}"]
    run_dir = Path(state["run_dir"])
    private_dir(run_dir)
    write_json(
        run_dir / MANIFEST_FILE,
        {
            "data": state["data"],
            "data_fingerprint": fp,
            "source": corpus.source,
            "config": config.to_dict(),
            "llm_id": state.get("llm_id", ""),
            "started": utc_now(),
        },
    )
    get_stream_writer()({"event": "start", "run_dir": str(run_dir), "steps": list(STEPS)})
    return {"data_fingerprint": fp, "steps": {}}


def run_pipeline_step(state: PipelineState, runtime: Runtime[PipelineContext], *, name: str) -> dict:
    """One step through :func:`agentic_match.pipeline.run_step` (skipped when done with the same inputs)."""
    ctx = _ctx(runtime)
    writer = get_stream_writer()
    config = PipelineConfig.from_dict(state["config"])
    run_dir = Path(state["run_dir"])
    upstream = {n: StepRecord.from_dict(d) for n, d in (state.get("steps") or {}).items()}
    digest = inputs_digest(name, config, state["data_fingerprint"], upstream, state.get("llm_id", ""))
    step_ctx = StepContext(
        run_dir=run_dir,
        folder=step_dir(run_dir, name),
        config=config,
        upstream=upstream,
        load_corpus=lambda: ctx.corpus_of(state),
        get_llm=ctx.get_llm,
        memo=ctx.memo,
        say=ctx.say,
    )
    writer(StepEvent(event="step_start", step=name))

    def archived(dest: Path) -> None:
        ctx.say(f"{name}: its inputs changed; the earlier version was moved to {dest}")

    record, ran = run_step(run_dir, name, digest, lambda _folder: ctx.steps[name](step_ctx), on_archive=archived)
    writer(StepEvent(event="step_done", step=name, ran=ran, wall_s=record.wall_s, skipped=record.skipped))
    out: dict[str, Any] = {"steps": {**(state.get("steps") or {}), name: record.to_dict()}}
    if name == "report":
        out["report"] = record.outputs
    return out


def compile_graph(*, retry: RetryPolicy = DEFAULT_RETRY, checkpointer: Any = None):
    """The compiled ``train_pipeline`` graph; its context (:class:`PipelineContext`) comes with each run."""
    graph = StateGraph(PipelineState, context_schema=PipelineContext)
    graph.add_node("prepare", prepare)
    previous = "prepare"
    graph.add_edge(START, "prepare")
    for name in STEPS:
        node = functools.partial(run_pipeline_step, name=name)
        graph.add_node(name, node, retry_policy=retry if STEP_SPECS[name].uses_llm else None)
        graph.add_edge(previous, name)
        previous = name
    graph.add_edge(previous, END)
    return graph.compile(checkpointer=checkpointer, name="train_pipeline")


def build_graph(
    llm: Any = None,
    *,
    llm_factory: Callable[[], Any] | None = None,
    steps: Mapping[str, StepFn] | None = None,
    load_data: Callable[[str], Corpus] = load_data,
    say: Callable[[str], None] = _say,
    retry: RetryPolicy = DEFAULT_RETRY,
    checkpointer: Any = None,
) -> BoundGraph:
    """The ``train_pipeline`` graph with its context bound (see :class:`PipelineContext`).

    Args:
        retry: Retry policy of the LLM steps (only an unreachable server is retried).
        checkpointer: A LangGraph checkpointer (resume by run id).
    """
    fns: dict[str, StepFn] = {**DEFAULT_STEPS, **(steps or {})}
    unknown = set(fns) - set(STEPS)
    if unknown:
        raise ConfigError(f"unknown pipeline step(s): {', '.join(sorted(unknown))}")
    ctx = PipelineContext(llm=llm, llm_factory=llm_factory, steps=fns, load_data=load_data, say=say)
    return BoundGraph(compile_graph(retry=retry, checkpointer=checkpointer), ctx)


def run_pipeline(
    run_dir: str | Path,
    data: str | Path,
    config: PipelineConfig | None = None,
    *,
    llm: Any = None,
    llm_factory: Callable[[], Any] | None = None,
    llm_id: str = "",
    run_id: str | None = None,
    steps: Mapping[str, StepFn] | None = None,
    load_data: Callable[[str], Corpus] = load_data,
    say: Callable[[str], None] = _say,
    on_event: Callable[[str, Any], None] | None = None,
) -> dict:
    """Run (or resume) the pipeline in ``run_dir`` and return the final state.

    The checkpoint lives in ``<run_dir>/checkpoints.sqlite`` under ``run_id`` (default: the
    folder's name); rerunning the same call after a crash resumes at the failed step. One
    process at a time works in a run folder (a second one is refused with a clear error).
    """
    config = config or PipelineConfig()
    from filelock import FileLock, Timeout

    from graphs.batching import checkpointer_at, run_graph

    run_dir = Path(run_dir)
    private_dir(run_dir)
    lock = FileLock(str(run_dir / ".lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise ConfigError(f"another process is running the pipeline in {run_dir}; wait for it or stop it") from None
    try:
        with checkpointer_at(run_dir / CHECKPOINT_FILE) as saver:
            graph = build_graph(
                llm, llm_factory=llm_factory, steps=steps, load_data=load_data, say=say, checkpointer=saver
            )
            return run_graph(
                graph, inputs_for(run_dir, data, config, llm_id=llm_id), run_id or run_dir.name, on_event=on_event
            )
    finally:
        lock.release()


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json`` / the LangGraph server: the generator from the settings.

    The generator comes from the settings, started (or reused) only when a step first needs
    it. The LangGraph server supplies its own checkpointer; give the input with
    :func:`inputs_for`.
    """
    return compile_graph()
