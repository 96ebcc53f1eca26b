"""Retrieval commands: ``train`` (ConFit bi-encoder) and ``mine`` (hard negatives)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from agentic_match.cli.context import settings
from agentic_match.cli.options import config_options, corpus_options
from agentic_match.errors import ConfigError
from agentic_match.retrieval.mining import MiningConfig
from agentic_match.retrieval.training import ConFitConfig

console = Console(stderr=True)


@config_options("train", ConFitConfig, exclude=("negatives",), defaults=lambda: {"encoder": settings().encoder})
@corpus_options()
def train(
    out: Annotated[Path, typer.Option("--out", help="Run folder: checkpoints and the final model/ (rerun to resume).")],
    negatives: Annotated[
        str,
        typer.Option(
            help="Hard negatives: 'rejected' (rejected labels), 'none' (in-batch only) or a FILE from `mine`."
        ),
    ] = "rejected",
    config: ConFitConfig | None = None,
    corpus: Any = None,
) -> None:
    """Train a ConFit bi-encoder on accepted train labels (resumable: rerun the same command)."""
    from agentic_match.retrieval.mining import load_negatives
    from agentic_match.retrieval.training import train_confit

    assert config is not None  # built by config_options
    mode = negatives if negatives in ("rejected", "none") else "rejected"
    negs = None
    if negatives not in ("rejected", "none"):
        negs = load_negatives(negatives, corpus)
    has_dev = any(k.startswith(f"{config.eval_split}_") for k in corpus.qrels) if config.eval_split else False
    config = replace(config, negatives=mode, eval_split=config.eval_split if has_dev else None)
    result = train_confit(corpus, config, out, negs)
    if not result.epochs_run:
        console.print(f"already trained; nothing to do (best epoch {result.best_epoch})")
    console.print(f"model: {result.model_dir}  (best epoch {result.best_epoch})", highlight=False)


@config_options("mine", MiningConfig)
@corpus_options()
def mine(
    out: Annotated[Path, typer.Option("--out", help="Negatives JSONL to write (atomically).")],
    encoder: Annotated[
        Optional[str], typer.Option(help="Encoder trained without hard negatives (folder or spec); RUM only.")
    ] = None,
    method: Annotated[str, typer.Option(help="'rum' (Runner-Up Mining) or 'bm25' (BM25 top-k).")] = "rum",
    top_k: Annotated[int, typer.Option(help="BM25 depth sampled from (bm25 only).")] = 10,
    config: MiningConfig | None = None,
    corpus: Any = None,
) -> None:
    """Mine hard negatives for the accepted train pairs (RUM or BM25) into a JSONL file."""
    from agentic_match.retrieval.mining import (
        band_label,
        bm25_negatives,
        choose_band,
        mine_runner_up,
        parse_band,
        save_negatives,
    )

    assert config is not None  # built by config_options
    band, per_pair, seed = config.band, config.per_pair, config.seed
    if method not in ("rum", "bm25"):
        raise ConfigError(f"--method must be rum or bm25, got {method!r}")
    if method == "rum" and not encoder:
        raise ConfigError("RUM needs --encoder (a model trained without hard negatives)")
    chosen = None if band == "auto" else parse_band(band)
    if method == "bm25":
        negs = bm25_negatives(corpus, top_k=top_k, per_pair=per_pair, seed=seed)
    else:
        from agentic_match.retrieval.encoder import BiEncoder

        enc = BiEncoder.load(encoder)
        if chosen is None:
            chosen, shares = choose_band(enc, corpus)
            console.print(
                f"auto band: {band_label(chosen)} (share of dev positives per band: {shares})", highlight=False
            )
        negs, report = mine_runner_up(enc, corpus, chosen, per_pair=per_pair, seed=seed)
        console.print(
            f"band {band_label(chosen)}: {report.pairs} pairs, {report.negative_jobs} negative jobs, "
            f"{report.negative_resumes} negative resumes",
            highlight=False,
        )
    path = save_negatives(out, negs)
    console.print(f"wrote {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``mine`` to the root app."""
    app.command("train")(train)
    app.command("mine")(mine)


__all__ = ["mine", "register", "train"]
