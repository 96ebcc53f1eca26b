"""Encoder training: one resumable loop and the recipes that run on it.

* :mod:`.args` - :class:`TrainingArguments`, the settings every training shares.
* :mod:`.loop` - :func:`train_encoder` and the :class:`EncoderRecipe` interface.
* :mod:`.confit` - ConFit* (:func:`train_confit`).
* :mod:`.rum` - iterative Runner-Up Mining (:func:`iterative_rum`).
* :mod:`.cross_encoder` - the cross-encoder reranker, on sentence-transformers'
  ``CrossEncoderTrainer`` (:func:`train_cross_encoder`).

RankPO / SimRankPO / SFT (:mod:`agentic_match.align.trainer`) and the fairness-regularised
ConFit (:mod:`agentic_match.fairness.mitigation`) are recipes on the same loop.
"""

from agentic_match.data.labels import accepted_pairs, training_labels
from agentic_match.errors import NoTrainingPairsError
from agentic_match.retrieval.training.args import TrainingArguments
from agentic_match.retrieval.training.confit import ConFitConfig, ConFitRecipe, train_confit
from agentic_match.retrieval.training.loop import EncoderRecipe, TrainResult, dev_score, train_encoder
from agentic_match.retrieval.training.rum import iterative_rum

__all__ = [
    "ConFitConfig",
    "ConFitRecipe",
    "EncoderRecipe",
    "NoTrainingPairsError",
    "TrainResult",
    "TrainingArguments",
    "accepted_pairs",
    "dev_score",
    "iterative_rum",
    "train_confit",
    "train_encoder",
    "training_labels",
]
