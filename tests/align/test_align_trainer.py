"""Stage 2 on a toy corpus: RankPO / SimRankPO / SFT train, resume, refuse a foreign reference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agentic_match.align.preferences import Preference
from agentic_match.align.trainer import AlignConfig, check_reference, preference_accuracy, train_align
from agentic_match.errors import ConfigError, DataError
from agentic_match.models import resolve_encoder
from tests._retrieval_toy import TOPICS, toy_corpus

BASE = "all-minilm-l6-v2"


def _prefs() -> list[Preference]:
    c = toy_corpus()
    out = []
    for i, (key, _, _) in enumerate(TOPICS):
        other = TOPICS[(i + 3) % len(TOPICS)][0]
        job = c.jobs[f"j-{key}"]
        out.append(
            Preference(
                job.id,
                f"r-{key}",
                f"r-{other}",
                " ".join(job.fields.values()),
                c.resumes[f"r-{key}"].text,
                c.resumes[f"r-{other}"].text,
            )
        )
    return out


def _cfg(**kw) -> AlignConfig:
    return AlignConfig(
        **{"base": BASE, "batch_size": 4, "max_seq_length": 32, "eval_split": None, "learning_rate": 5e-5, **kw}
    )


@pytest.mark.parametrize("method", ["rankpo", "simrankpo", "sft2", "sftnce"])
def test_each_method_trains_and_saves_beside_its_config(tmp_path, method):
    prefs = _prefs()
    res = train_align(prefs[:6], _cfg(method=method), tmp_path / method, held_out=prefs[6:], progress=False)
    assert res.finished and res.epochs_run == [1]
    meta = json.loads((res.model_dir / "align_config.json").read_text())
    assert meta["config"]["method"] == method
    assert meta["history"][0]["alignment"] is not None
    assert (tmp_path / method / "reference_margins.json").is_file() == (method == "rankpo")
    from agentic_match.retrieval.encoder import BiEncoder

    enc = BiEncoder.load(res.model_dir)
    assert 0 <= preference_accuracy(enc, prefs) <= 100


def test_resume_continues_and_a_finished_run_returns_at_once(tmp_path):
    prefs = _prefs()
    cfg = _cfg(epochs=2)
    first = train_align(prefs, cfg, tmp_path / "r", stop_after=1, progress=False)
    assert not first.finished and first.epochs_run == [1]
    second = train_align(prefs, cfg, tmp_path / "r", progress=False)
    assert second.finished and second.epochs_run == [2]
    assert train_align(prefs, cfg, tmp_path / "r", progress=False).epochs_run == []
    with pytest.raises(ConfigError, match="other"):
        train_align(prefs, _cfg(epochs=2, beta=1.0), tmp_path / "r", progress=False)


def test_reference_from_other_weights_is_refused(tmp_path):
    other = tmp_path / "other"
    shutil.copytree(resolve_encoder(BASE), other)
    (other / "bi_encoder.json").write_text(json.dumps({"temperature": 0.07}))  # other fingerprint
    with pytest.raises(ConfigError, match="not the stage-1 model"):
        train_align(_prefs(), _cfg(reference=str(other)), tmp_path / "x", progress=False)
    assert not (tmp_path / "x" / "config.json").exists()  # nothing half-started


def test_reference_from_another_architecture_is_refused():
    class Cfg:
        model_type, num_hidden_layers, num_attention_heads, vocab_size = "bert", 6, 12, 30522

        def __init__(self, hidden):
            self.hidden_size = hidden

    class Model:
        def __init__(self, hidden):
            self.auto_model = type("A", (), {"config": Cfg(hidden)})()
            self.hidden = hidden

        def __getitem__(self, i):
            return self

        def get_sentence_embedding_dimension(self):
            return self.hidden

    with pytest.raises(ConfigError, match="another encoder.*hidden_size: 384 vs 768"):
        check_reference(Path("base"), Model(384), Path("ref"), Model(768))


def test_bad_input():
    with pytest.raises(DataError, match="no preference"):
        train_align([], _cfg(), "unused", progress=False)
    with pytest.raises(ConfigError, match="base"):
        AlignConfig()
    with pytest.raises(ConfigError, match="method"):
        _cfg(method="dpo")
