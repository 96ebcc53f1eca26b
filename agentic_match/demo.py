"""The main job end to end on the packaged demo corpus and the packaged default models.

Starts (or reuses) the local vLLM server, has the generator write a hypothetical reference
resume for a few jobs (HyRe), embeds jobs and resumes with the encoder, indexes resumes with
FAISS and prints the top candidates per job. Then it runs the ``match`` graph for the first
job - augmentation, retrieval and a verified skill-gap explanation per candidate, streamed as
they come. Generations are cached, so a rerun is fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agentic_match.augment.hyre import HyReConfig, pick_examples
from agentic_match.config import Settings
from agentic_match.data import load_demo, render
from agentic_match.files import write_json


@dataclass
class DemoResult:
    """What the demo produced: per job the generated resume and the ranked candidates."""

    generated: dict[str, str] = field(default_factory=dict)
    """Per job, the generated resume that passed the checks."""
    rejected: dict[str, str] = field(default_factory=dict)
    """Per job whose every attempt failed a check (a copy, a loop): why; it keeps its post."""
    rankings: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    rankings_plain: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    accepted: dict[str, set[str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    match: dict | None = None
    """The ``match`` graph's result (``MatchResult`` as a dict) for the first job, explained."""


def run_demo(
    settings: Settings,
    *,
    n_jobs: int = 3,
    top_k: int = 5,
    out: Path | None = None,
    console: Console | None = None,
    hyre: HyReConfig = HyReConfig(max_tokens=200),
    explain_top: int = 3,
) -> DemoResult:
    """Run the demo and print its rankings; returns them too (tests check them)."""
    from agentic_match.llm import open_llm

    console = console or Console()
    result = DemoResult()
    t0 = time.perf_counter()
    corpus = load_demo()
    console.print(
        f"[bold]demo corpus[/] (made up): {len(corpus.resumes)} resumes, {len(corpus.jobs)} jobs, "
        f"{len(corpus.labels)} labels - {corpus.source}"
    )
    job_ids = sorted(corpus.jobs)[:n_jobs]
    train_labels = corpus.label_splits.get("train", corpus.labels)
    examples = pick_examples(corpus, train_labels, hyre, exclude_jobs=set(job_ids))

    console.print(f"[bold]1. HyRe[/]: the local model writes a reference resume for {len(job_ids)} jobs")
    console.print("  (starts a local vLLM server on 127.0.0.1 unless one is running: 1-3 minutes on 2 CPU cores)")
    with open_llm(settings) as llm:
        result.timings["llm_ready_s"] = time.perf_counter() - t0
        encoder, index = _rank(llm, settings, corpus, job_ids, examples, top_k, hyre, console, result)
        if explain_top > 0:
            _match_and_explain(llm, encoder, index, corpus, job_ids[0], explain_top, hyre, console, result)
    result.timings["total_s"] = time.perf_counter() - t0
    console.print(f"done in {result.timings['total_s']:.0f}s (LLM ready after {result.timings['llm_ready_s']:.0f}s)")
    if out is not None:
        payload = {
            "generated": result.generated,
            "rejected": result.rejected,
            "rankings": result.rankings,
            "rankings_plain": result.rankings_plain,
            "match": result.match,
            "timings": result.timings,
        }
        write_json(out, payload)
    return result


PACKAGED_WRITER = "smollm2-135m"
LARGER_WRITER_HINT = (
    "agentic-match demo --model ~/.cache/offline-models/qwen2.5-coder-1.5b/model.gguf "
    "(Qwen2.5-Coder-1.5B, assembled by ../shared/models/get-model.sh; any local HF folder or GGUF works)"
)


def _rank(llm, settings: Settings, corpus, job_ids, examples, top_k: int, hyre: HyReConfig, console, result):
    """Steps 1-3: checked HyRe generations, embedding and indexing, top candidates with and
    without HyRe.

    Returns the encoder and the resume index (step 4 reuses them).
    """
    from rich.markup import escape

    from agentic_match.augment.batch import hyre_step, process_documents
    from agentic_match.retrieval.encoder import BiEncoder
    from agentic_match.retrieval.hyre_view import hyre_parts
    from agentic_match.retrieval.index import build_document_index

    t = time.perf_counter()
    # The same checked generation as `augment` and the match graph: a copy of the post or of
    # the few-shot answer, or a looping answer, is retried and then rejected, never shown.
    jobs = [corpus.jobs[j] for j in job_ids]
    batch = process_documents(jobs, hyre_step(llm, examples, hyre), concurrency=settings.llm.max_concurrency)
    result.timings["generation_s"] = time.perf_counter() - t
    for j in job_ids:
        title = corpus.jobs[j].fields.get("title", "")
        parts = hyre_parts(batch.results[j]) if j in batch.results else None
        if parts is None:
            result.rejected[j] = batch.failures.get(j, "no generation")
            why = escape(result.rejected[j])
            console.print(f"  [cyan]{j}[/] {title}: [yellow]rejected[/] ({why})", highlight=False)
            continue
        result.generated[j] = parts[2]
        console.print(f"  [cyan]{j}[/] {title}:", highlight=False)
        for line in parts[2].strip().splitlines()[:8]:
            console.print(f"    {escape(line[:110])}", highlight=False)
    console.print(
        f"  ({len(result.generated)} written, {len(result.rejected)} rejected by the checks, "
        f"{result.timings['generation_s']:.1f}s)"
    )
    if settings.llm.model == PACKAGED_WRITER:
        console.print(
            "  [yellow]note[/]: the packaged SmolLM2-135M is a smoke-test model, too small to write a reference "
            "resume worth ranking by (it mostly copies; see docs/benchmarks.md, HyRe writers). For HyRe that helps, "
            f"point the toolkit at a larger local model: {LARGER_WRITER_HINT}",
            highlight=False,
        )

    console.print(f"[bold]2. Embed and index[/]: {settings.encoder} + FAISS (exact inner product)")
    t = time.perf_counter()
    encoder = BiEncoder.load(settings.encoder)
    resumes = [corpus.resumes[r] for r in sorted(corpus.resumes)]
    index = build_document_index(resumes, encoder)
    # The augmented jobs are read through the encoder's HyRe view (what it was trained with).
    augmented = [batch.results.get(j, corpus.jobs[j]) for j in job_ids]
    ids, scores = index.search(encoder.encode(augmented), k=top_k)
    plain_ids, plain_scores = index.search(encoder.encode([corpus.jobs[j] for j in job_ids]), k=top_k)
    result.timings["retrieval_s"] = time.perf_counter() - t

    for lb in corpus.labels:
        if lb.label > 0:
            result.accepted.setdefault(lb.job_id, set()).add(lb.resume_id)
    console.print(
        f"[bold]3. Top candidates per job[/]: job text alone vs job + HyRe, read as the encoder's HyRe view "
        f"'{encoder.settings.hyre.mode}' (* = labelled accepted)"
    )
    for qi, j in enumerate(job_ids):
        result.rankings[j] = [(d, float(x)) for d, x in zip(ids[qi], scores[qi])]
        result.rankings_plain[j] = [(d, float(x)) for d, x in zip(plain_ids[qi], plain_scores[qi])]
        table = Table(title=f"{j}: {corpus.jobs[j].fields.get('title', '')}", title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("job text alone")
        table.add_column("job + HyRe")
        for rank, (a, b) in enumerate(zip(result.rankings_plain[j], result.rankings[j]), 1):
            table.add_row(str(rank), _cell(corpus, j, *a, result), _cell(corpus, j, *b, result))
        console.print(table)
    return encoder, index


def _match_and_explain(
    llm, encoder, index, corpus, job_id: str, k: int, hyre: HyReConfig, console, result: DemoResult
) -> None:
    """Step 4: the ``match`` graph for one job, with a verified explanation per candidate."""
    from rich.markup import escape

    from agentic_match.matching import MatchConfig, Matcher
    from agentic_match.matching.explain import ExplainConfig
    from graphs.match import build_graph, inputs_for, run_match

    console.print(
        f"[bold]4. Match and explain[/] {job_id} (graph 'match': HyRe -> FAISS -> explanations, streamed); "
        "requirements come from the job's qualification lines, evidence is the resume sentence the encoder "
        "ranks first (an exact quote), 'met' when its score reaches the threshold chosen on dev"
    )
    config = MatchConfig(k=k, hyre=hyre, explain=ExplainConfig(max_tokens=300))
    matcher = Matcher(encoder, corpus, indexes={"resume": index}, llm=llm, config=config)

    def on_event(mode: str, part) -> None:
        if mode != "custom":
            return
        if part["event"] == "retrieved":
            console.print("  candidates: " + ", ".join(f"{c['id']} {c['score']:.3f}" for c in part["candidates"]))
        elif part["event"] == "explanation":
            e = part["explanation"]
            share = "" if e.get("met_share") is None else f"{e['met_share']:.0%} of the requirements met"
            console.print(
                f"  [cyan]{part['id']}[/] {escape(share or e.get('summary') or e.get('problem') or '')}",
                highlight=False,
            )
            for ev in e["met"][:3]:
                req, quote = escape(ev["requirement"][:70]), escape(ev["quote"][:90])
                console.print(f'    [green]met[/] {req} ({ev["score"]:.2f}): "{quote}"', highlight=False)
            for ev in e["missing"][:2]:
                console.print(f"    [yellow]not shown[/] {escape(ev['requirement'][:70])}", highlight=False)

    t = time.perf_counter()
    res = run_match(build_graph(matcher), inputs_for(job_id, kind="job", k=k, explain=True), on_event=on_event)
    result.timings["match_explain_s"] = time.perf_counter() - t
    result.match = res.model_dump()


def _cell(corpus, job_id: str, resume_id: str, score: float, result: DemoResult) -> str:
    mark = "*" if resume_id in result.accepted.get(job_id, set()) else ""
    first = render(corpus.resumes[resume_id]).strip().splitlines()[0][:22].title()
    return f"{resume_id}{mark} {score:.3f} {first}"
