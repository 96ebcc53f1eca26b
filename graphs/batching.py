"""What the batch graphs share: one factory, its generic nodes, checkpoints, running.

``augment_jobs``, ``complete_resumes``, ``clean_resumes`` and ``judge_pairs`` all have one
shape, built by :func:`batch_graph`::

    START -> prepare --Send(batch)--> process (xN, in parallel) -> write -> END

The nodes are the module-level functions below; what differs between the graphs is their
*context* (a :class:`BatchContext` subclass, LangGraph's runtime context): the client, the
settings of the run, and the capability that processes one batch
(:mod:`agentic_match.augment.batch`, :func:`agentic_match.align.judge.judge_pairs`) and
writes the output. ``prepare`` checks the input and plans batches of the items not yet
done, ``process`` runs one batch, ``write`` writes the data-contract output files. With a
checkpointer keyed by run id (``thread_id``), a run that died (server killed, Ctrl-C) is
resumed by :func:`run_graph` with the same run id: finished batches are kept in the
checkpoint and never run again, and every answer the LLM gave is also in the generation
cache.

Per-run settings come from the runtime context, so the LangGraph server can set them
(``context`` of a run); ``build_graph(llm, config, ...)`` in each module binds a default
context for Python callers (:class:`BoundGraph`).
"""

from __future__ import annotations

import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypedDict

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import RetryPolicy, Send

from agentic_match.augment.batch import write_batch_output
from agentic_match.augment.generation import GenerationPolicy, bind_model
from agentic_match.data import document_from_row, document_to_row
from agentic_match.data.render import RenderConfig
from agentic_match.data.schema import DocKind, Document
from agentic_match.errors import (
    AgenticMatchError,
    DataError,
    LLMUnavailableError,
    Problem,
)
from agentic_match.events import BatchEvent, StartEvent
from agentic_match.files import PRIVATE_FILE_MODE, digest, private_dir

DEFAULT_RETRY = RetryPolicy(max_attempts=3, initial_interval=2.0, backoff_factor=2.0, retry_on=LLMUnavailableError)
"""Node retry policy: only a server that could not answer is retried (bad input is not)."""


def merge_dicts(left: dict | None, right: dict | None) -> dict:
    """Reducer of ``results`` / ``failures``: parallel batches each add their documents."""
    return {**(left or {}), **(right or {})}


class BatchState(TypedDict, total=False):
    """What every batch graph's state holds (each graph adds its own keys).

    Attributes:
        docs: The input items as rows (documents, or judged pairs); ``id`` keys results.
        batch_size: Items per parallel task.
        output_path: Where ``write`` puts the output (``None``: not written).
        fingerprint: Hash of the input and settings (a reused run id is detected).
        results: ``{id: result row}`` (merged across batches).
        failures: ``{id: problem}`` of items that failed every attempt.
        written: The path written.
    """

    docs: list[dict]
    batch_size: int
    output_path: str | None
    fingerprint: str
    results: Annotated[dict[str, dict], merge_dicts]
    failures: Annotated[dict[str, str], merge_dicts]
    written: str


class BatchTask(TypedDict):
    """The input of one ``process`` task (sent with ``Send``)."""

    batch: list[dict]
    index: int
    batches: int


def rows_of(docs: list[Document] | list[dict]) -> list[dict]:
    """Documents as JSON rows (the form graph state holds, so checkpoints can store it)."""
    return [d if isinstance(d, dict) else document_to_row(d) for d in docs]


def doc_of(row: dict, kind: DocKind, where: str = "<state>") -> Document:
    """A document from a state row; bad rows raise a located :class:`DataError`."""
    doc = document_from_row(row, kind, where=(where, None))
    if isinstance(doc, list):
        raise DataError(doc)
    return doc


def check_fingerprint(state: dict, fingerprint: str) -> None:
    """Refuse to mix the results of two different inputs under one run id."""
    old = state.get("fingerprint")
    if old and old != fingerprint and state.get("results"):
        raise AgenticMatchError(
            "this run id was already used with other input (or other settings); "
            "use another --run-id, or the same input to resume it"
        )


def check_unique_ids(rows: list[dict], what: str) -> None:
    """Every input document needs a distinct id (results are keyed by it)."""
    seen: set[str] = set()
    problems = []
    for i, r in enumerate(rows, 1):
        rid = r.get("id")
        if rid is None or str(rid) in seen:
            problems.append(Problem(what, i, "id", "missing id" if rid is None else f"duplicate id {rid!r}"))
        seen.add(str(rid))
    if problems:
        raise DataError(problems)


def output_path_for(input_path: str | Path, tag: str) -> Path:
    """The output next to the input: ``data/jobs.jsonl`` + ``hyre`` -> ``data/jobs.hyre.jsonl``."""
    p = Path(input_path)
    stem = p.name
    for suffix in (".jsonl", ".ndjson", ".csv", ".tsv"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    out = p.with_name(f"{stem}.{tag}.jsonl")
    if out.resolve() == p.resolve():
        raise AgenticMatchError(f"refusing to write {out} over its input")
    return out


# --------------------------------------------------------------------------- checkpoints


POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: str | Path) -> bool:
    """Whether a checkpoint target names a Postgres database rather than a SQLite file."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def open_checkpointer(target: str | Path) -> Any:
    """A checkpointer: a SQLite file (created with its folder) or a Postgres database URL.

    One file or database holds many runs (keyed by ``thread_id``). With a
    ``postgresql://`` URL several workers and the service share runs, and an interrupted
    feedback session survives a worker restart. Keep the password out of the URL (argv and
    config files are readable): libpq reads ``PGPASSWORD`` or ``~/.pgpass``.
    """
    if is_postgres_url(target):
        return _postgres_saver(str(target))
    p = Path(target)
    private_dir(p.parent)  # checkpoints hold the documents of a run: owner only
    conn = sqlite3.connect(str(p), check_same_thread=False, timeout=60)
    os.chmod(p, PRIVATE_FILE_MODE)
    return SqliteSaver(conn)


def _postgres_saver(url: str) -> Any:
    try:
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection, OperationalError
        from psycopg.rows import dict_row
    except ImportError as e:
        raise AgenticMatchError(
            "Postgres checkpoints need pip install 'agentic-match[postgres]' (langgraph-checkpoint-postgres, psycopg)"
        ) from e
    try:
        # The saver's own settings (autocommit, dict rows, no server-side prepares), as
        # PostgresSaver.from_conn_string makes them; a plain connection outlives a with-block.
        conn = Connection.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row)
    except OperationalError as e:
        raise AgenticMatchError(f"cannot connect to the checkpoint database: {str(e).strip()}") from e
    saver = PostgresSaver(conn)
    saver.setup()  # creates or migrates the checkpoint tables; idempotent
    return saver


@contextmanager
def checkpointer_at(target: str | Path) -> Iterator[Any]:
    """:func:`open_checkpointer` as a context manager that closes its connection."""
    saver = open_checkpointer(target)
    try:
        yield saver
    finally:
        saver.conn.close()


def run_graph(
    graph: Any,
    inputs: dict,
    run_id: str,
    *,
    on_event: Callable[[str, Any], None] | None = None,
    max_concurrency: int | None = None,
) -> dict:
    """Run (or resume) ``graph`` for ``run_id`` and return its final state.

    When the checkpoint of ``run_id`` stopped in the middle (a node failed or the process
    died), the run resumes from there and ``inputs`` is not applied again; otherwise the
    graph starts with ``inputs`` (documents already done in an earlier run of the same id
    are skipped). ``on_event(mode, payload)`` receives the ``updates`` and ``custom``
    stream parts as they come (progress).
    """
    config: dict[str, Any] = {"configurable": {"thread_id": run_id}}
    if max_concurrency:
        config["max_concurrency"] = max_concurrency
    payload: dict | None = inputs
    if getattr(graph, "checkpointer", None):
        snap = graph.get_state(config)
        if snap.next:  # stopped mid-run: resume from the checkpoint
            changed = sorted(k for k, v in inputs.items() if k in snap.values and snap.values[k] != v)
            if changed:
                raise AgenticMatchError(
                    f"run {run_id!r} stopped part-way with other input ({', '.join(changed)} differ); "
                    "rerun it with the same input to resume it, or use another --run-id"
                )
            payload = None
    final: dict = {}
    # "sync": a finished batch is on disk before the next step, so a killed process loses none.
    for mode, part in graph.stream(payload, config, stream_mode=["updates", "custom", "values"], durability="sync"):
        if mode == "values":
            final = dict(part)
        elif on_event is not None:
            on_event(mode, part)
    return final


# --------------------------------------------------------------------------- the factory


@dataclass
class BatchContext(ABC):
    """The runtime context of a batch graph: its dependencies, settings and capability.

    Subclasses implement :meth:`process` and :meth:`write`; the rest has defaults.
    ``llm`` may be ``None`` in a context sent by the LangGraph server: the client then comes
    from the toolkit's settings (:func:`graphs.runtime.settings_client`).
    """

    llm: Any = None
    retry: RetryPolicy = DEFAULT_RETRY

    #: The kind of the input documents (checked by ``prepare``), or ``None`` for other items.
    what: ClassVar[str] = "batch"

    def client(self) -> Any:
        """The LLM client: the one given, else one from the settings."""
        if self.llm is None:
            from graphs.runtime import settings_client

            self.llm = settings_client()
        return self.llm

    def settings_key(self) -> Any:
        """What besides the input makes a run (a run id reused with other settings is refused)."""
        return None

    def input_key(self, state: dict) -> Any:
        """The input beyond ``docs`` that the fingerprint covers (examples, interactions)."""
        return None

    def task_extra(self, state: dict, batch: list[dict]) -> dict[str, Any]:
        """What a batch task carries besides its rows (sent with ``Send``)."""
        return {}

    @abstractmethod
    def process(self, task: dict, emit: Callable[[Any], None]) -> dict:
        """The state update of one batch: ``results``, ``failures`` (and extras)."""

    @abstractmethod
    def write(self, state: dict) -> dict:
        """Write the outputs once every batch is done; the final state update."""


@dataclass
class GenerationContext(BatchContext):
    """A batch context whose capability generates text: checks, rendering and the adapter.

    Attributes:
        policy: Attempts and checks of each generation.
        render_config: How documents become prompt text.
        adapter: A LoRA adapter served beside the base model (``agentic-match serve
            --adapter NAME=PATH``): every generation of the run uses it instead of the base.
    """

    policy: GenerationPolicy = field(default_factory=GenerationPolicy)
    render_config: RenderConfig = field(default_factory=RenderConfig)
    adapter: str | None = None

    def generator(self) -> Any:
        """The client, bound to the adapter when the run names one."""
        llm = self.client()
        return bind_model(llm, self.adapter) if self.adapter else llm

    def generation_key(self, config: Any) -> list[Any]:
        """The settings key of a generating run (another adapter is another run, not mixed)."""
        key: list[Any] = [config.__dict__, self.policy.__dict__, self.render_config.fingerprint()]
        return [*key, self.adapter] if self.adapter else key


class BoundGraph:
    """A compiled graph with a default runtime context (what ``build_graph(llm, ...)`` returns).

    ``invoke`` / ``stream`` pass the bound context unless the call gives another; every other
    attribute is the compiled graph's (``get_state``, ``checkpointer``, ``get_graph``...).
    """

    def __init__(self, graph: Any, context: Any) -> None:
        self.graph = graph
        self.context = context

    def invoke(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("context", self.context)
        return self.graph.invoke(input, config, **kwargs)

    def stream(self, input: Any, config: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("context", self.context)
        return self.graph.stream(input, config, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.graph, name)


def _ctx(runtime: Runtime) -> BatchContext:
    ctx = runtime.context
    if ctx is None:
        raise AgenticMatchError("this graph needs its runtime context (build it with build_graph, or pass context=)")
    return ctx


def prepare(state: dict, runtime: Runtime) -> dict:
    """Check the input, refuse a run id reused for other input, announce the run."""
    ctx = _ctx(runtime)
    check_unique_ids(state["docs"], f"{ctx.what} input")
    fp = digest(state["docs"], ctx.input_key(state), ctx.settings_key())
    check_fingerprint(state, fp)
    get_stream_writer()(StartEvent(event="start", documents=len(state["docs"]), done=len(state.get("results") or {})))
    return {"fingerprint": fp}


def plan(state: dict, runtime: Runtime) -> list[Send] | str:
    """One ``process`` task per batch of items without a result or failure yet (else ``write``)."""
    ctx = _ctx(runtime)
    finished = set(state.get("results") or {}) | set(state.get("failures") or {})
    todo = [r for r in state["docs"] if str(r.get("id")) not in finished]
    size = max(1, int(state.get("batch_size") or 8))
    batches = [todo[i : i + size] for i in range(0, len(todo), size)]
    if not batches:
        return "write"
    return [
        Send("process", {**BatchTask(batch=b, index=i, batches=len(batches)), **ctx.task_extra(state, b)})
        for i, b in enumerate(batches)
    ]


def process(task: dict, runtime: Runtime) -> dict:
    """One batch through the context's capability."""
    writer = get_stream_writer()
    update = _ctx(runtime).process(task, writer)
    writer(BatchEvent(event="batch", index=task["index"], batches=task["batches"]))
    return update


def write(state: dict, runtime: Runtime) -> dict:
    """The outputs, once every batch is done."""
    return _ctx(runtime).write(state)


@dataclass(frozen=True)
class BatchGraph:
    """One batch graph: its state, its context and what its modules export.

    Each graph module declares one (``GRAPH = BatchGraph(State, Context, "name", "hyre")``) and
    exports ``compile_graph`` (the compiled graph; context per run), ``make_graph`` (the
    ``langgraph.json`` factory) and ``build_graph(llm, config, ...)`` (a default context bound).
    """

    state: type
    context: type
    name: str
    config_field: str
    """The context field that ``build_graph``'s ``config`` argument sets."""

    def compile(self, *, retry: RetryPolicy = DEFAULT_RETRY, checkpointer: Any = None) -> Any:
        """The compiled graph; its runtime context comes with each run."""
        return batch_graph(self.state, self.context, self.name, retry=retry, checkpointer=checkpointer)

    def build(
        self,
        llm: Any,
        config: Any = None,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        checkpointer: Any = None,
        **context: Any,
    ) -> BoundGraph:
        """The graph with a default context over the injected client, ``config`` and other fields."""
        if config is not None:
            context[self.config_field] = config
        return BoundGraph(self.compile(retry=retry, checkpointer=checkpointer), self.context(llm=llm, **context))

    def make(self, config: dict | None = None) -> Any:
        """Factory for ``langgraph.json``: each run's settings come as its runtime context; the
        client comes from the toolkit's settings (``llm.base_url``, else the managed vLLM server)."""
        return self.compile()


def batch_graph(state: type, context: type[BatchContext], name: str, *, retry: RetryPolicy, checkpointer: Any = None):
    """The compiled batch graph of ``state`` / ``context`` (see the module docstring)."""
    graph = StateGraph(state, context_schema=context)
    graph.add_node("prepare", prepare)
    graph.add_node("process", process, retry_policy=retry)
    graph.add_node("write", write)
    graph.add_edge(START, "prepare")
    graph.add_conditional_edges("prepare", plan, ["process", "write"])
    graph.add_edge("process", "write")
    graph.add_edge("write", END)
    return graph.compile(checkpointer=checkpointer, name=name)


def documents_update(batch: Any, extra_key: str | None = None) -> dict:
    """A :class:`~agentic_match.augment.batch.BatchResult` as a state update (rows, failures, extras)."""
    update: dict[str, Any] = {
        "results": {k: rows_of([d])[0] for k, d in batch.results.items()},
        "failures": batch.failures,
    }
    if extra_key:
        update[extra_key] = batch.extras
    return update


def write_documents_output(state: dict, kind: DocKind, failure_note: str) -> dict:
    """Write ``output_path`` (every input document, in input order) and its failures file.

    A document whose generation failed is written unchanged (its text is never replaced),
    with ``metadata[failure_note]`` saying why; failures are also listed one per line in
    ``<output>.failures.jsonl`` (removed when there are none).
    """
    out = state.get("output_path")
    if not out:
        return {}
    docs = [doc_of(r, kind) for r in state["docs"]]
    results = {k: doc_of(v, kind) for k, v in (state.get("results") or {}).items()}
    path = write_batch_output(out, docs, results, state.get("failures") or {}, failure_note)
    return {"written": str(path)}
