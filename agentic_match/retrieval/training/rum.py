"""Iterative Runner-Up Mining (ConFit v2): mine with the last model, retrain from the base.

A recipe over two capabilities: :func:`~agentic_match.retrieval.mining.mine_runner_up`
(negatives from a rank-percentile band of an encoder) and
:func:`~agentic_match.retrieval.training.confit.train_confit` (ConFit* with those negatives).
Every step is resumable: rounds live in ``out_dir/round-<t>`` and the mined negatives in
``out_dir/round-<t>/negatives.jsonl``.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from agentic_match.data.schema import Corpus
from agentic_match.retrieval.encoder import BiEncoder
from agentic_match.retrieval.mining import (
    DEFAULT_BAND,
    Band,
    band_label,
    choose_band,
    load_negatives,
    mine_runner_up,
    parse_band,
    save_negatives,
)
from agentic_match.retrieval.training.confit import ConFitConfig, train_confit
from agentic_match.retrieval.training.loop import TrainResult

log = logging.getLogger(__name__)


def iterative_rum(
    corpus: Corpus,
    config: ConFitConfig,
    out_dir: str | Path,
    *,
    rounds: int = 1,
    band: Band | str = DEFAULT_BAND,
    per_pair: int = 1,
    first_encoder: str | Path | None = None,
    progress: bool = True,
) -> list[TrainResult]:
    """Iterative RUM: each round mines with the previous round's encoder, retrains from the base.

    Round 0 trains without hard negatives (unless ``first_encoder`` gives such a model).
    Every step is resumable: rounds live in ``out_dir/round-<t>`` and the mined negatives in
    ``out_dir/round-<t>/negatives.jsonl``.

    Args:
        band: A band, ``"3-4"``, or ``"auto"`` (chosen on dev with the round-0 encoder).
    """
    out_dir = Path(out_dir)
    results: list[TrainResult] = []
    if first_encoder is None:
        r0 = train_confit(corpus, replace(config, negatives="none"), out_dir / "round-0", {}, progress=progress)
        results.append(r0)
        prev = r0.model_dir
    else:
        prev = Path(first_encoder)
    chosen: Band
    if band == "auto":
        chosen, shares = choose_band(BiEncoder.load(prev), corpus)
        log.info("auto band %s (positive shares %s)", band_label(chosen), shares)
    else:
        chosen = parse_band(band) if isinstance(band, str) else band
    for t in range(1, rounds + 1):
        rdir = out_dir / f"round-{t}"
        neg_path = rdir / "negatives.jsonl"
        if neg_path.is_file():
            negs = load_negatives(neg_path)
        else:
            negs, _ = mine_runner_up(BiEncoder.load(prev), corpus, chosen, per_pair=per_pair, seed=config.seed + t)
            save_negatives(neg_path, negs)
        res = train_confit(corpus, config, rdir / "train", negs, progress=progress)
        results.append(res)
        prev = res.model_dir
    return results


__all__ = ["iterative_rum"]
