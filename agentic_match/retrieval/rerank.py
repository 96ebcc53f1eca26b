"""Reranking a first stage's top-k: a trained cross-encoder, or a local LLM's P(yes).

* :class:`CrossEncoderReranker` - a sentence-transformers ``CrossEncoder`` built from the
  encoder backbone and trained on the hiring labels (:func:`train_cross_encoder`, binary
  cross-entropy or LambdaLoss).
* :class:`LLMReranker` - asks the served model "does this resume fit this job?" and scores
  P(yes) from the first answer token's log-probabilities (one token generated per pair,
  through the one :class:`~agentic_match.llm.LLMClient`, cached).
* :class:`RerankedRanker` - a ``Ranker``: the first stage's (FAISS) top ``depth``, reranked.

Rerankers always score ``(job, resume)`` pairs, so one reranker serves both tasks; the
wrapper orients the pairs by the query's kind. :func:`rerank_run` and
:func:`make_rerank_node` rerank an existing run (e.g. inside a graph).
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import prompts
from agentic_match.data.render import RenderConfig, render
from agentic_match.data.schema import Corpus, Document
from agentic_match.errors import ConfigError, DataError, LLMError
from agentic_match.evaluation.ranker import Ranker, Run

log = logging.getLogger(__name__)

Pair = tuple[Document, Document]
"""``(job, resume)``."""
MODEL_CONFIG_FILE = "cross_encoder_config.json"


@runtime_checkable
class Reranker(Protocol):
    """Scores ``(job, resume)`` pairs; higher is a better fit."""

    def score(self, pairs: Sequence[Pair]) -> list[float]: ...


# ---------------------------------------------------------------------------- wrapper


def _oriented(query: Document, cands: Sequence[Document]) -> list[Pair]:
    return [(query, c) if query.kind == "job" else (c, query) for c in cands]


def rerank_run(
    reranker: Reranker, queries: Sequence[Document], candidates: Sequence[Document], run: Run, depth: int = 100
) -> Run:
    """Each query's top ``depth`` documents of ``run``, rescored by ``reranker`` (sorted).

    Raises:
        DataError: the run names a query or document that is not given.
    """
    by_id = {c.id: c for c in candidates}
    out: Run = {}
    for q in queries:
        top = sorted(run.get(q.id, {}).items(), key=lambda x: -x[1])[:depth]
        missing = [d for d, _ in top if d not in by_id]
        if missing:
            raise DataError(f"run of query {q.id!r} names unknown candidate(s): {', '.join(missing[:5])}")
        docs = [by_id[d] for d, _ in top]
        scores = reranker.score(_oriented(q, docs)) if docs else []
        out[q.id] = dict(sorted(zip((d.id for d in docs), map(float, scores)), key=lambda x: -x[1]))
    return out


class RerankedRanker:
    """A ``Ranker``: ``first_stage``'s top ``depth`` per query, reranked by ``reranker``.

    Only the reranked top ``depth`` is returned (a run of fewer than ``k`` documents when
    ``k > depth``); the first stage's scores are discarded.
    """

    def __init__(self, first_stage: Ranker, reranker: Reranker, depth: int = 100) -> None:
        if depth < 1:
            raise ConfigError(f"depth must be >= 1, got {depth}")
        self.first_stage, self.reranker, self.depth = first_stage, reranker, depth
        self.last_rerank_s = 0.0
        """Seconds spent in the reranker by the last :meth:`rank` call (latency reports)."""

    def rank(self, queries: Sequence[Document], candidates: Sequence[Document], k: int = 100) -> Run:
        run = self.first_stage.rank(queries, candidates, k=max(k, self.depth))
        t0 = time.perf_counter()
        out = rerank_run(self.reranker, queries, candidates, run, self.depth)
        self.last_rerank_s = time.perf_counter() - t0
        return {q: dict(list(docs.items())[:k]) for q, docs in out.items()}


def make_rerank_node(reranker: Reranker, depth: int = 100) -> Callable[[dict], dict]:
    """A graph node: state ``{"queries", "candidates"}`` (document rows) + ``"run"`` -> ``{"run"}``."""
    from agentic_match.data.rows import document_from_row

    def docs(rows: list[dict]) -> list[Document]:
        out = []
        for r in rows:
            kind = r.get("kind") or ("job" if "fields" in r else "resume")
            d = document_from_row(r, kind, where=("<state>", None))
            if isinstance(d, list):
                raise DataError(d)
            out.append(d)
        return out

    def rerank(state: dict) -> dict:
        return {"run": rerank_run(reranker, docs(state["queries"]), docs(state["candidates"]), state["run"], depth)}

    return rerank


# ---------------------------------------------------------------------------- cross-encoder


@dataclass
class CrossEncoderConfig:
    """Settings of :func:`train_cross_encoder` (saved beside the model)."""

    base: str = "all-minilm-l6-v2"
    """Backbone: encoder spec or folder (a fresh one-logit head is put on top)."""
    loss: Literal["bce", "lambda"] = "bce"
    """``"bce"`` (pointwise binary cross-entropy) or ``"lambda"`` (listwise LambdaLoss, one
    list per job)."""
    epochs: int = 1
    """Training epochs (the last one is kept)."""
    batch_size: int = 16
    """Pairs per batch (bce) or jobs per batch (lambda)."""
    learning_rate: float = 2e-5
    """Peak AdamW learning rate."""
    warmup_ratio: float = 0.1
    """Share of steps with linear warm-up."""
    max_length: int = 256
    """Tokens per (job, resume) pair; longer pairs are truncated."""
    random_negatives: int = 1
    """Random resumes of the split added per accepted pair as negatives (beside the
    labelled rejections)."""
    list_size: int = 8
    """Documents per job list (lambda): its labelled resumes, topped up with random ones."""
    max_doc_chars: int = 2000
    """Characters of each rendered document fed in (tokenisation cost of long resumes)."""
    train_split: str = "train"
    """Split of labels and documents to train on."""
    seed: int = 0
    """Seed of sampling, order and dropout."""
    device: str | None = None
    """Torch device (``None``: CUDA when available)."""

    def __post_init__(self) -> None:
        problems = []
        if self.loss not in ("bce", "lambda"):
            problems.append("loss must be 'bce' or 'lambda'")
        if self.epochs < 1 or self.batch_size < 1:
            problems.append("epochs and batch_size must be >= 1")
        if self.learning_rate <= 0:
            problems.append("learning_rate must be > 0")
        if self.max_length < 16 or self.list_size < 2 or self.random_negatives < 0:
            problems.append("max_length must be >= 16, list_size >= 2, random_negatives >= 0")
        if problems:
            raise ConfigError("invalid cross-encoder config: " + "; ".join(problems))


def _cross_encoder_examples(
    corpus: Corpus, config: CrossEncoderConfig, rng: random.Random
) -> list[tuple[str, list[str], list[float]]]:
    """``[(job_id, [resume_id, ...], [label, ...])]`` grouped by job."""
    from agentic_match.retrieval.train import training_labels

    labels = training_labels(corpus, config.train_split)
    pool = [r for r in corpus.split_ids("resume", config.train_split) if r in corpus.resumes]
    by_job: dict[str, dict[str, float]] = {}
    for lab in labels:
        if lab.job_id in corpus.jobs and lab.resume_id in corpus.resumes:
            by_job.setdefault(lab.job_id, {})[lab.resume_id] = 1.0 if lab.label > 0 else 0.0
    out = []
    for jid, docs in by_job.items():
        if not any(docs.values()):
            continue
        extra = config.random_negatives * int(sum(docs.values()))
        if config.loss == "lambda":
            extra = max(extra, config.list_size - len(docs))
        cands = [r for r in rng.sample(pool, min(len(pool), extra + len(docs))) if r not in docs][:extra]
        docs = {**docs, **{r: 0.0 for r in cands}}
        ids = list(docs)
        if config.loss == "lambda" and len(ids) > config.list_size:
            pos = [r for r in ids if docs[r] > 0]
            neg = [r for r in ids if docs[r] <= 0]
            ids = pos[: config.list_size - 1] + neg[: config.list_size - min(len(pos), config.list_size - 1)]
        out.append((jid, ids, [docs[r] for r in ids]))
    if not out:
        raise DataError(
            f"{corpus.source}: no job with an accepted {config.train_split!r} label to train a cross-encoder on"
        )
    return out


def train_cross_encoder(
    corpus: Corpus,
    config: CrossEncoderConfig = CrossEncoderConfig(),
    out_dir: str | Path = "runs/cross-encoder",
    *,
    progress: bool = True,
) -> Path:
    """Train a cross-encoder on the corpus's training labels; returns ``out_dir/model``.

    Resumable by epoch: ``checkpoints/last`` holds the model, optimizer and schedule; a
    finished run returns at once; a folder holding another run's settings is refused.
    """
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder
    from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, LambdaLoss
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    from agentic_match.files import atomic_write_bytes, digest, replace_dir
    from agentic_match.models import resolve_encoder
    from agentic_match.retrieval.train import set_seed

    out_dir = Path(out_dir)
    rng = random.Random(config.seed)
    examples = _cross_encoder_examples(corpus, config, rng)
    base = resolve_encoder(config.base)
    identity = {"config": asdict(config), "base": str(base), "data_digest": digest(examples)}
    cfg_path, model_dir, last = out_dir / "config.json", out_dir / "model", out_dir / "checkpoints" / "last"
    if cfg_path.is_file() and json.loads(cfg_path.read_text(encoding="utf-8")) != identity:
        raise ConfigError(f"{out_dir} holds a cross-encoder run with other settings or data; use another folder")
    state = {"epochs_done": 0, "history": []}
    if (last / "state.json").is_file():
        state = json.loads((last / "state.json").read_text(encoding="utf-8"))
    if (model_dir / MODEL_CONFIG_FILE).is_file() and state["epochs_done"] >= config.epochs:
        return model_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(cfg_path, json.dumps(identity, indent=2).encode("utf-8"))

    resuming = state["epochs_done"] > 0
    model = CrossEncoder(
        str(last / "model" if resuming else base),
        num_labels=1,
        max_length=config.max_length,
        device=config.device,
        local_files_only=True,
    )
    loss_fn = BinaryCrossEntropyLoss(model) if config.loss == "bce" else LambdaLoss(model)
    texts: dict[tuple[str, str], str] = {}

    def text(kind: str, i: str) -> str:
        if (kind, i) not in texts:
            doc = corpus.jobs[i] if kind == "job" else corpus.resumes[i]
            texts[(kind, i)] = render(doc)[: config.max_doc_chars]
        return texts[(kind, i)]

    if config.loss == "bce":
        units = [(j, r, y) for j, ids, ys in examples for r, y in zip(ids, ys)]
    else:
        units = examples  # type: ignore[assignment]
    per_epoch = math.ceil(len(units) / config.batch_size)
    optimizer = torch.optim.AdamW(model.model.parameters(), lr=config.learning_rate)
    total = per_epoch * config.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total), total)
    if resuming:
        ts = torch.load(last / "trainer_state.pt", map_location="cpu", weights_only=False)
        optimizer.load_state_dict(ts["optimizer"])
        scheduler.load_state_dict(ts["scheduler"])

    for epoch in range(state["epochs_done"] + 1, config.epochs + 1):
        set_seed(config.seed * 1000 + epoch)
        order = random.Random(config.seed * 1000 + epoch).sample(range(len(units)), len(units))
        model.model.train()
        t0, running, n = time.perf_counter(), 0.0, 0
        bar = tqdm(
            range(0, len(order), config.batch_size),
            desc=f"cross-encoder epoch {epoch}",
            disable=not progress,
            leave=False,
        )
        for start in bar:
            batch = [units[i] for i in order[start : start + config.batch_size]]
            if config.loss == "bce":
                inputs = [[text("job", j) for j, _, _ in batch], [text("resume", r) for _, r, _ in batch]]
                loss = loss_fn(inputs, torch.tensor([y for _, _, y in batch], device=model.device))
            else:
                inputs = [
                    [text("job", j) for j, _, _ in batch],
                    [[text("resume", r) for r in ids] for _, ids, _ in batch],
                ]
                loss = loss_fn(inputs, [torch.tensor(ys, device=model.device) for _, _, ys in batch])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            running, n = running + float(loss.detach()), n + 1
            bar.set_postfix(loss=f"{running / n:.4f}")
        bar.close()
        state["history"].append(
            {"epoch": epoch, "train_loss": running / max(n, 1), "train_s": round(time.perf_counter() - t0, 1)}
        )
        state["epochs_done"] = epoch
        tmp = out_dir / f".last.tmp-{uuid.uuid4().hex[:8]}"
        try:
            model.save(str(tmp / "model"))
            torch.save(
                {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, tmp / "trainer_state.pt"
            )
            (tmp / "state.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
            last.parent.mkdir(parents=True, exist_ok=True)
            replace_dir(tmp, last)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if progress:
            print(f"cross-encoder epoch {epoch}/{config.epochs}: loss {running / max(n, 1):.4f}", flush=True)

    tmp = out_dir / f".model.tmp-{uuid.uuid4().hex[:8]}"
    try:
        shutil.copytree(last / "model", tmp)
        (tmp / MODEL_CONFIG_FILE).write_text(
            json.dumps({**identity, "history": state["history"]}, indent=2), encoding="utf-8"
        )
        replace_dir(tmp, model_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return model_dir


class CrossEncoderReranker:
    """A trained cross-encoder scoring ``(job, resume)`` pairs (raw logits: ranking only).

    Args:
        model: A ``CrossEncoder`` or the folder :func:`train_cross_encoder` wrote.
        batch_size: Pairs per forward pass.
        max_doc_chars: Characters of each rendered document (as in training).
        render_config: How documents become text.
    """

    def __init__(
        self,
        model: Any,
        *,
        batch_size: int = 32,
        max_doc_chars: int | None = None,
        render_config: RenderConfig = RenderConfig(),
        device: str | None = None,
    ) -> None:
        if isinstance(model, (str, Path)):
            from sentence_transformers.cross_encoder import CrossEncoder

            folder = Path(model)
            if not (folder / "config.json").is_file():
                from agentic_match.errors import ModelNotFoundError

                raise ModelNotFoundError(f"{folder} is not a cross-encoder folder (no config.json)")
            meta = folder / MODEL_CONFIG_FILE
            saved = json.loads(meta.read_text(encoding="utf-8"))["config"] if meta.is_file() else {}
            max_doc_chars = max_doc_chars or saved.get("max_doc_chars")
            model = CrossEncoder(
                str(folder), num_labels=1, max_length=saved.get("max_length"), device=device, local_files_only=True
            )
        self.model = model
        self.batch_size = batch_size
        self.max_doc_chars = max_doc_chars or 2000
        self.render_config = render_config

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        cut = self.max_doc_chars
        inputs = [(render(j, self.render_config)[:cut], render(r, self.render_config)[:cut]) for j, r in pairs]
        import torch

        scores = self.model.predict(
            inputs, batch_size=self.batch_size, activation_fn=torch.nn.Identity(), show_progress_bar=False
        )
        return [float(s) for s in scores]


# ---------------------------------------------------------------------------- LLM


def p_yes(top_logprobs: dict[str, float]) -> float | None:
    """P(yes) among the yes / no answers of one token's top log-probabilities.

    Tokens are matched case-insensitively after stripping spaces (``"Yes"``, ``" yes"``);
    ``None`` when neither answer is among them (the caller counts those).
    """
    yes = sum(math.exp(lp) for t, lp in top_logprobs.items() if t.strip().lower() == "yes")
    no = sum(math.exp(lp) for t, lp in top_logprobs.items() if t.strip().lower() == "no")
    return yes / (yes + no) if yes + no > 0 else None


def fit_messages(job: str, resume: str, max_doc_chars: int = 1500) -> list[dict[str, str]]:
    """The yes/no prompt "does this resume fit this job?" over two rendered texts, fenced."""
    content = prompts.render(
        "rerank",
        job=prompts.fence(job[:max_doc_chars], "job"),
        resume=prompts.fence(resume[:max_doc_chars], "resume"),
    )
    return [{"role": "user", "content": content}]


class LLMReranker:
    """Scores a pair by the served model's P(yes) to "does this resume fit this job?".

    One token is generated per pair with ``logprobs=True, top_logprobs=...`` (vLLM's
    OpenAI server supports both), through the client's sampling keywords, so requests are
    cached like every other. Pairs whose top tokens hold neither yes nor no score 0.5 and
    are counted in ``unanswered``.

    Args:
        llm: An :class:`~agentic_match.llm.LLMClient` (its ``Completion`` must carry
            ``top_logprobs``).
        top_logprobs: Alternatives returned for the first token.
        max_doc_chars: Characters of each rendered document in the prompt.
    """

    def __init__(
        self,
        llm: Any,
        *,
        top_logprobs: int = 10,
        max_doc_chars: int = 1500,
        render_config: RenderConfig = RenderConfig(),
    ) -> None:
        self.llm, self.top_logprobs, self.max_doc_chars = llm, top_logprobs, max_doc_chars
        self.render_config = render_config
        self.unanswered = 0

    def messages(self, job: Document, resume: Document) -> list[dict[str, str]]:
        return fit_messages(render(job, self.render_config), render(resume, self.render_config), self.max_doc_chars)

    def score(self, pairs: Sequence[Pair]) -> list[float]:
        if not pairs:
            return []
        done = self.llm.chat_many(
            [self.messages(j, r) for j, r in pairs],
            max_tokens=1,
            temperature=0.0,
            logprobs=True,
            top_logprobs=self.top_logprobs,
        )
        out = []
        for c in done:
            tops = getattr(c, "top_logprobs", None)
            if tops is None:
                raise LLMError(
                    "the LLM client returned no log-probabilities: LLMReranker needs Completion.top_logprobs "
                    "(client support) and a server that honours logprobs=True"
                )
            p = p_yes(tops[0]) if tops else None
            if p is None:
                self.unanswered += 1
                p = 0.5
            out.append(p)
        return out


__all__ = [
    "CrossEncoderConfig",
    "CrossEncoderReranker",
    "LLMReranker",
    "RerankedRanker",
    "Reranker",
    "fit_messages",
    "make_rerank_node",
    "p_yes",
    "rerank_run",
    "train_cross_encoder",
]
