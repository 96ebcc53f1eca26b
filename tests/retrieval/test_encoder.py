"""BiEncoder on the real packaged MiniLM: vectors, chunking, ranking, save / load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from agentic_match.errors import ConfigError, ModelNotFoundError
from agentic_match.retrieval.encoder import BiEncoder, EncoderSettings
from tests._retrieval_toy import toy_corpus


@pytest.fixture(scope="module")
def encoder() -> BiEncoder:
    return BiEncoder.load("all-minilm-l6-v2")


def test_encode_unit_float32_rows(encoder):
    corpus = toy_corpus()
    docs = list(corpus.resumes.values())[:3]
    vecs = encoder.encode(docs)
    assert vecs.dtype == np.float32 and vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    # strings and documents go through the same path; rendering is the data contract's
    assert np.allclose(encoder.encode(encoder.texts(docs)), vecs, atol=1e-6)


def test_chunk_mode_splits_long_texts(encoder):
    chunker = BiEncoder(encoder.model, EncoderSettings(mode="chunk", max_seq_length=16, max_chunks=3))
    text = " ".join(f"word{i}" for i in range(200))
    parts = chunker.chunks(text)
    assert len(parts) == 3  # capped by max_chunks
    assert all(p in text for p in parts) and text.startswith(parts[0])
    assert chunker.chunks("short text") == ["short text"]
    v_chunk = chunker.encode([text])
    v_trunc = BiEncoder(encoder.model, EncoderSettings(max_seq_length=16)).encode([text])
    assert np.isclose(np.linalg.norm(v_chunk), 1.0, atol=1e-5)
    assert not np.allclose(v_chunk, v_trunc)
    assert encoder.model.max_seq_length == 256  # restored after encoding


def test_truncation_reads_the_same_tokens_from_a_clipped_text(encoder):
    """Clipping long texts before tokenizing (a speed-up) changes no vector."""
    from agentic_match.retrieval.encoder import clip_to_window

    texts = [
        "Registered nurse, ICU. " * 200,
        "C++/Python engineer; déploiement, naïve-Bayes, e-mail: x@y.z! " * 120,
        "数据 分析师 " * 400,
        "short text",
    ]
    assert all(len(clip_to_window(t, 256)) < len(t) for t in texts[:3])
    assert clip_to_window(texts[3], 256) == texts[3]
    tok = encoder.model.tokenizer
    for t in texts:
        full = tok(t, truncation=True, max_length=256)["input_ids"]
        assert tok(clip_to_window(t, 256), truncation=True, max_length=256)["input_ids"] == full
    plain = encoder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.allclose(encoder.encode(texts), plain, atol=1e-5)


def test_rank_protocol_puts_matching_topic_first(encoder):
    corpus = toy_corpus()
    jobs = list(corpus.jobs.values())
    resumes = list(corpus.resumes.values())
    run = encoder.rank(jobs, resumes, k=3)
    assert set(run) == {j.id for j in jobs}
    assert all(len(v) == 3 for v in run.values())
    hits = sum(max(v, key=v.get) == "r-" + q[2:] for q, v in run.items())
    assert hits >= 6  # the toy topics are easy
    # scores are cosine / temperature
    q = encoder.encode([jobs[0]])[0]
    best = max(run[jobs[0].id], key=run[jobs[0].id].get)
    c = encoder.encode([corpus.resumes[best]])[0]
    assert run[jobs[0].id][best] == pytest.approx(float(q @ c) / 0.05, rel=1e-4)


def test_save_load_roundtrip_and_fingerprint(tmp_path, encoder):
    chunker = BiEncoder(encoder.model, EncoderSettings(mode="chunk", temperature=0.1))
    out = chunker.save(tmp_path / "enc")
    assert json.loads((out / "bi_encoder.json").read_text())["mode"] == "chunk"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left
    again = BiEncoder.load(out)
    assert again.settings.mode == "chunk" and again.settings.temperature == 0.1
    assert BiEncoder.load(out, mode="truncate").fingerprint() != again.fingerprint()
    assert again.fingerprint() == BiEncoder.load(out).fingerprint()
    chunker.save(tmp_path / "enc")  # replacing an existing folder works
    with pytest.raises(ConfigError):
        BiEncoder.load(out, colour="blue")


def test_missing_encoder_folder_is_clear(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not found"):
        BiEncoder.load(tmp_path / "nope")
    with pytest.raises(ConfigError):
        EncoderSettings(mode="sliding")
