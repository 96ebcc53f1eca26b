"""One augmentation over many documents, with failures kept apart: the batch capability.

HyRe, SRC / IRC completion and clean-up each have a per-document function that returns the
new document and an :class:`~agentic_match.augment.generation.Outcome`.
:func:`process_documents` runs such a function over a list of documents (in threads when
``concurrency > 1``), reports each one as a :class:`~agentic_match.events.DocumentEvent`,
and returns the successes and failures separately; :func:`write_batch_output` writes every
input document, in input order - a failed one unchanged, with the reason in its metadata -
and the failures beside it. The graphs (``augment_jobs``, ``complete_resumes``,
``clean_resumes``) call these per batch; the train pipeline calls them over the whole corpus.

Example::

    from agentic_match.augment.batch import hyre_step, process_documents, write_batch_output

    batch = process_documents(jobs, hyre_step(llm, examples), concurrency=8)
    write_batch_output("jobs.hyre.jsonl", jobs, batch, "hyre_failed")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentic_match.augment.generation import ChatModel, GenerationPolicy, Outcome
from agentic_match.data.render import RenderConfig
from agentic_match.data.schema import Document
from agentic_match.events import EventSink, document_event, ignore


@dataclass
class DocResult:
    """What one document's augmentation gave.

    Attributes:
        doc: The augmented document (the input itself when it failed).
        outcome: Attempts, problem, the parsed value.
        extra: JSON-able facts to keep per document (e.g. a fabrication report).
    """

    doc: Document
    outcome: Outcome
    extra: dict[str, Any] | None = None


DocStep = Callable[[Document], DocResult]
"""One document in, its :class:`DocResult` out (an unreachable server raises)."""


@dataclass
class BatchResult:
    """Successes and failures of a batch, by document id."""

    results: dict[str, Document] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    extras: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, item: DocResult) -> None:
        if item.outcome.ok:
            self.results[item.doc.id] = item.doc
            if item.extra is not None:
                self.extras[item.doc.id] = item.extra
        else:
            self.failures[item.doc.id] = item.outcome.problem or "failed"


def process_documents(
    docs: Sequence[Document], step: DocStep, *, concurrency: int = 1, on_event: EventSink = ignore
) -> BatchResult:
    """Run ``step`` over ``docs``; ``concurrency`` documents in flight (threads over a sync client).

    An exception (an unreachable server) propagates: the caller's retry or resume takes over,
    and whatever the LLM already answered is in the generation cache.
    """
    out = BatchResult()

    def record(item: DocResult) -> None:
        out.add(item)
        o = item.outcome
        on_event(document_event(item.doc.id, o.ok, o.problem, o.attempts))

    if concurrency <= 1:
        for doc in docs:
            record(step(doc))
        return out
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for fut in as_completed([pool.submit(step, d) for d in docs]):
            record(fut.result())
    return out


def failures_path(output: str | Path) -> Path:
    """``jobs.hyre.jsonl`` -> ``jobs.hyre.failures.jsonl``."""
    p = Path(output)
    return p.with_name(p.name.removesuffix(".jsonl") + ".failures.jsonl")


def write_batch_output(
    path: str | Path,
    docs: Sequence[Document],
    results: Mapping[str, Document],
    failures: Mapping[str, str],
    failure_note: str,
) -> Path:
    """Write every document of ``docs`` in input order (augmented, or unchanged with
    ``metadata[failure_note]``) and list the failures in ``<output>.failures.jsonl``."""
    from agentic_match.data import write_documents
    from agentic_match.files import atomic_write_lines

    written = []
    for d in docs:
        if d.id in results:
            written.append(results[d.id])
        else:
            meta = {**d.metadata, failure_note: failures.get(d.id, "not processed")}
            written.append(Document(d.id, d.kind, d.fields, d.text, meta))
    out = write_documents(path, written)
    fail_path = failures_path(out)
    if failures:
        atomic_write_lines(fail_path, ({"id": k, "problem": v} for k, v in sorted(failures.items())))
    else:
        fail_path.unlink(missing_ok=True)
    return out


# --------------------------------------------------------------------------- the per-document steps


def hyre_step(
    llm: ChatModel,
    examples: Sequence[tuple[Document, Document]],
    config: Any = None,
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
) -> DocStep:
    """HyRe (:func:`~agentic_match.augment.hyre.hyre_document`) as a :data:`DocStep`."""
    from agentic_match.augment.hyre import HyReConfig, hyre_document

    cfg = config or HyReConfig()

    def step(doc: Document) -> DocResult:
        out, outcome = hyre_document(llm, doc, examples, cfg, policy=policy, render_config=render_config)
        return DocResult(out, outcome)

    return step


def completion_step(
    llm: ChatModel,
    interacted: Mapping[str, Sequence[Document]],
    config: Any = None,
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
) -> DocStep:
    """SRC / IRC completion with its fabrication report (``extra``) as a :data:`DocStep`."""
    from agentic_match.augment.completion import CompletionConfig, complete_resume, fabrication_report

    cfg = config or CompletionConfig()

    def step(resume: Document) -> DocResult:
        jobs = list(interacted.get(resume.id, []))
        out, outcome = complete_resume(llm, resume, jobs, cfg, policy=policy, render_config=render_config)
        extra = None
        if outcome.ok and outcome.value is not None:
            rep = fabrication_report(resume, outcome.value.skills, jobs[: cfg.max_jobs], cfg.method)
            extra = {"method": rep.method, "supported": rep.supported, "unsupported": rep.unsupported}
        elif outcome.ok:  # a schema-valid answer without a value: nothing to use
            outcome = Outcome(attempts=outcome.attempts, problem="failed")
            out = resume
        return DocResult(out, outcome, extra)

    return step


def clean_step(
    llm: ChatModel,
    config: Any = None,
    *,
    policy: GenerationPolicy = GenerationPolicy(),
    render_config: RenderConfig = RenderConfig(),
) -> DocStep:
    """CV clean-up (:func:`~agentic_match.augment.clean.clean_resume`) as a :data:`DocStep`."""
    from agentic_match.augment.clean import CleanConfig, clean_resume

    cfg = config or CleanConfig()

    def step(resume: Document) -> DocResult:
        out, outcome = clean_resume(llm, resume, cfg, policy=policy, render_config=render_config)
        return DocResult(out, outcome)

    return step


__all__ = [
    "BatchResult",
    "DocResult",
    "DocStep",
    "clean_step",
    "completion_step",
    "failures_path",
    "hyre_step",
    "process_documents",
    "write_batch_output",
]
