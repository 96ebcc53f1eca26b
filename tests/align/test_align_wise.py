"""WiSE-FT weight interpolation and within-category pair accuracy."""

from __future__ import annotations

import json

import pytest
import torch

from agentic_match.align.wise import WISE_FILE, interpolate_encoders, interpolate_state
from agentic_match.align.within_category import pair_order_accuracy, within_category_pairs
from agentic_match.data.schema import Corpus, Document
from agentic_match.errors import ConfigError

BASE = "all-minilm-l6-v2"


def test_interpolate_state_is_the_weighted_mean_of_float_tensors_only():
    base = {"w": torch.zeros(2), "ids": torch.tensor([0, 1])}
    tuned = {"w": torch.ones(2) * 4, "ids": torch.tensor([5, 6])}
    out = interpolate_state(base, tuned, 0.25)
    assert torch.allclose(out["w"], torch.ones(2)) and out["ids"].tolist() == [5, 6]
    assert torch.equal(interpolate_state(base, tuned, 0.0)["w"], base["w"])
    with pytest.raises(ConfigError, match="alpha"):
        interpolate_state(base, tuned, 1.5)
    with pytest.raises(ConfigError, match="different parameters"):
        interpolate_state({"v": torch.zeros(2)}, tuned, 0.5)
    with pytest.raises(ConfigError, match="shape"):
        interpolate_state({"w": torch.zeros(3), "ids": base["ids"]}, tuned, 0.5)


def _perturbed(tmp_path):
    """A 'fine-tuned' MiniLM: the packaged one with every weight shifted (a real encoder folder)."""
    from agentic_match.models import resolve_encoder
    from agentic_match.retrieval.encoder import load_sentence_transformer

    model = load_sentence_transformer(resolve_encoder(BASE), "cpu")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01)
    folder = tmp_path / "tuned"
    model.save(str(folder))
    (folder / "bi_encoder.json").write_text(json.dumps({"temperature": 0.07}), encoding="utf-8")
    return folder, model


def test_interpolated_encoder_sits_between_base_and_tuned_and_records_alpha(tmp_path):
    from agentic_match.models import resolve_encoder
    from agentic_match.retrieval.encoder import BiEncoder, load_sentence_transformer

    tuned_dir, tuned = _perturbed(tmp_path)
    out = interpolate_encoders(BASE, tuned_dir, 0.5, tmp_path / "wise")
    mid = load_sentence_transformer(out, "cpu").state_dict()
    base = load_sentence_transformer(resolve_encoder(BASE), "cpu").state_dict()
    name = next(k for k, v in base.items() if v.is_floating_point() and v.numel() > 100)
    assert torch.allclose(mid[name], (base[name] + tuned.state_dict()[name]) / 2, atol=1e-6)
    meta = json.loads((out / WISE_FILE).read_text())
    assert meta["alpha"] == 0.5 and meta["base_fingerprint"] != meta["tuned_fingerprint"]
    # The fine-tuned model's serving settings travel with it.
    assert BiEncoder.load(out).settings.temperature == 0.07


def test_wise_ft_cli_writes_the_model_and_refuses_alpha_out_of_range(tmp_path, capsys):
    from agentic_match.cli import main

    tuned_dir, _ = _perturbed(tmp_path)
    out = tmp_path / "cli-wise"
    main(["wise-ft", "--base", BASE, "--tuned", str(tuned_dir), "--alpha", "0.3", "--out", str(out)])
    assert (out / "modules.json").is_file() and json.loads((out / WISE_FILE).read_text())["alpha"] == 0.3
    with pytest.raises(SystemExit) as e:
        main(["wise-ft", "--base", BASE, "--tuned", str(tuned_dir), "--alpha", "2", "--out", str(tmp_path / "x")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "alpha" in err and "Traceback" not in err and not (tmp_path / "x").exists()


def _graded_corpus() -> Corpus:
    jobs = {"j": Document("j", "job", text="ICU nurse")}
    resumes = {
        "a": Document("a", "resume", text="ICU nurse, critical care"),
        "b": Document("b", "resume", text="home care aide"),
        "c": Document("c", "resume", text="pastry chef"),
    }
    return Corpus(resumes=resumes, jobs=jobs, qrels={"dev_rank_resume": {"j": {"a": 2, "b": 1, "c": 0}}})


class _Lexical:
    """Scores by the count of shared words (a deterministic stand-in encoder)."""

    def encode(self, docs):
        import numpy as np

        vocab = ["icu", "nurse", "critical", "care", "home", "aide", "pastry", "chef"]
        words = [d.text.lower().replace(",", " ").split() for d in docs]
        return np.array([[float(w in ws) for w in vocab] for ws in words])


def test_within_category_pairs_keep_only_two_relevant_documents_of_different_grades():
    corpus = _graded_corpus()
    pairs = within_category_pairs(corpus, "dev")
    assert [(p.better_id, p.worse_id) for p in pairs] == [("a", "b")]  # never the grade-0 resume
    assert pair_order_accuracy(_Lexical(), corpus, pairs) == 100.0
    with pytest.raises(ConfigError, match="test_rank_resume"):
        within_category_pairs(corpus, "test")
