"""``agentic-match audit``: a counterfactual fairness audit of an encoder, as a report folder.

The audit works without sensitive labels (swapped gender / age / nationality markers). When
resumes carry a sensitive attribute in their metadata (``--group-key``), or when the
lexicon's reading of each resume's own pronouns and terms is asked for (``--group-key
lexicon``, a weak proxy), the report adds group metrics of the original ranking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from agentic_match.errors import ConfigError


def _console() -> Console:
    # Built per call so that tests capturing stdout (CliRunner) see the output.
    return Console(highlight=False, soft_wrap=True)


def audit(
    out: Annotated[Path, typer.Option("--out", help="Report folder: report.md, report.html, audit.json, plots.")],
    data: Annotated[
        Path, typer.Option("--data", help="A folder in the benchmark layout (resumes.jsonl, jobs.jsonl, ...).")
    ],
    encoder: Annotated[
        Optional[str], typer.Option("--encoder", help="Encoder spec or trained folder (default: settings encoder).")
    ] = None,
    split: Annotated[str, typer.Option(help="Split whose resumes and jobs are audited.")] = "test",
    k: Annotated[int, typer.Option(help="Top-k cut-off for list changes and group metrics.")] = 10,
    dimension: Annotated[
        Optional[list[str]],
        typer.Option(
            "--dimension", help="Lexicon dimension to swap (repeatable; default gender): gender, age, nationality."
        ),
    ] = None,
    lexicon: Annotated[Optional[Path], typer.Option(help="Lexicon JSON (default: the packaged one).")] = None,
    inject_names: Annotated[
        bool,
        typer.Option("--inject-names/--no-inject-names", help="Prepend a lexicon first name to every resume first."),
    ] = False,
    group_key: Annotated[
        Optional[str],
        typer.Option(help="Resume metadata key of a sensitive attribute, or 'lexicon' (inferred from the text)."),
    ] = None,
    exclude_field: Annotated[
        Optional[list[str]],
        typer.Option("--exclude-field", help="Field never rendered into the encoder input (repeatable)."),
    ] = None,
    max_jobs: Annotated[Optional[int], typer.Option(help="Audit at most this many jobs (seeded sample).")] = None,
    max_resumes: Annotated[Optional[int], typer.Option(help="Audit at most this many resumes (seeded sample).")] = None,
    worst: Annotated[int, typer.Option(help="Worst pairs listed.")] = 10,
    seed: Annotated[int, typer.Option(help="Seed of samples and injected names.")] = 0,
) -> None:
    """Audit how an encoder's scores react to swapped gendered (or other) words; write a report."""
    from agentic_match.cli.context import settings
    from agentic_match.data import load_benchmark
    from agentic_match.data.render import RenderConfig
    from agentic_match.fairness.counterfactual import (
        AuditConfig,
        CounterfactualConfig,
        counterfactual_audit,
        metadata_groups,
    )
    from agentic_match.fairness.lexicon import Lexicon
    from agentic_match.fairness.metrics import ranking_fairness
    from agentic_match.fairness.report import write_audit_report
    from agentic_match.retrieval.encoder import BiEncoder

    if k < 1:
        raise ConfigError("--k must be >= 1")
    lex = Lexicon.load(lexicon)
    dimension = dimension or ["gender"]
    exclude_field = exclude_field or []
    for d in dimension:
        lex.dimension(d)  # fail early on a typo
    corpus = load_benchmark(data)
    resumes = [corpus.resumes[i] for i in corpus.split_ids("resume", split) if i in corpus.resumes]
    jobs = [corpus.jobs[i] for i in corpus.split_ids("job", split) if i in corpus.jobs]
    spec = encoder or settings().encoder
    enc = BiEncoder.load(spec, render_config=RenderConfig(exclude_fields=tuple(exclude_field)))
    config = AuditConfig(
        k=k,
        worst=worst,
        counterfactual=CounterfactualConfig(dimensions=tuple(dimension), inject_names=inject_names, seed=seed),
        max_jobs=max_jobs,
        max_resumes=max_resumes,
        seed=seed,
    )
    console = _console()
    console.print(f"auditing {spec} on {len(jobs)} jobs x {len(resumes)} resumes ({split}) ...")
    result = counterfactual_audit(enc, jobs, resumes, lex, config)

    fairness = None
    group_note = "none"
    if group_key:
        audited = [corpus.resumes[i] for i in result.resume_ids]
        # The lexicon reads the audited resumes (name-injected ones included) for proxy groups.
        groups = dict(result.base_sides) if group_key == "lexicon" else metadata_groups(audited, group_key)
        group_note = (
            f"lexicon-inferred {dimension[0]} (weak proxy)" if group_key == "lexicon" else f"metadata['{group_key}']"
        ) + f", {len(groups)} of {len(audited)} resumes"
        if len(set(groups.values())) >= 2:
            qrels = corpus.qrels.get(f"{split}_rank_resume")
            fairness = ranking_fairness(
                result.base_run(depth=max(k, 100)), groups, k, qrels=qrels, pools=result.resume_ids
            )
        else:
            console.print(f"[yellow]fewer than two groups found via {group_key!r}; group metrics skipped[/yellow]")
    paths = write_audit_report(
        result,
        out,
        fairness=fairness,
        context={
            "encoder": spec,
            "data": str(data),
            "split": split,
            "lexicon": lex.source,
            "groups": group_note,
            "excluded fields": ", ".join(exclude_field) or "none",
        },
    )
    s = result.summary()
    console.print(
        f"{result.n_changed}/{result.n_resumes} resumes changed; mean |shift| {s['shift_mean_abs']:.4f} "
        f"(z {s['shift_mean_abs_z']:.4f}); top-{k} lists changed {s[f'top{k}_lists_changed_pct']:.1f}%"
    )
    console.print(f"wrote {paths['markdown']} and {paths['html']}")


def register(app: typer.Typer) -> None:
    """Add ``audit`` to the root app."""
    app.command("audit")(audit)


__all__ = ["audit", "register"]
