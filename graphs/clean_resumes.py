"""Graph ``clean_resumes``: every resume turned into structured fields (CV clean-up).

::

    START -> prepare --Send(batch)--> process (parallel) -> write -> END

See :mod:`agentic_match.augment.clean` for the record and the output document. The nodes
are :mod:`graphs.batching`'s; :class:`CleanContext` holds the client and the run's settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agentic_match.augment.batch import clean_step, process_documents
from agentic_match.augment.clean import CleanConfig
from agentic_match.augment.esco import EscoStandardizer, standardize_documents
from agentic_match.data.schema import Document
from graphs.batching import (
    BatchGraph,
    BatchState,
    GenerationContext,
    doc_of,
    documents_update,
    rows_of,
    write_documents_output,
)


class CleanState(BatchState, total=False):
    """State of ``clean_resumes``: the shared batch state, resume rows in ``docs``."""


@dataclass
class CleanContext(GenerationContext):
    """Runtime context of ``clean_resumes``.

    Attributes:
        clean: Clean-up settings.
        esco: With a standardizer, each cleaned resume's current title is also mapped to
            its nearest ESCO occupation and that occupation's skills (``metadata["esco"]``).
    """

    clean: CleanConfig = field(default_factory=CleanConfig)
    esco: EscoStandardizer | None = None

    what = "clean_resumes"

    def settings_key(self) -> Any:
        return [*self.generation_key(self.clean), self.esco is not None]

    def process(self, task: dict, emit: Any) -> dict:
        step = clean_step(self.client(), self.clean, policy=self.policy, render_config=self.render_config)
        batch = process_documents([doc_of(r, "resume") for r in task["batch"]], step, on_event=emit)
        if self.esco is not None and batch.results:
            cleaned = standardize_documents(self.esco, list(batch.results.values()))
            batch.results = {d.id: d for d in cleaned}
        return documents_update(batch)

    def write(self, state: dict) -> dict:
        return write_documents_output(state, "resume", "clean_failed")


def inputs_for(resumes: Sequence[Document], *, output_path: str | None = None, batch_size: int = 4) -> CleanState:
    """The input state of a run."""
    return CleanState(docs=rows_of(list(resumes)), batch_size=batch_size, output_path=output_path)


GRAPH = BatchGraph(CleanState, CleanContext, "clean_resumes", "clean")
compile_graph = GRAPH.compile
make_graph = GRAPH.make
build_graph = GRAPH.build
"""``build_graph(llm, config, *, retry, checkpointer, **context)``: the graph, its context bound."""


__all__ = ["CleanContext", "CleanState", "build_graph", "compile_graph", "inputs_for", "make_graph"]
