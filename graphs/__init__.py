"""LangGraph workflows of agentic-match (one module per graph).

Graphs are thin orchestration over :mod:`agentic_match` capabilities: typed state, small
nodes, and factories that take their dependencies so tests can inject them.

* ``augment_jobs`` - HyRe: a hypothetical resume per job (or a job per resume).
* ``complete_resumes`` - LGIR SRC / IRC completion with a fabrication check.
* ``clean_resumes`` - CV clean-up into structured fields.
* ``match`` - a job (or resume) to ranked candidates with verified explanations, streamed
  (``build_graph(matcher)``; see :mod:`agentic_match.matching`).
* ``finetune_adapter`` - build fine-tuning data, train LoRA (SFT, DPO), evaluate, and switch
  the served adapter (``build_graph(ops)``; see :mod:`finetune`).

Each has ``build_graph(llm, config, ..., checkpointer=None)`` and ``inputs_for(...)``; run
them with ``graph.invoke(inputs)`` or, resumable by run id, ``graphs.batching.run_graph``.
``langgraph.json`` at the repository root lists their ``make_graph`` factories.
"""
