"""The data contract: documents, labels, interactions, loaders, rendering and validation.

Typical use::

    from agentic_match.data import load_benchmark, render, RenderConfig

    corpus = load_benchmark("../shared/data/benchmark/v1")
    text = render(corpus.jobs["g-0006"], RenderConfig(max_total_chars=4000))
"""

from agentic_match.data.benchmark import demo_dir, load_benchmark, load_demo
from agentic_match.data.io import (
    documents_from_dataset,
    load_corpus,
    load_documents,
    load_interactions,
    load_labels,
)
from agentic_match.data.render import (
    DEFAULT_JOB_FIELDS,
    DEFAULT_RESUME_FIELDS,
    RenderConfig,
    ordered_fields,
    render,
    render_all,
)
from agentic_match.data.report import MAX_DOC_CHARS, MAX_LINE_BYTES, Loaded, LoadReport, OnError
from agentic_match.data.rows import document_from_row, interaction_from_row, label_from_row
from agentic_match.data.schema import (
    Corpus,
    DocKind,
    Document,
    Interaction,
    Label,
    Qrels,
)
from agentic_match.data.validate import (
    ValidationReport,
    infer_kind,
    is_dataset_dir,
    kind_from_name,
    kind_from_row,
    validate_paths,
)
from agentic_match.data.writers import document_to_row, write_documents, write_interactions, write_labels

__all__ = [
    "DEFAULT_JOB_FIELDS",
    "DEFAULT_RESUME_FIELDS",
    "MAX_DOC_CHARS",
    "MAX_LINE_BYTES",
    "Corpus",
    "DocKind",
    "Document",
    "Interaction",
    "Label",
    "LoadReport",
    "Loaded",
    "OnError",
    "Qrels",
    "RenderConfig",
    "ValidationReport",
    "demo_dir",
    "document_from_row",
    "document_to_row",
    "documents_from_dataset",
    "infer_kind",
    "interaction_from_row",
    "is_dataset_dir",
    "kind_from_name",
    "kind_from_row",
    "label_from_row",
    "load_benchmark",
    "load_corpus",
    "load_demo",
    "load_documents",
    "load_interactions",
    "load_labels",
    "ordered_fields",
    "render",
    "render_all",
    "validate_paths",
    "write_documents",
    "write_interactions",
    "write_labels",
]
