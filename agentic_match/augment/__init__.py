"""LLM augmentation of documents before matching.

* :mod:`~agentic_match.augment.hyre` - HyRe: a hypothetical resume per job (and the reverse).
* :mod:`~agentic_match.augment.completion` - LGIR SRC / IRC resume completion + fabrication check.
* :mod:`~agentic_match.augment.clean` - CV clean-up into structured fields.
* :mod:`~agentic_match.augment.esco` - ESCO standardisation of titles (embeddings).
* :mod:`~agentic_match.augment.lgir` - LGIR's GAN alignment and pairwise scorer (torch).
* :mod:`~agentic_match.augment.generation` - checked, retried generation shared by all.

The LangGraph graphs in ``graphs/`` run these over whole files with checkpoints.
"""

from agentic_match.augment.clean import (
    CleanConfig,
    CleanCV,
    clean_messages,
    clean_resume,
    cleaned_document,
)
from agentic_match.augment.completion import (
    CompletionConfig,
    CompletionOutput,
    FabricationReport,
    compare_fabrication,
    complete_resume,
    completed_document,
    completion_messages,
    fabrication_report,
    interacted_jobs,
)
from agentic_match.augment.generation import (
    GenerationPolicy,
    Outcome,
    generate_structured,
    generate_text,
    text_problem,
)
from agentic_match.augment.hyre import (
    HyReConfig,
    augment_job_text,
    augmented_document,
    hyre_document,
    hyre_messages,
    messages_for,
    pick_examples,
    reverse_messages,
)

__all__ = [
    "CleanCV",
    "CleanConfig",
    "CompletionConfig",
    "CompletionOutput",
    "FabricationReport",
    "GenerationPolicy",
    "HyReConfig",
    "Outcome",
    "augment_job_text",
    "augmented_document",
    "clean_messages",
    "clean_resume",
    "cleaned_document",
    "compare_fabrication",
    "complete_resume",
    "completed_document",
    "completion_messages",
    "fabrication_report",
    "generate_structured",
    "generate_text",
    "hyre_document",
    "hyre_messages",
    "interacted_jobs",
    "messages_for",
    "pick_examples",
    "reverse_messages",
    "text_problem",
]
