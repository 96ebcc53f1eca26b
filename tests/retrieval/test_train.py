"""Batching and ConFit training (one tiny epoch on the real packaged MiniLM)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch

from agentic_match.errors import ConfigError
from agentic_match.retrieval.batching import UniquePairBatchSampler, unique_pair_batches
from agentic_match.retrieval.training import ConFitConfig, NoTrainingPairsError, accepted_pairs, train_confit
from tests._retrieval_toy import toy_corpus


def _pairs():
    # Resume r0 accepted for 3 jobs, job j0 accepted for 3 resumes: lots of clashes.
    pairs = [(f"r{i % 5}", f"j{(i * 7) % 6}") for i in range(30)]
    return list(dict.fromkeys(pairs))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batches_never_repeat_a_resume_or_a_job(seed):
    pairs = _pairs()
    batches = unique_pair_batches(pairs, 4, seed=seed)
    assert sorted(i for b in batches for i in b) == list(range(len(pairs)))  # each pair once
    for b in batches:
        assert len(b) <= 4
        rs = Counter(pairs[i][0] for i in b)
        js = Counter(pairs[i][1] for i in b)
        assert max(rs.values()) == 1 and max(js.values()) == 1


def test_batches_keep_other_positives_apart():
    pairs = [("a", "x"), ("b", "y"), ("a", "y")]  # (a, y) is accepted: a and y may not share a batch
    positives = set(pairs)
    for seed in range(5):
        for b in unique_pair_batches(pairs[:2], 2, seed=seed, positives=positives):
            assert len(b) == 1  # (a, x) with (b, y) would make y a false negative of a


def test_sampler_is_seeded_per_epoch():
    s = UniquePairBatchSampler(_pairs(), 3, seed=7)
    s.set_epoch(1)
    first = list(s)
    s.set_epoch(2)
    assert list(s) != first
    s.set_epoch(1)
    assert list(s) == first and len(s) == len(first)


def _weights(folder):
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))


def test_train_one_tiny_epoch_then_resume(tmp_path):
    corpus = toy_corpus()
    config = ConFitConfig(epochs=2, batch_size=4, max_seq_length=32, eval_split=None, learning_rate=1e-4)
    out = tmp_path / "run"
    first = train_confit(corpus, config, out, stop_after=1, progress=False)
    assert first.epochs_run == [1] and not first.finished
    assert (out / "config.json").is_file()
    assert (out / "checkpoints" / "last" / "trainer_state.pt").is_file()
    state = json.loads((out / "checkpoints" / "last" / "state.json").read_text())
    assert state["epochs_done"] == 1 and state["history"][0]["steps"] == 2
    assert not (out / "model").exists()

    from agentic_match.models import resolve_encoder

    base = _weights(resolve_encoder("all-minilm-l6-v2"))
    after = _weights(out / "checkpoints" / "last" / "model")
    changed = [k for k in after if k in base and not torch.equal(base[k], after[k])]
    assert changed, "one epoch must change the weights"
    assert "embeddings.word_embeddings.weight" not in changed  # frozen by default

    second = train_confit(corpus, config, out, progress=False)  # resumes: epoch 2 only
    assert second.epochs_run == [2] and second.finished
    saved = json.loads((out / "model" / "confit_config.json").read_text())
    assert saved["config"]["max_seq_length"] == 32 and len(saved["history"]) == 2
    # One window: a window the user asked for is recorded and used for serving too.
    from agentic_match.retrieval.encoder import BiEncoder

    assert BiEncoder.load(out / "model").max_seq_length == 32

    third = train_confit(corpus, config, out, progress=False)
    assert third.epochs_run == [] and third.finished

    with pytest.raises(ConfigError, match="other config"):
        train_confit(
            corpus, ConFitConfig(epochs=3, batch_size=4, max_seq_length=32, eval_split=None), out, progress=False
        )


def test_no_accepted_pair_is_a_clear_error(tmp_path):
    corpus = toy_corpus()
    corpus.labels = [lab for lab in corpus.labels if lab.label == 0]
    with pytest.raises(NoTrainingPairsError, match="no accepted pair"):
        train_confit(corpus, ConFitConfig(eval_split=None), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()  # nothing half-written


def test_config_validation_and_pairs():
    with pytest.raises(ConfigError):
        ConFitConfig(batch_size=1)
    with pytest.raises(ConfigError):
        ConFitConfig(negatives="mined")
    assert ConFitConfig.from_dict(ConFitConfig().to_dict()) == ConFitConfig()
    assert accepted_pairs(toy_corpus().labels)[0] == ("r-nurse", "j-nurse")
