"""``agentic-match index build|search`` and ``agentic-match eval``.

* ``index build`` encodes a documents file and saves an index folder (with the encoder
  spec, document kind and rendering settings recorded in its meta): a FAISS index, or, with
  ``index.backend = "milvus"``, a pointer to the Milvus collection that holds the vectors
  (upserted by id, so rebuilding never duplicates).
* ``index search`` queries a saved index with free text or a documents file of the other
  kind, refusing an index built with another encoder or rendering.
* ``eval`` scores a system (``bm25``, ``raw`` = the configured pretrained encoder, or a
  trained encoder folder) on a benchmark task and prints the metrics.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agentic_match.cli.checks import writable_output
from agentic_match.errors import AgenticMatchError

if TYPE_CHECKING:
    from agentic_match.evaluation.ranker import Ranker
    from agentic_match.retrieval.encoder import BiEncoder

index_app = typer.Typer(
    help="Build and query vector indexes (FAISS or Milvus) of resumes or jobs.", no_args_is_help=True
)

_KINDS = ("resume", "job")
_INDEX_TYPES = ("flat", "hnsw", "ivfpq")
_TASKS = ("rank_resume", "rank_job")


def _console() -> Console:
    # Built per call so tests capturing stdout (CliRunner) see the output.
    return Console(highlight=False, soft_wrap=True)


def _choice(value: str, allowed: tuple[str, ...], option: str) -> str:
    if value not in allowed:
        raise AgenticMatchError(f"{option} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _load_encoder(spec: str, render: dict[str, Any] | None = None) -> BiEncoder:
    from agentic_match.data.render import RenderConfig
    from agentic_match.retrieval.encoder import BiEncoder

    rc = RenderConfig(**render) if render else None
    return BiEncoder.load(spec, render_config=rc)


@index_app.command("build")
def index_build(
    docs: Annotated[Path, typer.Option("--docs", help="Documents file (.jsonl, .csv, .tsv) or datasets folder.")],
    kind: Annotated[str, typer.Option("--kind", help="Document kind: resume or job.")],
    out: Annotated[Path, typer.Option("--out", help="Index folder to write (replaced atomically).")],
    encoder: Annotated[
        str | None, typer.Option("--encoder", help="Encoder spec or folder (default: the 'encoder' setting).")
    ] = None,
    index_type: Annotated[str, typer.Option("--type", help="FAISS only: flat (exact), hnsw or ivfpq.")] = "flat",
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Milvus only: drop the collection first (e.g. to change the encoder)."),
    ] = False,
) -> None:
    """Encode a documents file and save a vector index of it (FAISS, or Milvus by the index settings)."""
    from agentic_match.cli.context import settings
    from agentic_match.config import section
    from agentic_match.data import load_documents
    from agentic_match.retrieval.index import IndexConfig
    from agentic_match.retrieval.store import IndexStoreConfig, index_documents

    _choice(kind, _KINDS, "--kind")
    _choice(index_type, _INDEX_TYPES, "--type")
    writable_output(out, "--out", folder=True)
    s = settings()
    store = section(s, "index", IndexStoreConfig)
    spec = encoder or s.encoder
    documents = load_documents(docs, kind)  # type: ignore[arg-type]
    enc = _load_encoder(spec)
    index = index_documents(
        documents,
        enc,
        store,
        collection=f"{kind}_{out.name}",
        render_config=enc.render_config,
        faiss=IndexConfig(kind=index_type),  # type: ignore[arg-type]
        replace=replace,
        info={
            "encoder": spec,
            "kind": kind,
            "docs": str(docs),
            "render_config": dataclasses.asdict(enc.render_config),
        },
        progress=True,
    )
    index.save(out)
    where = index_type if store.backend == "faiss" else f"milvus {index.meta()['collection']} at {store.uri}"
    _console().print(f"indexed {len(index):,} {kind}s ({where}, dim {index.dim}) -> {out}")


@index_app.command("search")
def index_search(
    index_dir: Annotated[Path, typer.Option("--index", help="Index folder from 'index build'.")],
    query_file: Annotated[
        Path | None, typer.Option("--query-file", help="Documents of the other kind to use as queries.")
    ] = None,
    text: Annotated[str | None, typer.Option("--text", help="A free-text query.")] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Results per query.", min=1)] = 10,
    encoder: Annotated[
        str | None, typer.Option("--encoder", help="Encoder spec (default: the one the index was built with).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON instead of a table.")] = False,
    where: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help="Milvus only: a boolean expression over the documents' metadata, e.g. 'family == \"sales\"'.",
        ),
    ] = None,
) -> None:
    """Search a saved index with free text or a file of query documents."""
    from agentic_match.data import load_documents
    from agentic_match.retrieval.index import VectorIndex, open_index

    if (query_file is None) == (text is None):
        raise AgenticMatchError("give exactly one of --query-file or --text")
    info = VectorIndex.read_meta(index_dir).get("info") or {}
    spec = encoder or info.get("encoder")
    if not spec:
        raise AgenticMatchError(f"{index_dir} does not record its encoder; pass --encoder")
    enc = _load_encoder(spec, info.get("render_config"))
    index = open_index(index_dir, expect_fingerprint=enc.fingerprint(), expect_render=enc.render_config.fingerprint())
    if where is not None and isinstance(index, VectorIndex):
        raise AgenticMatchError("--filter needs a Milvus index (index.backend = 'milvus'); FAISS has no metadata")
    if text is not None:
        qids, queries = ["text"], enc.encode([text])
    else:
        indexed = index.info.get("kind")
        q_kind = "job" if indexed == "resume" else "resume"
        qdocs = load_documents(query_file, q_kind)  # type: ignore[arg-type]
        qids, queries = [d.id for d in qdocs], enc.encode(list(qdocs))
    ids, scores = index.search(queries, k, filter=where) if where is not None else index.search(queries, k)
    run = {q: {d: float(s) for d, s in zip(row, srow)} for q, row, srow in zip(qids, ids, scores)}
    console = _console()
    if as_json:
        console.print(json.dumps(run, indent=2), markup=False)
        return
    table = Table(title=f"top {k} in {index_dir}", title_justify="left")
    for col in ("query", "rank", "id", "score"):
        table.add_column(col, justify="right" if col in ("rank", "score") else "left")
    for q, docs in run.items():
        for rank, (d, s) in enumerate(docs.items(), start=1):
            table.add_row(q, str(rank), d, f"{s:.4f}")
    console.print(table)


def _ranker(system: str) -> Ranker:
    from agentic_match.cli.context import settings

    if system == "bm25":
        from agentic_match.retrieval.bm25 import BM25Ranker

        return BM25Ranker()
    if system == "raw":
        return _load_encoder(settings().encoder)
    if not Path(system).exists():
        raise AgenticMatchError(f"--system must be bm25, raw or an encoder folder; {system!r} does not exist")
    return _load_encoder(system)


def eval_command(
    data: Annotated[Path, typer.Option("--data", help="Benchmark directory (e.g. ../shared/data/benchmark/v1).")],
    task: Annotated[str, typer.Option("--task", help="rank_resume (jobs query resumes) or rank_job.")],
    system: Annotated[str, typer.Option("--system", help="bm25, raw (pretrained encoder) or an encoder folder.")],
    split: Annotated[str, typer.Option("--split", help="dev (tuning) or test (reporting).")] = "test",
    run_out: Annotated[
        Path | None, typer.Option("--run-out", help="Write the top-100 run here (.json or .json.gz).")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", help="Run depth.", min=100)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
) -> None:
    """Score a system on a benchmark ranking task (nDCG@10, Recall@10/100, MAP@100, MRR@10)."""
    from agentic_match.data import load_benchmark
    from agentic_match.evaluation import evaluate, load_task

    _choice(task, _TASKS, "--task")
    _choice(split, ("dev", "test"), "--split")
    if run_out is not None:
        writable_output(run_out, "--run-out")
    ranking_task = load_task(load_benchmark(data), split, task)  # type: ignore[arg-type]
    result = evaluate(_ranker(system), ranking_task, k=k, run_path=run_out)
    console = _console()
    if as_json:
        console.print(
            json.dumps({"system": system, "task": task, "split": split, "metrics": result.metrics}), markup=False
        )
        return
    table = Table(title=f"{system} on {split} {task} ({len(ranking_task.queries)} queries)", title_justify="left")
    table.add_column("metric")
    table.add_column("score", justify="right")
    for name, value in result.metrics.items():
        table.add_row(name, f"{value:.2f}")
    console.print(table)
    if run_out is not None:
        console.print(f"run written to {run_out}")


def register(app: typer.Typer) -> None:
    """Add ``index build|search`` and ``eval`` to the root app."""
    app.add_typer(index_app, name="index")
    app.command("eval")(eval_command)


__all__ = ["index_app", "register"]
