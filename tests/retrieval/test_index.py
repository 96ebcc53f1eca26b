"""The FAISS vector index: kinds, string ids, incremental adds, persistence, fingerprints."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from agentic_match.data.render import RenderConfig
from agentic_match.data.schema import Document
from agentic_match.errors import AgenticMatchError, ConfigError
from agentic_match.retrieval.index import (
    IndexConfig,
    IndexMismatchError,
    VectorIndex,
    VectorIndexError,
    build_document_index,
)

DIM = 32


def unit(n: int, seed: int = 0, dim: int = DIM) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def ids(n: int, prefix: str = "d") -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def exact_top(x: np.ndarray, q: np.ndarray, k: int) -> list[list[int]]:
    return np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :k].tolist()


def recall(found: list[list[str]], x_ids: list[str], truth: list[list[int]]) -> float:
    return float(np.mean([len(set(f) & {x_ids[j] for j in t}) / len(t) for f, t in zip(found, truth)]))


def test_flat_is_exact_with_string_ids() -> None:
    x, q = unit(500), unit(20, seed=1)
    index = VectorIndex(DIM)
    index.add(ids(500), x)
    found, scores = index.search(q, 5)
    truth = exact_top(x, q, 5)
    assert found == [[f"d{j}" for j in row] for row in truth]
    assert scores.shape == (20, 5) and scores.dtype == np.float32
    np.testing.assert_allclose(scores[:, 0], np.max(q @ x.T, axis=1), rtol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first


def test_incremental_add_and_small_k() -> None:
    x = unit(30)
    index = VectorIndex(DIM)
    index.add(ids(10, "a"), x[:10])
    index.add(ids(20, "b"), x[10:])
    assert len(index) == 30 and "b19" in index and index.ids[10] == "b0"
    found, _ = index.search(x[25], 1)  # a single 1-D query is accepted
    assert found == [["b15"]]
    found, scores = index.search(x[:2], 100)  # k above the size returns everything
    assert len(found[0]) == 30 and scores.shape == (2, 30)


def test_empty_index_search() -> None:
    found, scores = VectorIndex(DIM).search(unit(3), 5)
    assert found == [[], [], []] and scores.shape == (3, 0)


@pytest.mark.parametrize("bad", ["repeat", "existing"])
def test_duplicate_ids_are_refused(bad: str) -> None:
    index = VectorIndex(DIM)
    index.add(["a", "b"], unit(2))
    new_ids = ["c", "c"] if bad == "repeat" else ["c", "a"]
    with pytest.raises(VectorIndexError, match="duplicate id.*'(c|a)'"):
        index.add(new_ids, unit(2, seed=3))
    assert len(index) == 2  # nothing half-added


def test_shape_and_value_errors() -> None:
    index = VectorIndex(DIM)
    with pytest.raises(VectorIndexError, match=r"shape \(n, 32\)"):
        index.add(["a"], np.zeros((1, 8), dtype=np.float32))
    with pytest.raises(VectorIndexError, match="2 ids for 1 vectors"):
        index.add(["a", "b"], unit(1))
    with pytest.raises(VectorIndexError, match="NaN"):
        index.add(["a"], np.full((1, DIM), np.nan, dtype=np.float32))
    with pytest.raises(VectorIndexError, match="k must be"):
        index.search(unit(1), 0)


def test_config_validation() -> None:
    with pytest.raises(ConfigError, match="kind"):
        IndexConfig(kind="annoy")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="refine only applies"):
        IndexConfig(kind="hnsw", refine=True)
    with pytest.raises(ConfigError, match="hnsw_m=0"):
        IndexConfig(kind="hnsw", hnsw_m=0)
    assert issubclass(VectorIndexError, AgenticMatchError)


def test_hnsw_recall() -> None:
    x, q = unit(2000), unit(50, seed=1)
    index = VectorIndex(DIM, IndexConfig(kind="hnsw", hnsw_m=16, hnsw_ef_search=128))
    index.add(ids(1500), x[:1500])
    index.add(ids(500, "e"), x[1500:])  # HNSW grows incrementally too
    all_ids = ids(1500) + ids(500, "e")
    found, _ = index.search(q, 10)
    assert recall(found, all_ids, exact_top(x, q, 10)) >= 0.9


def test_ivfpq_trains_on_first_add_and_refine_recovers_recall() -> None:
    x, q = unit(3000), unit(50, seed=1)
    truth = exact_top(x, q, 10)
    plain = VectorIndex(DIM, IndexConfig(kind="ivfpq", ivf_nlist=16, ivf_nprobe=16))
    plain.add(ids(2000), x[:2000])
    plain.add(ids(1000, "e"), x[2000:])  # added after training, no retraining
    all_ids = ids(2000) + ids(1000, "e")
    found, scores = plain.search(q, 10)
    assert len(found) == 50 and scores.shape == (50, 10)
    cfg = IndexConfig(kind="ivfpq", ivf_nlist=16, ivf_nprobe=16, pq_m=8, refine=True, refine_k_factor=20)
    refined = VectorIndex(DIM, cfg)
    refined.add(all_ids, x)
    found_r, scores_r = refined.search(q, 10)
    assert recall(found_r, all_ids, truth) >= 0.95 > recall(found, all_ids, truth)
    np.testing.assert_allclose(scores_r[:, 0], np.max(q @ x.T, axis=1), rtol=1e-4)  # exact re-scoring


def test_ivfpq_with_too_few_vectors_is_a_clear_error() -> None:
    index = VectorIndex(DIM, IndexConfig(kind="ivfpq", ivf_nlist=8))
    with pytest.raises(VectorIndexError, match="at least 256 vectors.*got 100.*kind='flat'"):
        index.add(ids(100), unit(100))


def test_ivfpq_pq_m_must_divide_dim() -> None:
    with pytest.raises(VectorIndexError, match="pq_m=5 must divide"):
        VectorIndex(DIM, IndexConfig(kind="ivfpq", pq_m=5)).add(ids(300), unit(300))


@pytest.mark.parametrize(
    "config",
    [
        IndexConfig(),
        IndexConfig(kind="hnsw", hnsw_ef_search=64),
        IndexConfig(kind="ivfpq", ivf_nlist=4, ivf_nprobe=4, refine=True),
    ],
    ids=["flat", "hnsw", "ivfpq-refine"],
)
def test_save_load_roundtrip(tmp_path: Path, config: IndexConfig) -> None:
    x, q = unit(400), unit(5, seed=1)
    index = VectorIndex(DIM, config, encoder_fingerprint="enc-1", render_fingerprint="rnd-1", info={"kind": "job"})
    index.add(ids(400), x)
    before = index.search(q, 5)
    folder = index.save(tmp_path / "idx")
    assert sorted(p.name for p in folder.iterdir()) == ["ids.json", "index.faiss", "meta.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]  # no temp folder left behind
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["encoder_fingerprint"] == "enc-1" and meta["render_fingerprint"] == "rnd-1"
    assert meta["count"] == 400 and meta["config"]["kind"] == config.kind

    loaded = VectorIndex.load(folder, expect_fingerprint="enc-1", expect_render="rnd-1")
    after = loaded.search(q, 5)
    assert after[0] == before[0]
    np.testing.assert_allclose(after[1], before[1], rtol=1e-6)
    assert loaded.config == config and loaded.info == {"kind": "job"}
    loaded.add(["new"], unit(1, seed=9))  # still usable incrementally
    assert len(loaded) == 401


def test_save_replaces_an_index_but_not_other_folders(tmp_path: Path) -> None:
    a = VectorIndex(DIM)
    a.add(["a"], unit(1))
    a.save(tmp_path / "idx")
    b = VectorIndex(DIM)
    b.add(["b", "c"], unit(2))
    b.save(tmp_path / "idx")
    assert VectorIndex.load(tmp_path / "idx").ids == ["b", "c"]
    assert [p.name for p in tmp_path.iterdir()] == ["idx"]
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(VectorIndexError, match="refusing to overwrite"):
        b.save(other)
    assert (other / "notes.txt").read_text() == "keep me"


def test_search_params_are_saved(tmp_path: Path) -> None:
    index = VectorIndex(DIM, IndexConfig(kind="hnsw"))
    index.add(ids(50), unit(50))
    index.set_search_params(hnsw_ef_search=300)
    index.save(tmp_path / "idx")
    assert VectorIndex.load(tmp_path / "idx").config.hnsw_ef_search == 300


def test_fingerprint_mismatch_names_both(tmp_path: Path) -> None:
    index = VectorIndex(DIM, encoder_fingerprint="aaaa1111", render_fingerprint="rrrr1111")
    index.add(["a"], unit(1))
    index.save(tmp_path / "idx")
    with pytest.raises(IndexMismatchError, match="encoder fingerprint 'aaaa1111'.*'bbbb2222'"):
        VectorIndex.load(tmp_path / "idx", expect_fingerprint="bbbb2222")
    with pytest.raises(IndexMismatchError, match="rendering settings fingerprint 'rrrr1111'.*'ssss2222'"):
        VectorIndex.load(tmp_path / "idx", expect_fingerprint="aaaa1111", expect_render="ssss2222")


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(VectorIndexError, match="no saved index"):
        VectorIndex.load(tmp_path / "nothing")
    index = VectorIndex(DIM)
    index.add(["a"], unit(1))
    folder = index.save(tmp_path / "idx")
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps(meta | {"format_version": 99}))
    with pytest.raises(VectorIndexError, match="format 99"):
        VectorIndex.load(folder)


class HashEncoder:
    """A deterministic toy encoder: bag of hashed words, L2-normalised."""

    def __init__(self, dim: int = DIM) -> None:
        self.dim = dim

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, int(hashlib.md5(w.encode()).hexdigest(), 16) % self.dim] += 1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def fingerprint(self) -> str:
        return f"hash-{self.dim}"


def test_build_document_index_records_fingerprints() -> None:
    docs = [
        Document("j1", "job", fields={"title": "python developer"}),
        Document("j2", "job", fields={"title": "pastry chef"}),
    ]
    enc = HashEncoder()
    rc = RenderConfig(max_total_chars=500)
    index = build_document_index(docs, enc, render_config=rc, chunk_size=1, info={"kind": "job"})
    assert index.ids == ["j1", "j2"]
    assert index.encoder_fingerprint == "hash-32" and index.render_fingerprint == rc.fingerprint()
    found, _ = index.search(enc.encode(["chef pastry"]), 1)
    assert found == [["j2"]]
    with pytest.raises(VectorIndexError, match="no documents"):
        build_document_index([], enc)
