"""The one encoder training loop: resumable epochs over a recipe's batches.

Every bi-encoder method of the toolkit - ConFit* (:mod:`.confit`), RankPO / SimRankPO / SFT
(:mod:`agentic_match.align.trainer`) and the fairness-regularised ConFit
(:mod:`agentic_match.fairness.mitigation`) - is an :class:`EncoderRecipe`: its data, its
batches, its step loss and its per-epoch evaluation. :func:`train_encoder` owns the rest:
the run's identity, model loading, the frozen embedding matrix, AdamW with a linear
warm-up, whole-epoch atomic checkpoints that a rerun resumes from, the choice of the best
epoch on dev, and the final model folder.

Why a loop of our own rather than ``SentenceTransformerTrainer``: the ConFit loss needs, per
batch, a variable number of hard negatives on *both* sides plus masks of known positives,
and RankPO needs precomputed reference margins per example, which the trainer's
fixed-column datasets cannot express without padding every row to the same shape; and the
resume contract (whole epochs, model + optimizer + schedule in one atomic checkpoint, the
best epoch chosen with our own evaluation) is simpler to guarantee in one short loop than
through trainer callbacks. The losses are sentence-transformers-style modules, so they work
with the trainer too; the cross-encoder, whose data fits the trainer, uses
``CrossEncoderTrainer`` (:mod:`.cross_encoder`).

Layout of ``out_dir``::

    config.json            the arguments and the recipe's identity (checked on resume)
    checkpoints/last/      model/ + trainer_state.pt + state.json, replaced atomically per epoch
    checkpoints/best/      the best epoch so far on dev (recipes that keep the best epoch)
    model/                 the final encoder, with the recipe's meta file beside the weights
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from agentic_match.errors import ConfigError
from agentic_match.files import atomic_write_bytes, replace_dir, temp_sibling, write_json
from agentic_match.retrieval.encoder import BiEncoder, EncoderSettings, load_sentence_transformer
from agentic_match.retrieval.hyre_view import HyReView
from agentic_match.retrieval.training.args import TrainingArguments

if TYPE_CHECKING:
    from torch import Tensor

    from agentic_match.data.render import RenderConfig
    from agentic_match.data.schema import Corpus

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"


@dataclass
class TrainResult:
    """What a training call did."""

    out_dir: Path
    model_dir: Path
    best_epoch: int
    history: list[dict[str, Any]] = field(default_factory=list)
    epochs_run: list[int] = field(default_factory=list)
    """Epochs trained by this call (empty when the run was already complete)."""
    finished: bool = True
    """False when ``stop_after`` ended the call before the last epoch."""


class EncoderRecipe(ABC):
    """What one training method adds to :func:`train_encoder`.

    Subclasses set the class attributes and implement :meth:`batches` and :meth:`loss`; the
    other hooks have neutral defaults.

    Attributes:
        meta_file: Written beside the final model's weights: the run's identity and history.
        keep: ``"best"`` (the epoch with the best :meth:`evaluate` score; the last one when
            there is no score) or ``"last"``.
        label: Names the run in progress lines (``"epoch"``, ``"rankpo epoch"``).
    """

    meta_file: str = "train_config.json"
    keep: Literal["best", "last"] = "best"
    label: str = "epoch"

    @abstractmethod
    def base_folder(self) -> Path:
        """The encoder folder training starts from."""

    @property
    def temperature(self) -> float:
        """``τ`` saved with the model (its score scale)."""
        return 0.05

    @property
    def render_config(self) -> RenderConfig | None:
        """How documents become text for evaluation (``None``: the default rendering)."""
        return None

    @property
    def hyre_view(self) -> HyReView | None:
        """How the model reads HyRe text, saved with it (``None``: as its base model does)."""
        return None

    def identity(self) -> dict[str, Any]:
        """What besides the arguments makes this run (data digests, model fingerprints)."""
        return {}

    def prepare(self, model: Any, *, out_dir: Path, resuming: bool) -> None:
        """Called once the model is loaded, before the optimizer (texts, loss, reference)."""
        return None  # an optional hook: most recipes need nothing here

    @abstractmethod
    def batches(self, epoch: int) -> list[Any]:
        """The batches of ``epoch`` (1-based), deterministic: a resumed run sees the same ones."""

    @abstractmethod
    def loss(self, model: Any, batch: Any, rng: random.Random) -> Tensor | tuple[Tensor, dict[str, float]]:
        """The step loss of one batch, optionally with named terms to average and log."""

    def evaluate(self, encoder: BiEncoder) -> tuple[float, dict[str, Any]]:
        """``(score that chooses the best epoch, or nan; fields added to the epoch record)``."""
        return math.nan, {}

    def describe(self, record: dict[str, Any]) -> str:
        """The progress line of a finished epoch."""
        dev = record.get("dev_ndcg@10")
        return f"loss {record['train_loss']:.4f}  dev nDCG@10 {'n/a' if dev is None else f'{dev:.2f}'}"


# ---------------------------------------------------------------------------- helpers


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (the loop reseeds per epoch so a resumed run matches)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def to_device(features: dict, device: Any) -> dict:
    """Move a tokenized feature dict to ``device``."""
    return {k: (v.to(device) if hasattr(v, "to") else v) for k, v in features.items()}


def embed(model: Any, texts: Sequence[str]) -> Tensor:
    """Sentence embeddings of ``texts`` with gradients (one tokenized forward pass)."""
    return model(to_device(model.preprocess(list(texts)), model.device))["sentence_embedding"]


def dev_score(encoder: BiEncoder, corpus: Corpus, split: str = "dev") -> tuple[float, dict[str, dict[str, float]]]:
    """Mean nDCG@10 over the split's ranking tasks (those with qrels), and every metric.

    Returns ``(nan, {})`` when the corpus has no qrels for ``split``.
    """
    from agentic_match.evaluation import evaluate, load_task

    metrics: dict[str, dict[str, float]] = {}
    for task in ("rank_resume", "rank_job"):
        if f"{split}_{task}" not in corpus.qrels:
            continue
        result = evaluate(encoder, load_task(corpus, split, task), k=100)
        metrics[task] = dict(result.metrics)
    if not metrics:
        return math.nan, {}
    return sum(m["ndcg@10"] for m in metrics.values()) / len(metrics), metrics


def save_encoder(model: Any, folder: Path, infer_len: int, settings: EncoderSettings) -> None:
    """Save with the window the model serves with and the encoder settings (its score
    scale and how it reads HyRe text)."""
    from agentic_match.retrieval.encoder import SETTINGS_FILE

    train_len = model.max_seq_length
    model.max_seq_length = infer_len
    try:
        model.save(str(folder))
    finally:
        model.max_seq_length = train_len
    (folder / SETTINGS_FILE).write_text(json.dumps(asdict(settings), indent=2), encoding="utf-8")


def saved_hyre_view(folder: Path) -> HyReView:
    """The HyRe view saved with an encoder folder (the default when it has none)."""
    from agentic_match.retrieval.encoder import SETTINGS_FILE

    path = Path(folder) / SETTINGS_FILE
    saved = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    return HyReView.of(saved.get("hyre"))


def write_checkpoint(
    dst: Path, model: Any, infer_len: int, settings: EncoderSettings, trainer_state: dict | None, state: dict
) -> None:
    """Write a checkpoint folder (model, optimizer state, progress) atomically to ``dst``."""
    import torch

    tmp = temp_sibling(dst)
    try:
        tmp.mkdir(parents=True)
        save_encoder(model, tmp / "model", infer_len, settings)
        if trainer_state is not None:
            torch.save(trainer_state, tmp / "trainer_state.pt")
        (tmp / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
        replace_dir(tmp, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_identity(out_dir: Path, identity: dict[str, Any]) -> None:
    path = out_dir / CONFIG_FILE
    if not path.is_file():
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    if saved != identity:
        diff = sorted(k for k in set(identity) | set(saved) if saved.get(k) != identity.get(k))
        raise ConfigError(
            f"{out_dir} holds a training run with other {', '.join(diff)}; "
            "use another output folder or delete it to start over"
        )


# ---------------------------------------------------------------------------- the loop


def train_encoder(
    recipe: EncoderRecipe,
    args: TrainingArguments,
    out_dir: str | Path,
    *,
    stop_after: int | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train ``recipe`` with ``args`` in ``out_dir``; rerunning the same call resumes it.

    The call continues after the last finished epoch (a finished run returns at once). Each
    epoch reseeds from ``args.seed`` and the epoch number, so a resumed run produces the
    same model as an uninterrupted one.

    Args:
        recipe: The method (data, batches, loss, evaluation).
        args: The loop's settings (saved in ``out_dir/config.json`` with the recipe's identity).
        out_dir: The run folder.
        stop_after: Train at most this many epochs in this call (time-sliced jobs).
        progress: Show a progress bar and one line per epoch.

    Raises:
        ConfigError: ``out_dir`` holds a run with other settings or data.
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    out_dir = Path(out_dir)
    identity = {"config": args.to_dict(), **recipe.identity()}
    _check_identity(out_dir, identity)

    model_dir = out_dir / "model"
    last_dir = out_dir / "checkpoints" / "last"
    best_dir = out_dir / "checkpoints" / "best"
    state: dict[str, Any] = {"epochs_done": 0, "history": [], "best_epoch": 0, "best_score": None}
    if (last_dir / "state.json").is_file():
        state = {**state, **json.loads((last_dir / "state.json").read_text(encoding="utf-8"))}

    def best_epoch() -> int:
        return state["best_epoch"] if recipe.keep == "best" else state["epochs_done"]

    if (model_dir / recipe.meta_file).is_file() and state["epochs_done"] >= args.epochs:
        log.info("%s: training already finished (epoch %d kept)", out_dir, best_epoch())
        return TrainResult(out_dir, model_dir, best_epoch(), state["history"], [], True)

    # ---- model, recipe state, optimiser, schedule (restored from the last checkpoint when resuming)
    resuming = state["epochs_done"] > 0
    model = load_sentence_transformer(last_dir / "model" if resuming else recipe.base_folder(), args.device)
    # One window for training and serving: the encoder's own unless the run asks for
    # another, and then the saved model serves with that one too (a model trained on 128
    # tokens and served on 256 reads text it never learned from).
    infer_len = int(args.max_seq_length or state.get("infer_len") or model.max_seq_length)
    model.max_seq_length = infer_len  # the recipe's token budgets (HyRe views) count in this window
    # What the saved model serves with: its score scale and how it reads HyRe text (the
    # recipe's view, else the base model's, so a second stage keeps what the first learned).
    served = EncoderSettings(
        temperature=recipe.temperature, hyre=recipe.hyre_view or saved_hyre_view(recipe.base_folder())
    )
    recipe.prepare(model, out_dir=out_dir, resuming=resuming)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not (out_dir / CONFIG_FILE).is_file():
        atomic_write_bytes(out_dir / CONFIG_FILE, json.dumps(identity, indent=2).encode("utf-8"))
    model.max_seq_length = infer_len  # again: prepare() may have loaded other models
    if args.freeze_embeddings:
        auto = getattr(model[0], "auto_model", None)
        if auto is not None and hasattr(auto, "get_input_embeddings"):
            auto.get_input_embeddings().weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        [
            {"params": [p for p in params if p.ndim > 1], "weight_decay": args.weight_decay},
            {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
        ],
        lr=args.learning_rate,
    )
    epoch_batches = {e: recipe.batches(e) for e in range(1, args.epochs + 1)}
    total_steps = sum(len(b) for b in epoch_batches.values())
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup_ratio * total_steps), total_steps)
    if resuming:
        ts = torch.load(last_dir / "trainer_state.pt", map_location="cpu", weights_only=False)
        optimizer.load_state_dict(ts["optimizer"])
        scheduler.load_state_dict(ts["scheduler"])
        log.info("%s: resuming after epoch %d", out_dir, state["epochs_done"])

    epochs_run: list[int] = []
    for epoch in range(state["epochs_done"] + 1, args.epochs + 1):
        if stop_after is not None and len(epochs_run) >= stop_after:
            return TrainResult(out_dir, model_dir, best_epoch(), state["history"], epochs_run, False)
        set_seed(args.seed * 1000 + epoch)
        rng = random.Random(args.seed * 1000 + epoch)
        model.train()
        t0 = time.perf_counter()
        total, n = 0.0, 0
        terms: dict[str, float] = {}
        bar = tqdm(
            epoch_batches[epoch], desc=f"{recipe.label} {epoch}/{args.epochs}", disable=not progress, leave=False
        )
        for batch in bar:
            out = recipe.loss(model, batch, rng)
            loss, extra = out if isinstance(out, tuple) else (out, {})
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            total += float(loss.detach())
            n += 1
            for k, v in extra.items():
                terms[k] = terms.get(k, 0.0) + float(v)
            bar.set_postfix(loss=f"{total / n:.4f}")
        bar.close()
        train_s = time.perf_counter() - t0

        # ---- evaluate, choose, checkpoint (best first: a crash in between redoes this epoch)
        model.eval()
        encoder = BiEncoder(
            model,
            replace(served, max_seq_length=infer_len, batch_size=args.eval_batch_size),
            render_config=recipe.render_config,
            memoize=False,
        )
        score, extras = recipe.evaluate(encoder)
        model.max_seq_length = infer_len  # encode() restores it, but be explicit
        record = {
            "epoch": epoch,
            "train_loss": total / max(n, 1),
            "steps": n,
            "train_s": round(train_s, 1),
            **{k: v / max(n, 1) for k, v in terms.items()},
            **extras,
        }
        state["history"].append(record)
        state["epochs_done"] = epoch
        state["infer_len"] = infer_len
        if recipe.keep == "best":
            better = math.isnan(score) or state["best_score"] is None or score > state["best_score"]
            if better:  # without a score the last epoch is kept
                state["best_epoch"] = epoch
                state["best_score"] = None if math.isnan(score) else score
                write_checkpoint(
                    best_dir, model, infer_len, served, None, {"epoch": epoch, "score": state["best_score"]}
                )
        ts = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}
        write_checkpoint(last_dir, model, infer_len, served, ts, state)
        epochs_run.append(epoch)
        line = f"{recipe.label} {epoch}/{args.epochs}: {recipe.describe(record)}  ({train_s:.0f}s)"
        log.info("%s", line)
        if progress:
            print(line, flush=True)

    # ---- final model: the kept epoch's weights, with the run's identity and history beside them
    kept = best_dir if recipe.keep == "best" else last_dir
    tmp = temp_sibling(model_dir)
    try:
        shutil.copytree(kept / "model", tmp)
        write_json(tmp / recipe.meta_file, {**identity, "best_epoch": best_epoch(), "history": state["history"]})
        replace_dir(tmp, model_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return TrainResult(out_dir, model_dir, best_epoch(), state["history"], epochs_run, True)


__all__ = [
    "CONFIG_FILE",
    "EncoderRecipe",
    "TrainResult",
    "dev_score",
    "embed",
    "save_encoder",
    "saved_hyre_view",
    "set_seed",
    "to_device",
    "train_encoder",
    "write_checkpoint",
]
