"""Graph ``finetune_adapter``: build data, train, evaluate, and switch the served adapter.

::

    START -> prepare -> train_sft -> (train_dpo) -> evaluate -> (switch) -> END

* ``prepare`` loads the labels, builds the SFT (and DPO) datasets with the leakage checks
  and saves them in the run folder, so a resumed run trains on exactly the same data.
* ``train_sft`` / ``train_dpo`` train LoRA adapters (resumable from their own checkpoints,
  and skipped when the run's checkpoint says they finished); DPO continues from the SFT
  adapter.
* ``evaluate`` measures the held-out SFT loss of the base model, of the currently active
  adapter (when it was trained on the same base) and of the new adapter, and, after DPO,
  the held-out reward accuracy.
* ``switch`` runs only when the new adapter beats the active one (or the base) on held-out
  loss: it is recorded as active in the registry and loaded into the running server.

Example::

    from graphs.finetune_adapter import build_graph, inputs_for
    from graphs.batching import open_checkpointer, run_graph

    graph = build_graph(checkpointer=open_checkpointer("runs/graphs.sqlite"))
    final = run_graph(graph, inputs_for("../shared/data/benchmark/v1", out_dir="runs/adapters"), "ft-1")
    print(final["decision"])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agentic_match.data.schema import Corpus
from agentic_match.errors import AgenticMatchError
from agentic_match.files import digest
from finetune import data as ft_data
from finetune import evaluate as ft_eval
from finetune import serving as ft_serving
from finetune import trainer as ft_trainer
from finetune.config import DataConfig, FinetuneConfig
from graphs.batching import BoundGraph, check_fingerprint


class FinetuneState(TypedDict, total=False):
    """State of ``finetune_adapter`` (JSON only, so the checkpointer can store it).

    Attributes:
        data: Labelled data: a benchmark-layout folder, or ``"demo"``.
        task: ``hyre`` or ``irc``.
        stages: ``["sft"]`` or ``["sft", "dpo"]`` (DPO only for HyRe).
        out_dir: Run folder: datasets and adapters go under it.
        name: Prefix of the served adapter names (``<name>-<fingerprint>``).
        registry: Folder of ``active.json`` (default: ``out_dir``).
        encoder: Encoder spec scoring accepted pairs for the SFT filter (``None``: keep all).
        eval_split: Labels split used for evaluation (``None``: a seeded share of jobs).
        max_eval_examples: Cap on evaluated examples (time on CPU).
        force: Replace adapters left by an earlier run with other settings.
        fingerprint: Hash of the input and settings.
        datasets: ``{stage: saved dataset folder}``.
        adapters: ``{stage: adapter folder}``.
        metrics: ``{system: {metric: value}}`` from ``evaluate``.
        decision: ``{"switch": bool, "reason": str, "name": str}``.
        active: The registry record after the switch.
    """

    data: str
    task: str
    stages: list[str]
    out_dir: str
    name: str
    registry: str | None
    encoder: str | None
    eval_split: str | None
    max_eval_examples: int | None
    force: bool
    fingerprint: str
    datasets: dict[str, str]
    adapters: dict[str, str]
    metrics: dict[str, dict[str, Any]]
    decision: dict[str, Any]
    active: dict[str, Any]


def inputs_for(
    data: str,
    *,
    task: str = "hyre",
    stages: tuple[str, ...] = ("sft", "dpo"),
    out_dir: str = "runs/adapters",
    name: str | None = None,
    registry: str | None = None,
    encoder: str | None = "all-minilm-l6-v2",
    eval_split: str | None = None,
    max_eval_examples: int | None = 64,
    force: bool = False,
) -> FinetuneState:
    """The input state of a fine-tuning run (see :class:`FinetuneState`)."""
    stages_l = list(stages)
    if not stages_l or stages_l[0] != "sft" or not set(stages_l) <= {"sft", "dpo"}:
        raise AgenticMatchError(f"stages must be ['sft'] or ['sft', 'dpo'], not {stages_l}")
    if "dpo" in stages_l and task != "hyre":
        raise AgenticMatchError("DPO is built for HyRe only; use stages=('sft',) for irc")
    return FinetuneState(
        data=str(data),
        task=task,
        stages=stages_l,
        out_dir=str(out_dir),
        name=name or task,
        registry=registry,
        encoder=encoder,
        eval_split=eval_split,
        max_eval_examples=max_eval_examples,
        force=force,
    )


def default_corpus_loader(data: str) -> Corpus:
    """``"demo"`` -> the packaged demo corpus; else a benchmark-layout folder."""
    from agentic_match.data import load_benchmark, load_demo

    return load_demo() if data == "demo" else load_benchmark(data)


def default_scorer(encoder: str) -> ft_data.Scorer:
    """Cosine of a :class:`~agentic_match.retrieval.encoder.BiEncoder` loaded from ``encoder``."""
    from agentic_match.retrieval.encoder import BiEncoder

    return ft_data.encoder_scorer(BiEncoder.load(encoder))


def default_budget(base_model: str) -> ft_data.TokenBudget:
    """Token counting with the base model's tokenizer."""
    from transformers import AutoTokenizer

    from agentic_match.models import resolve_generator

    return ft_data.TokenBudget(AutoTokenizer.from_pretrained(resolve_generator(base_model)))


@dataclass
class FinetuneOps:
    """What the graph's nodes call; tests replace any of them with fakes."""

    load_corpus: Callable[[str], Corpus] = default_corpus_loader
    scorer: Callable[[str], ft_data.Scorer] = default_scorer
    budget: Callable[[str], ft_data.TokenBudget] = default_budget
    build: Callable[..., ft_data.FinetuneData] = ft_data.build
    train_sft: Callable[..., Any] = ft_trainer.train_sft
    train_dpo: Callable[..., Any] = ft_trainer.train_dpo
    heldout_loss: Callable[..., dict] = ft_eval.heldout_loss
    preference_accuracy: Callable[..., dict] = ft_eval.preference_accuracy
    switch: Callable[..., dict] = ft_serving.switch_adapter
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class FinetuneContext:
    """Runtime context of ``finetune_adapter``.

    Attributes:
        ops: The functions nodes call (default: the real ones).
        data_config: How datasets are built.
        config: LoRA / trainer settings (``base_model`` is the generator).
        server: A running managed server (``ServerInfo``) to load the new adapter into;
            ``None``: the switch is only recorded in the registry.
    """

    ops: FinetuneOps = field(default_factory=FinetuneOps)
    data_config: DataConfig = field(default_factory=DataConfig)
    config: FinetuneConfig = field(default_factory=FinetuneConfig)
    server: Any = None

    def settings_key(self) -> str:
        return digest(self.data_config.to_dict(), self.config.identity())


def _ctx(runtime: Runtime[FinetuneContext]) -> FinetuneContext:
    return runtime.context if runtime.context is not None else FinetuneContext()


def _say(**event: Any) -> None:
    get_stream_writer()(event)


def adapter_dir(state: FinetuneState, stage: str) -> Path:
    """Where a stage's adapter is trained: ``<out_dir>/<task>-sft`` or ``<task>-sft-dpo``."""
    return Path(state["out_dir"]) / f"{state['task']}-{'sft' if stage == 'sft' else 'sft-dpo'}"


def prepare(state: FinetuneState, runtime: Runtime[FinetuneContext]) -> dict:
    """Build (and save) the fine-tuning datasets of the run."""
    ctx = _ctx(runtime)
    ops, config = ctx.ops, ctx.config
    fp = digest({k: state.get(k) for k in ("data", "task", "stages", "encoder", "eval_split")}, ctx.settings_key())
    check_fingerprint({**state, "results": state.get("datasets")}, fp)
    corpus = ops.load_corpus(state["data"])
    eval_labels = corpus.labels_for(state["eval_split"]) if state.get("eval_split") else None
    budget = ops.budget(config.base_model)
    root = Path(state["out_dir"]) / "data"
    saved: dict[str, str] = {}
    sft = ops.build(
        state["task"],
        "sft",
        corpus,
        None,
        eval_labels=eval_labels,
        config=ctx.data_config,
        budget=budget,
        scorer=ops.scorer(state["encoder"]) if state.get("encoder") and state["task"] == "hyre" else None,
    )
    saved["sft"] = str(ft_data.save_data(sft, root / f"{state['task']}-sft"))
    _say(event="dataset", stage="sft", sizes=sft.sizes(), digest=sft.digest)
    if "dpo" in state["stages"]:
        dpo = ops.build(
            "hyre", "dpo", corpus, None, eval_labels=eval_labels, config=ctx.data_config, budget=budget,
            examples=sft.examples,
        )  # fmt: skip
        saved["dpo"] = str(ft_data.save_data(dpo, root / "hyre-dpo"))
        _say(event="dataset", stage="dpo", sizes=dpo.sizes(), digest=dpo.digest)
    return {"fingerprint": fp, "datasets": saved}


def train_sft(state: FinetuneState, runtime: Runtime[FinetuneContext]) -> dict:
    """SFT of the LoRA adapter."""
    ctx = _ctx(runtime)
    data = ft_data.load_data(state["datasets"]["sft"])
    _say(event="train", stage="sft", examples=len(data.dataset["train"]))
    result = ctx.ops.train_sft(data, ctx.config, adapter_dir(state, "sft"), force=bool(state.get("force")))
    return {"adapters": {**(state.get("adapters") or {}), "sft": str(result.adapter_dir)}}


def train_dpo(state: FinetuneState, runtime: Runtime[FinetuneContext]) -> dict:
    """DPO from the SFT adapter (HyRe only)."""
    ctx = _ctx(runtime)
    data = ft_data.load_data(state["datasets"]["dpo"])
    _say(event="train", stage="dpo", pairs=len(data.dataset["train"]))
    result = ctx.ops.train_dpo(
        data,
        ctx.config,
        adapter_dir(state, "dpo"),
        init_adapter=state["adapters"]["sft"],
        force=bool(state.get("force")),
    )
    return {"adapters": {**state["adapters"], "dpo": str(result.adapter_dir)}}


def evaluate(state: FinetuneState, runtime: Runtime[FinetuneContext]) -> dict:
    """Held-out measures of every adapter, and whether the new one should be served."""
    ctx = _ctx(runtime)
    ops = ctx.ops
    dpo_data = ft_data.load_data(state["datasets"]["dpo"]) if "dpo" in state["adapters"] else None
    metrics, decision = ft_eval.decide_switch(
        ft_data.load_data(state["datasets"]["sft"]),
        state["adapters"],
        state["stages"][-1],
        state.get("registry") or state["out_dir"],
        ctx.config,
        dpo_data=dpo_data,
        max_examples=state.get("max_eval_examples"),
        heldout_loss=ops.heldout_loss,
        preference_accuracy=ops.preference_accuracy,
    )
    if metrics:
        _say(event="evaluate", metrics=metrics, reason=decision["reason"])
    return {"metrics": metrics, "decision": decision}


def switch(state: FinetuneState, runtime: Runtime[FinetuneContext]) -> dict:
    """Record the new adapter as active (and load it into a running server)."""
    ctx = _ctx(runtime)
    path = state["adapters"][state["stages"][-1]]
    name = ft_serving.versioned_name(state["name"], path)
    record = ctx.ops.switch(
        state.get("registry") or state["out_dir"], name, path, metrics=state["metrics"], server=ctx.server
    )
    _say(event="switch", name=name, path=path)
    return {"active": record, "decision": {**state["decision"], "name": name}}


def after_sft(state: FinetuneState) -> str:
    return "train_dpo" if "dpo" in state["stages"] else "evaluate"


def after_evaluate(state: FinetuneState) -> str:
    return "switch" if state["decision"]["switch"] else END


def compile_graph(*, checkpointer: Any = None):
    """The compiled ``finetune_adapter`` graph; its context (:class:`FinetuneContext`) comes with each run."""
    graph = StateGraph(FinetuneState, context_schema=FinetuneContext)
    graph.add_node("prepare", prepare)
    graph.add_node("train_sft", train_sft)
    graph.add_node("train_dpo", train_dpo)
    graph.add_node("evaluate", evaluate)
    graph.add_node("switch", switch)
    graph.add_edge(START, "prepare")
    graph.add_edge("prepare", "train_sft")
    graph.add_conditional_edges("train_sft", after_sft, ["train_dpo", "evaluate"])
    graph.add_edge("train_dpo", "evaluate")
    graph.add_conditional_edges("evaluate", after_evaluate, ["switch", END])
    graph.add_edge("switch", END)
    return graph.compile(checkpointer=checkpointer, name="finetune_adapter")


def build_graph(
    ops: FinetuneOps | None = None,
    *,
    data_config: DataConfig = DataConfig(),
    config: FinetuneConfig | None = None,
    server: Any = None,
    checkpointer: Any = None,
) -> BoundGraph:
    """The ``finetune_adapter`` graph with its context bound (see :class:`FinetuneContext`).

    A checkpointer makes a finished stage not rerun on resume.
    """
    ctx = FinetuneContext(ops or FinetuneOps(), data_config, config or FinetuneConfig(), server)
    return BoundGraph(compile_graph(checkpointer=checkpointer), ctx)


def make_graph(config: dict | None = None):
    """Factory for ``langgraph.json``: real training, switching recorded in the registry.

    The served adapter is switched in the registry only (no server is attached here; a
    server started later with ``agentic-match serve --adapter`` serves it).
    """
    from agentic_match.config import load_settings

    settings = load_settings()
    return build_graph(config=FinetuneConfig(base_model=settings.llm.model)).graph
