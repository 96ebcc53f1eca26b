"""Model specs resolve to local folders; GGUF files are de-quantized once and cached."""

from __future__ import annotations

import json
import threading

import pytest

from agentic_match.errors import ModelNotFoundError
from agentic_match.models import locate, resolve_encoder, resolve_generator


def test_packaged_encoder_resolves_without_network():
    folder = resolve_encoder("all-minilm-l6-v2")
    assert (folder / "config.json").exists() and (folder / "model.safetensors").exists()


def test_missing_model_says_where_it_looked(tmp_path):
    with pytest.raises(ModelNotFoundError) as e:
        locate(str(tmp_path / "no-such-model"))
    assert str(tmp_path / "no-such-model") in str(e.value)


def test_folder_without_config_is_rejected(tmp_path):
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="neither"):
        resolve_generator(str(tmp_path), cache_dir=tmp_path / "cache")
    with pytest.raises(ModelNotFoundError, match="not an encoder folder"):
        resolve_encoder(str(tmp_path))


def test_hf_folder_is_used_as_is(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    assert resolve_generator(str(tmp_path), cache_dir=tmp_path / "c") == tmp_path.resolve()


@pytest.mark.e2e
def test_gguf_dequantized_once_even_with_two_racers(tmp_path):
    """Two threads convert the packaged SmolLM2 GGUF at once: one conversion, one folder."""
    gguf = locate("smollm2-135m")
    results: list = []

    def convert() -> None:
        results.append(resolve_generator(str(gguf), cache_dir=tmp_path))

    threads = [threading.Thread(target=convert) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    out = results[0]
    assert (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []
    mtime = (out / "model.safetensors").stat().st_mtime
    assert resolve_generator(str(gguf), cache_dir=tmp_path) == out
    assert (out / "model.safetensors").stat().st_mtime == mtime
