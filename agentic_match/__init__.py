"""agentic-match: resume-job matching on local models.

Layers (each depends only on those above it): the data contract (:mod:`agentic_match.data`),
models and the LLM runtime (:mod:`agentic_match.models`, :mod:`agentic_match.llm`),
capabilities (:mod:`agentic_match.retrieval`, :mod:`agentic_match.retrieval.index`,
:mod:`agentic_match.evaluation`), orchestration (the ``graphs`` package) and surfaces (the CLI).
"""

import os

# Never reach a model hub, never send telemetry: set before any Hugging Face import.
for _k, _v in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
    "VLLM_NO_USAGE_STATS": "1",
}.items():
    os.environ.setdefault(_k, _v)

__version__ = "0.1.0"
