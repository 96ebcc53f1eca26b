"""The Milvus backend on a real Milvus Lite file: build, search, re-index, reload, fingerprints, filters.

The reference is FAISS exact search: a FLAT Milvus collection must return the same top-k on
the demo corpus with the real encoder.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pymilvus", reason="the Milvus backend needs pip install 'agentic-match[milvus]'")
pytest.importorskip("milvus_lite", reason="Milvus Lite (milvus-lite) is not installed")

from agentic_match.config import load_settings, section  # noqa: E402
from agentic_match.data import load_demo  # noqa: E402
from agentic_match.data.render import RenderConfig  # noqa: E402
from agentic_match.errors import ConfigError  # noqa: E402
from agentic_match.retrieval.index import (  # noqa: E402
    IndexMismatchError,
    VectorIndex,
    VectorIndexError,
    build_document_index,
    open_index,
)
from agentic_match.retrieval.milvus_index import MilvusConfig, MilvusIndex, collection_name  # noqa: E402
from agentic_match.retrieval.store import IndexStoreConfig, index_documents  # noqa: E402
from tests._cli import run_cli  # noqa: E402

DIM = 16


def unit(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def cfg(tmp_path) -> MilvusConfig:
    return MilvusConfig(uri=str(tmp_path / "vectors.db"))


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_search_matches_exact_inner_product(cfg):
    x, q = unit(50), unit(5, seed=1)
    index = MilvusIndex.create(cfg, "docs", DIM, encoder_fingerprint="enc", render_fingerprint="ren")
    index.add([f"d{i}" for i in range(50)], x)
    ids, scores = index.search(q, k=7)
    truth = np.argsort(-(q @ x.T), axis=1)[:, :7]
    assert ids == [[f"d{j}" for j in row] for row in truth]
    np.testing.assert_allclose(scores, np.take_along_axis(q @ x.T, truth, axis=1), atol=1e-5)
    assert len(index) == 50 and "d3" in index and "nope" not in index
    assert sorted(index.ids) == sorted(f"d{i}" for i in range(50))


def test_reindex_upserts_by_id(cfg):
    x = unit(10)
    index = MilvusIndex.create(cfg, "docs", DIM)
    index.add([f"d{i}" for i in range(10)], x)
    moved = -x[:1]
    index.add(["d0"], moved)  # re-index one document with a new vector
    again = MilvusIndex.create(cfg, "docs", DIM)  # a rerun of the build reuses the collection
    again.add([f"d{i}" for i in range(10)], x)
    assert len(again) == 10
    ids, scores = again.search(x[:1], k=1)
    assert ids == [["d0"]] and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    index.delete(["d9"])
    assert len(index) == 9 and "d9" not in index


def test_pointer_folder_reopens_with_fingerprint_checks(cfg, tmp_path):
    x = unit(8)
    index = MilvusIndex.create(
        cfg, "docs", DIM, encoder_fingerprint="enc-a", render_fingerprint="ren", info={"kind": "resume"}
    )
    index.add([f"d{i}" for i in range(8)], x)
    folder = index.save(tmp_path / "idx")
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["backend"] == "milvus" and meta["collection"] == "docs" and meta["count"] == 8
    again = open_index(folder, expect_fingerprint="enc-a", expect_render="ren")
    assert isinstance(again, MilvusIndex) and again.info == {"kind": "resume"} and len(again) == 8
    assert again.search(x[:2], k=1)[0] == [["d0"], ["d1"]]
    with pytest.raises(IndexMismatchError, match="encoder fingerprint 'enc-a'"):
        open_index(folder, expect_fingerprint="enc-b")
    with pytest.raises(IndexMismatchError, match="rendering settings"):
        open_index(folder, expect_render="other")
    with pytest.raises(VectorIndexError, match="open it with open_index"):
        VectorIndex.load(folder)
    # Adding vectors of another encoder to the collection is refused, or replaces it on request.
    with pytest.raises(IndexMismatchError):
        MilvusIndex.create(cfg, "docs", DIM, encoder_fingerprint="enc-b", render_fingerprint="ren")
    fresh = MilvusIndex.create(cfg, "docs", DIM, encoder_fingerprint="enc-b", render_fingerprint="ren", replace=True)
    assert len(fresh) == 0


def test_filtered_search_on_metadata(cfg):
    x = unit(20)
    index = MilvusIndex.create(cfg, "docs", DIM)
    fams = ["sales" if i % 2 else "software" for i in range(20)]
    index.add([f"d{i}" for i in range(20)], x, metadata=[{"family": f, "years": i} for i, f in enumerate(fams)])
    ids, scores = index.search(x[:3], k=5, filter='family == "sales"')
    assert all(int(d[1:]) % 2 == 1 for row in ids for d in row)
    assert all(len(row) == 5 for row in ids)
    ids, scores = index.search(x[:1], k=5, filter='family == "sales" and years > 16')
    assert ids == [[d for d in ids[0]]] and sorted(ids[0]) == ["d17", "d19"]
    assert np.isinf(scores[0, 2:]).all()  # fewer than k found: padded like FAISS
    with pytest.raises(VectorIndexError, match="filter 'family =='"):
        index.search(x[:1], k=5, filter="family ==")


def test_bad_input_is_a_clear_error(cfg):
    index = MilvusIndex.create(cfg, "docs", DIM)
    with pytest.raises(VectorIndexError, match=r"shape \(n, 16\)"):
        index.add(["a"], np.ones((1, 8), np.float32))
    with pytest.raises(VectorIndexError, match="repeated"):
        index.add(["a", "a"], unit(2))
    with pytest.raises(VectorIndexError, match="longer than 512"):
        index.add(["x" * 600], unit(1))
    with pytest.raises(VectorIndexError, match="NaN"):
        index.add(["a"], np.full((1, DIM), np.nan, np.float32))
    with pytest.raises(VectorIndexError, match="invalid Milvus collection name"):
        MilvusIndex.create(cfg, "bad-name", DIM)
    with pytest.raises(VectorIndexError, match="no Milvus collection 'missing'"):
        MilvusIndex.open(cfg, "missing")
    with pytest.raises(ConfigError, match="ending in .db"):
        MilvusConfig(uri="vectors.sqlite").resolved_uri()
    assert collection_name("agentic_match", "resume", "3ab2-e8/x") == "agentic_match_resume_3ab2_e8_x"


@pytest.mark.e2e
def test_same_top10_as_faiss_exact_on_the_demo_corpus(cfg, demo, encoder):
    """Recall@10 of a FLAT Milvus collection against FAISS exact search = 1.0, both directions."""
    rc = encoder.render_config
    for kind, queries in (("resume", demo.jobs), ("job", demo.resumes)):
        docs = demo.resumes if kind == "resume" else demo.jobs
        ordered = [docs[i] for i in sorted(docs)]
        faiss = build_document_index(ordered, encoder, render_config=rc)
        milvus = build_document_index(ordered, encoder, render_config=rc, milvus=cfg, collection=f"demo_{kind}")
        q = encoder.encode([queries[i] for i in sorted(queries)])
        f_ids, f_scores = faiss.search(q, 10)
        m_ids, m_scores = milvus.search(q, 10)
        recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(f_ids, m_ids)])
        assert recall == 1.0, kind
        np.testing.assert_allclose(f_scores, m_scores, atol=1e-4)
        # Rebuilding the same corpus upserts: no duplicate rows.
        again = build_document_index(ordered, encoder, render_config=rc, milvus=cfg, collection=f"demo_{kind}")
        assert len(again) == len(ordered)
    # The demo metadata goes along, so a filter narrows the candidates.
    ids, _ = milvus.search(q[:2], 5, filter='family == "software"')
    assert all(demo.jobs[d].metadata["family"] == "software" for row in ids for d in row)


@pytest.mark.e2e
def test_cli_builds_and_searches_a_milvus_index_chosen_by_config(tmp_path, monkeypatch, capsys):
    from agentic_match.data import demo_dir

    monkeypatch.setenv("AGENTIC_MATCH_INDEX__BACKEND", "milvus")
    monkeypatch.setenv("AGENTIC_MATCH_INDEX__URI", str(tmp_path / "cli.db"))
    resumes = demo_dir() / "resumes.jsonl"
    out = tmp_path / "idx"
    code, text = run_cli(["index", "build", "--docs", str(resumes), "--kind", "resume", "--out", str(out)], capsys)
    assert code == 0, text
    assert "milvus agentic_match_resume_idx" in text
    code, text = run_cli(["index", "build", "--docs", str(resumes), "--kind", "resume", "--out", str(out)], capsys)
    assert code == 0 and "indexed 100 resumes" in text, text  # rebuilt in place, no duplicates
    code, text = run_cli(
        ["index", "search", "--index", str(out), "--text", "sales manager", "-k", "3", "--json", "--filter",
         'family == "sales"'],
        capsys,
    )  # fmt: skip
    assert code == 0, text
    run, _ = json.JSONDecoder().raw_decode(text[text.index("{") :])
    assert len(run["text"]) == 3
    code, text = run_cli(["index", "search", "--index", str(out), "--text", "x", "--filter", "family =="], capsys)
    assert code != 0 and "filter 'family =='" in text and "Traceback" not in text


@pytest.mark.e2e
def test_matcher_on_milvus_returns_what_faiss_returns(tmp_path, demo, encoder):
    from agentic_match.matching import Matcher

    store = section(
        load_settings(overrides=["index.backend=milvus", f"index.uri={tmp_path / 'm.db'}"]),
        "index",
        IndexStoreConfig,
    )
    assert store.backend == "milvus"
    on_milvus = Matcher(encoder, demo, store=store).prepare(("resume",))
    on_faiss = Matcher(encoder, demo).prepare(("resume",))
    assert isinstance(on_milvus.index("resume"), MilvusIndex)
    job = demo.jobs[sorted(demo.jobs)[0]]
    assert [c[0] for c in on_milvus.retrieve(job, 10)] == [c[0] for c in on_faiss.retrieve(job, 10)]


def test_index_store_defaults_to_faiss(demo, encoder):
    index = index_documents(
        [demo.jobs[i] for i in sorted(demo.jobs)][:3], encoder, None, collection="unused", render_config=RenderConfig()
    )
    assert isinstance(index, VectorIndex)
    with pytest.raises(ConfigError, match="index.backend must be faiss or milvus"):
        IndexStoreConfig(backend="redis")  # type: ignore[arg-type]
