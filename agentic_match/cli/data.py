"""``agentic-match data``: validate and describe input files.

``data validate PATH...`` prints every problem as ``path:line [field]: message`` and a
summary, and exits 2 when there is any problem (0 otherwise). ``data stats PATH...``
prints counts and lengths. Neither ever prints a traceback for bad data.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from agentic_match.data import load_documents, load_interactions, load_labels
from agentic_match.data.benchmark import load_benchmark
from agentic_match.data.render import render
from agentic_match.data.schema import Corpus, Document, Interaction, Label
from agentic_match.data.validate import infer_kind, is_dataset_dir, validate_paths
from agentic_match.errors import DataError, Problem

data_app = typer.Typer(
    help="Validate and describe resumes, jobs, labels and interactions.",
    no_args_is_help=True,
)

EXIT_PROBLEMS = 2


def _console() -> Console:
    # Built per call so tests capturing stdout (CliRunner) see the output.
    return Console(highlight=False, soft_wrap=True)


@data_app.command("validate")
def validate(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files (.jsonl, .csv, .tsv, .json), datasets folders or benchmark "
            "directories. Resume and job files given together are cross-checked with the "
            "labels and interactions given with them.",
            show_default=False,
        ),
    ],
) -> None:
    """Check input data and list every problem with its file, line and field."""
    console = _console()
    report = validate_paths(paths)
    for problem in report.problems:
        console.print(str(problem), markup=False)
    per_file = report.problems_by_file()
    table = Table(title="data validate", title_justify="left")
    for col in ("file", "kind", "rows", "valid", "problems"):
        table.add_column(col, justify="left" if col in ("file", "kind") else "right", overflow="fold")
    for src in dict.fromkeys([*report.rows, *per_file]):
        table.add_row(
            src,
            report.kinds.get(src, "-"),
            f"{report.rows.get(src, 0):,}",
            f"{report.counts.get(src, 0):,}",
            f"{per_file.get(src, 0):,}",
        )
    console.print(table)
    if report.ok:
        console.print(f"[bold green]ok[/]: {report.summary()}")
        return
    console.print(f"[bold red]invalid[/]: {report.summary()}")
    raise SystemExit(EXIT_PROBLEMS)


def _doc_stats(docs: Iterable[Document]) -> dict[str, Any]:
    docs = list(docs)
    lengths = [len(render(d)) for d in docs]
    fields = Counter(name for d in docs for name, v in d.fields.items() if v.strip())
    return {
        "count": len(docs),
        "mean_chars": round(statistics.fmean(lengths), 1) if lengths else 0,
        "median_chars": statistics.median(lengths) if lengths else 0,
        "max_chars": max(lengths, default=0),
        "with_free_text": sum(1 for d in docs if (d.text or "").strip()),
        "fields": dict(sorted(fields.items())),
    }


def _label_stats(labels: list[Label]) -> dict[str, Any]:
    values = Counter(lab.label for lab in labels)
    return {
        "count": len(labels),
        "values": {f"{k:g}": n for k, n in sorted(values.items())},
        "resumes": len({lab.resume_id for lab in labels}),
        "jobs": len({lab.job_id for lab in labels}),
    }


def _interaction_stats(interactions: list[Interaction]) -> dict[str, Any]:
    per = Counter(x.resume_id for x in interactions)
    counts = list(per.values())
    return {
        "count": len(interactions),
        "resumes": len(per),
        "jobs": len({x.job_id for x in interactions}),
        "mean_per_resume": round(statistics.fmean(counts), 2) if counts else 0,
        "max_per_resume": max(counts, default=0),
    }


def _corpus_stats(corpus: Corpus) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resumes": _doc_stats(corpus.resumes.values()),
        "jobs": _doc_stats(corpus.jobs.values()),
    }
    if corpus.label_splits:
        out["labels"] = {s: _label_stats(v) for s, v in corpus.label_splits.items()}
    elif corpus.labels:
        out["labels"] = _label_stats(corpus.labels)
    if corpus.interactions:
        out["interactions"] = _interaction_stats(corpus.interactions)
    if corpus.splits:
        out["splits"] = {k: {s: len(ids) for s, ids in v.items()} for k, v in corpus.splits.items()}
    if corpus.qrels:
        out["qrels"] = {
            k: {"queries": len(q), "judgements": sum(len(d) for d in q.values())} for k, q in corpus.qrels.items()
        }
    return out


def _path_stats(path: Path) -> tuple[dict[str, Any], int]:
    """Statistics of one input and the number of rows skipped as invalid."""
    if path.is_dir() and not is_dataset_dir(path):
        corpus = load_benchmark(path, on_error="skip")
        return _corpus_stats(corpus), len(corpus.report.problems) if corpus.report else 0
    kind = infer_kind(path)
    if kind == "labels":
        labels = load_labels(path, on_error="skip")
        return {"labels": _label_stats(labels)}, len(labels.report.problems)
    if kind == "interactions":
        inter = load_interactions(path, on_error="skip")
        return {"interactions": _interaction_stats(inter)}, len(inter.report.problems)
    docs = load_documents(path, "job" if kind == "jobs" else "resume", on_error="skip")
    return {kind: _doc_stats(docs)}, len(docs.report.problems)


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        if not value:
            return "-"
        inner = ", ".join(f"{k}={_fmt(v)}" for k, v in value.items())
        return f"({inner})" if any(isinstance(v, dict) for v in value.values()) else inner
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def _flatten(value: Any, prefix: str = "", depth: int = 0) -> Iterable[tuple[str, str]]:
    # Two levels as rows ("resumes.count"), anything deeper inline, keeps tables short.
    if isinstance(value, dict) and depth < 2:
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k), depth + 1)
    else:
        yield prefix, _fmt(value)


def _print_stats(console: Console, title: str, stats: dict[str, Any]) -> None:
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", overflow="fold")
    for name, value in _flatten(stats):
        table.add_row(name, value)
    console.print(table)


@data_app.command("stats")
def stats(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files, datasets folders or benchmark directories.", show_default=False),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Counts and lengths (rendered characters) of documents, labels and interactions.

    Invalid rows are skipped and counted; run ``data validate`` to see them.
    """
    console = _console()
    results: dict[str, Any] = {}
    for path in paths:
        if not path.exists():
            raise DataError(Problem(str(path), None, None, "no such file or directory"))
        values, skipped = _path_stats(path)
        if skipped:
            values["problems_skipped"] = skipped
        results[str(path)] = values
    if as_json:
        console.print(json.dumps(results, indent=2, ensure_ascii=False), markup=False)
        return
    for src, values in results.items():
        _print_stats(console, src, values)


def register(app: typer.Typer) -> None:
    """Add the ``data`` command group to the root app."""
    app.add_typer(data_app, name="data")
