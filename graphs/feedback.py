"""Graph ``feedback``: show a recruiter the top k for a job, wait for their picks, learn from them.

::

    START -> prepare -> show -> ask (interrupt: picks) -> record --(enough new pairs)--> update -> END
                                ^-- (answer refused) --'        '----------(otherwise)---------> END

``prepare`` checks the job and fixes the current model for the session; ``show`` ranks the
resumes for the job with that model; ``ask`` pauses the graph with
:func:`langgraph.types.interrupt` and the shortlist as payload, and resumes with the picked
ids (``Command(resume=["r-7", "r-3"])`` or ``{"picked": [...], "recruiter": "ana"}``); an
answer naming a candidate that was not shown is refused and asked again. ``record`` turns
the picks into preference pairs in the :class:`~agentic_match.feedback.store.FeedbackStore`
(each pick preferred over each shown candidate not picked); when the pairs not yet used
reach ``threshold``, ``update`` runs a RankPO update from the current model and switches to
it only if the before/after evaluation loses at most ``tolerance``
(:func:`agentic_match.feedback.update.rankpo_update`).

With a SQLite checkpointer the pause survives the process: another process (the CLI's
``feedback pick``, a web handler) builds the graph on the same checkpoint file and resumes
the session by its thread id::

    from langgraph.types import Command
    from graphs.batching import checkpointer_at
    from graphs.feedback import build_graph, inputs_for, open_feedback

    deps = open_feedback("runs/feedback", data="demo")
    with checkpointer_at("runs/feedback/checkpoints.sqlite") as saver:
        graph = build_graph(deps.store, deps.corpus, deps.registry, deps.config, checkpointer=saver)
        cfg = {"configurable": {"thread_id": "session-1"}}
        paused = graph.invoke(inputs_for("demo-j-01"), cfg)        # paused["__interrupt__"][0].value
        final = graph.invoke(Command(resume=["demo-r-007"]), cfg)  # possibly in another process
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agentic_match.config import deep_merge
from agentic_match.data.schema import Corpus, Document
from agentic_match.errors import ConfigError, DataError, Problem
from agentic_match.evaluation.ranker import Ranker
from agentic_match.events import FeedbackEvent
from agentic_match.feedback import FeedbackConfig, ModelRegistry, rankpo_update
from agentic_match.files import private_dir, read_json, write_json
from graphs.batching import BoundGraph

MANIFEST_FILE = "feedback.json"
STORE_FILE = "store.sqlite"
CHECKPOINT_FILE = "checkpoints.sqlite"
SNIPPET_CHARS = 240


class FeedbackState(TypedDict, total=False):
    """State of ``feedback``.

    Attributes:
        job_id: The job the recruiter reviews.
        k: Candidates shown (``None``: the config's ``k``).
        recruiter: Who picks (pairs are unique per recruiter).
        model: The model that ranked the shortlist.
        shown: ``[{"rank", "id", "score", "snippet"}]``, best first.
        picks: The ids picked.
        problem: Why the last answer was refused (shown with the next question).
        added: New preference pairs stored from the picks.
        pending: Pairs in the store not yet used by an update.
        update: The update record when one ran (``before``, ``after``, ``switched``...).
    """

    job_id: str
    k: int | None
    recruiter: str | None
    model: str
    shown: list[dict[str, Any]]
    picks: list[str]
    problem: str | None
    added: int
    pending: int
    update: dict[str, Any] | None


def inputs_for(job_id: str, *, k: int | None = None, recruiter: str | None = None) -> FeedbackState:
    """The input state of one review session."""
    return FeedbackState(job_id=str(job_id), k=k, recruiter=recruiter)


def parse_answer(answer: Any, shown_ids: Sequence[str]) -> tuple[list[str], str | None, str | None]:
    """``(picks, recruiter, problem)`` from a resume value; ``problem`` set when it is refused."""
    recruiter = None
    if isinstance(answer, dict):
        recruiter = answer.get("recruiter")
        answer = answer.get("picked", answer.get("picks"))
    if isinstance(answer, str):
        answer = [answer]
    if not isinstance(answer, list | tuple) or not all(isinstance(x, str) for x in answer):
        return [], recruiter, "answer with a list of candidate ids (an empty list picks nobody)"
    picks = [str(x) for x in answer]
    unknown = [p for p in picks if p not in set(shown_ids)]
    if unknown:
        return [], recruiter, f"not among the candidates shown: {', '.join(unknown)}"
    if len(set(picks)) != len(picks):
        return [], recruiter, "an id is picked twice"
    return picks, recruiter, None


@dataclass
class FeedbackContext:
    """Runtime context of ``feedback``: the store, the corpus, the model registry and settings.

    Attributes:
        store: A :class:`~agentic_match.feedback.store.FeedbackStore` (texts from ``corpus``).
        corpus: Jobs and resumes (the shortlist is drawn from its resumes).
        registry: Which model is current; updates switch it.
        config: ``k``, ``threshold``, ``tolerance`` and the update's training settings.
        ranker_for: ``model -> Ranker`` (default: the bi-encoder, loaded once per model).
        candidates: The resumes to rank (default: every resume of ``corpus``).
        tasks: Ranking tasks judging an update (default: the config's split's qrels).
        update: Replaces :func:`rankpo_update` (same signature; tests inject fakes).
    """

    store: Any
    corpus: Corpus
    registry: ModelRegistry
    config: FeedbackConfig = field(default_factory=FeedbackConfig)
    ranker_for: Callable[[str], Ranker] | None = None
    candidates: Sequence[Document] | None = None
    tasks: Sequence[Any] | None = None
    update: Callable[..., dict[str, Any] | None] | None = None
    _loaded: dict[str, Ranker] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def pool(self) -> list[Document]:
        return list(self.candidates) if self.candidates is not None else list(self.corpus.resumes.values())

    def ranker(self, model: str) -> Ranker:
        """The ranker of ``model`` (one model in memory: the current one)."""
        if self.ranker_for is not None:
            return self.ranker_for(model)
        from agentic_match.retrieval.encoder import BiEncoder

        with self._lock:
            if model not in self._loaded:
                self._loaded.clear()
                self._loaded[model] = BiEncoder.load(model, device=self.config.rankpo.device)
            return self._loaded[model]


_SERVER_CONTEXT: list[FeedbackContext] = []
"""The context :func:`make_graph` opened (runs started by the LangGraph server carry none)."""


def _ctx(runtime: Runtime[FeedbackContext]) -> FeedbackContext:
    if runtime.context is not None:
        return runtime.context
    if not _SERVER_CONTEXT:
        raise ConfigError("the feedback graph needs its context (build it with build_graph, or via make_graph)")
    return _SERVER_CONTEXT[0]


def prepare(state: FeedbackState, runtime: Runtime[FeedbackContext]) -> dict:
    """Check the job; fix the current model for the session."""
    ctx = _ctx(runtime)
    if state.get("job_id") not in ctx.corpus.jobs:
        raise DataError(Problem(ctx.corpus.source, None, "job_id", f"unknown job id {state.get('job_id')!r}"))
    k = state.get("k") or ctx.config.k
    if not isinstance(k, int) or k < 1:
        raise DataError(Problem("<input>", None, "k", f"k must be a positive integer, not {k!r}"))
    # The model is fixed here: the shortlist and the pairs it yields belong to one model.
    return {"k": k, "model": ctx.registry.current(), "update": None}


def show(state: FeedbackState, runtime: Runtime[FeedbackContext]) -> dict:
    """Rank the resumes for the job with the session's model."""
    from agentic_match.data.render import render

    ctx = _ctx(runtime)
    job = ctx.corpus.jobs[state["job_id"]]
    k, model = int(state["k"]), state["model"]
    pool = ctx.pool()
    run = ctx.ranker(model).rank([job], pool, k=k).get(job.id, {})
    top = sorted(run.items(), key=lambda x: -x[1])[:k]
    by_id = {d.id: d for d in pool}
    shown = [
        {"rank": i, "id": d, "score": round(float(s), 4), "snippet": " ".join(render(by_id[d]).split())[:SNIPPET_CHARS]}
        for i, (d, s) in enumerate(top, 1)
    ]
    get_stream_writer()(FeedbackEvent(event="shown", job_id=job.id, model=model, candidates=len(shown)))
    return {"shown": shown, "picks": [], "problem": None}


def ask(state: FeedbackState, runtime: Runtime[FeedbackContext]) -> dict:
    """Pause for the recruiter's picks (an answer naming an unseen candidate is asked again)."""
    shown = state.get("shown") or []
    job = _ctx(runtime).corpus.jobs[state["job_id"]]
    answer = interrupt(
        {
            "job_id": job.id,
            "title": job.fields.get("title", ""),
            "candidates": shown,
            "problem": state.get("problem"),
            "answer": "the ids you pick, as a list (empty: nobody), or {'picked': [...], 'recruiter': name}",
        }
    )
    picks, recruiter, problem = parse_answer(answer, [c["id"] for c in shown])
    if problem:
        return {"problem": problem}
    return {"picks": picks, "problem": None, "recruiter": recruiter or state.get("recruiter")}


def record(state: FeedbackState, runtime: Runtime[FeedbackContext]) -> dict:
    """Store each pick as preferred over each shown candidate not picked."""
    ctx = _ctx(runtime)
    shown_ids = [c["id"] for c in state.get("shown") or []]
    added = ctx.store.add_picks(state["job_id"], shown_ids, state["picks"], recruiter=state.get("recruiter"))
    pending = ctx.store.count_new(ctx.config.consumer)
    get_stream_writer()(FeedbackEvent(event="recorded", added=added, pending=pending, threshold=ctx.config.threshold))
    return {"added": added, "pending": pending}


def run_update(state: FeedbackState, runtime: Runtime[FeedbackContext]) -> dict:
    """The guarded RankPO update from the new pairs."""
    ctx = _ctx(runtime)
    result = (ctx.update or rankpo_update)(ctx.store, ctx.registry, ctx.corpus, ctx.config, tasks=ctx.tasks)
    get_stream_writer()(FeedbackEvent(event="update", result=result))
    return {"update": result, "pending": ctx.store.count_new(ctx.config.consumer)}


def after_ask(state: FeedbackState) -> str:
    return "ask" if state.get("problem") else "record"


def after_record(state: FeedbackState, runtime: Runtime[FeedbackContext]) -> str:
    return "update" if state.get("pending", 0) >= _ctx(runtime).config.threshold else END


def compile_graph(*, checkpointer: Any = None):
    """The compiled ``feedback`` graph; its runtime context (:class:`FeedbackContext`) comes with each run."""
    graph = StateGraph(FeedbackState, context_schema=FeedbackContext)
    graph.add_node("prepare", prepare)
    graph.add_node("show", show)
    graph.add_node("ask", ask)
    graph.add_node("record", record)
    graph.add_node("update", run_update)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "show")
    graph.add_edge("show", "ask")
    graph.add_conditional_edges("ask", after_ask, ["ask", "record"])
    graph.add_conditional_edges("record", after_record, ["update", END])
    graph.add_edge("update", END)
    return graph.compile(checkpointer=checkpointer, name="feedback")


def build_graph(
    store: Any,
    corpus: Corpus,
    registry: ModelRegistry,
    config: FeedbackConfig | None = None,
    *,
    ranker_for: Callable[[str], Ranker] | None = None,
    candidates: Sequence[Document] | None = None,
    tasks: Sequence[Any] | None = None,
    update: Callable[..., dict[str, Any] | None] | None = None,
    checkpointer: Any = None,
) -> BoundGraph:
    """The ``feedback`` graph with its context bound (see :class:`FeedbackContext` for the arguments).

    A checkpointer is needed for the pause to outlive the process.
    """
    ctx = FeedbackContext(store, corpus, registry, config or FeedbackConfig(), ranker_for, candidates, tasks, update)
    return BoundGraph(compile_graph(checkpointer=checkpointer), ctx)


# --------------------------------------------------------------------------- a feedback folder


@dataclass
class FeedbackDeps:
    """What the graph needs, opened from a feedback folder (see :func:`open_feedback`)."""

    folder: Path
    store: Any
    corpus: Corpus
    registry: ModelRegistry
    config: FeedbackConfig
    manifest: dict[str, Any]

    @property
    def checkpoint_path(self) -> Path:
        return self.folder / CHECKPOINT_FILE


def open_feedback(
    folder: str | Path,
    *,
    data: str | None = None,
    model: str | None = None,
    store_path: str | Path | None = None,
    config: dict[str, Any] | None = None,
    write: bool = True,
) -> FeedbackDeps:
    """Open (or create) a feedback folder: store, corpus, current model, settings.

    The first call records ``data`` (``"demo"`` or a benchmark folder), the starting
    ``model``, the store path and the settings in ``feedback.json``; later calls (another
    process resuming a session) read them back. Settings given again replace the recorded
    ones; another ``data`` than the recorded one is refused. With ``write=False`` nothing is
    written until the graph first uses the store (a graph factory must not touch the disk).
    """
    from agentic_match.feedback.store import FeedbackStore
    from agentic_match.pipeline.steps import load_data

    folder = Path(folder)
    path = folder / MANIFEST_FILE
    manifest: dict[str, Any] = read_json(path) if path.is_file() else {}
    if data is not None and manifest.get("data") not in (None, _data_spec(data)):
        raise ConfigError(
            f"{folder} learns from {manifest['data']}, not {_data_spec(data)}; use another feedback folder"
        )
    if data is None and "data" not in manifest:
        raise ConfigError(f"{folder} is not a feedback folder yet: give the data (a benchmark folder or demo)")
    manifest = {
        "data": manifest.get("data") or _data_spec(data),  # type: ignore[arg-type]
        "initial_model": manifest.get("initial_model") or model or "all-minilm-l6-v2",
        "store": manifest.get("store") or str(Path(store_path or folder / STORE_FILE).resolve()),
        "config": deep_merge(manifest.get("config", {}), dict(config or {})),
    }
    if store_path is not None:
        manifest["store"] = str(Path(store_path).resolve())
    cfg = FeedbackConfig.from_dict(manifest["config"])
    if write:
        private_dir(folder)
        write_json(path, manifest)
    corpus = load_data(manifest["data"])
    open_store = lambda: FeedbackStore(manifest["store"], corpus=corpus)  # noqa: E731
    return FeedbackDeps(
        folder=folder,
        store=open_store() if write else _LazyStore(open_store),
        corpus=corpus,
        registry=ModelRegistry(folder, manifest["initial_model"]),
        config=cfg,
        manifest=manifest,
    )


class _LazyStore:
    """The store's methods the feedback loop uses, opening the store (its file) on first call.

    Explicit methods, not ``__getattr__``: LangGraph inspects the attributes that node
    functions read, and that inspection must not create files.
    """

    def __init__(self, opener: Callable[[], Any]) -> None:
        self._opener = opener
        self._store: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._store is None:
                self._store = self._opener()
            return self._store

    def add_picks(self, *args: Any, **kw: Any) -> int:
        return self._get().add_picks(*args, **kw)

    def count_new(self, *args: Any, **kw: Any) -> int:
        return self._get().count_new(*args, **kw)

    def pairs(self, *args: Any, **kw: Any) -> list[dict[str, Any]]:
        return self._get().pairs(*args, **kw)

    def watermark(self, *args: Any, **kw: Any) -> int:
        return self._get().watermark(*args, **kw)

    def mark_consumed(self, *args: Any, **kw: Any) -> int:
        return self._get().mark_consumed(*args, **kw)

    def __len__(self) -> int:
        return len(self._get())


def _data_spec(data: str) -> str:
    return "demo" if str(data) == "demo" else str(Path(data).resolve())


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json``: the feedback folder ``<run_dir>/feedback`` from the settings.

    The folder must have been created once (``agentic-match feedback show --data ...``), or
    the demo corpus is used. The LangGraph server supplies its own checkpointer.
    """
    from agentic_match.config import load_settings

    folder = Path(load_settings().run_dir) / "feedback"
    deps = open_feedback(folder, data=None if (folder / MANIFEST_FILE).is_file() else "demo", write=False)
    _SERVER_CONTEXT[:] = [FeedbackContext(deps.store, deps.corpus, deps.registry, deps.config)]
    return compile_graph()
