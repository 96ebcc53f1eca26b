"""Fakes shared by the match, graph and service tests: a scripted LLM and a small corpus."""

from __future__ import annotations

import re
import threading

from agentic_match.augment.completion import CompletionOutput
from agentic_match.data import Corpus, load_demo
from agentic_match.errors import LLMUnavailableError
from agentic_match.matching.explain import ExplanationOutput

_RESUME_BLOCK = re.compile(r'<document type="resume">\n(.*?)\n</document>', re.DOTALL)
FABRICATED = "twelve years as chief surgeon at a famous hospital"


class Reply:
    def __init__(self, text: str):
        self.text = text
        self.cached = False


class FakeLLM:
    """Stands in for ``LLMClient``: HyRe text, completions and explanations by prompt.

    Explanations quote the first words of the resume shown (real evidence) and one
    fabricated sentence (must be dropped). ``fail_on`` makes explanations of prompts that
    contain that text raise ``LLMUnavailableError`` (a dead server).
    """

    def __init__(self) -> None:
        self.calls = {"hyre": 0, "complete": 0, "explain": 0}
        self.explained: list[str] = []
        self.fail_on: str | None = None
        self._lock = threading.Lock()

    def chat(self, messages, **kw):
        with self._lock:
            self.calls["hyre"] += 1
        return Reply("Experienced professional with strong skills in planning, teamwork and customer service.")

    def structured(self, messages, schema, **kw):
        prompt = messages[-1]["content"]
        if schema is CompletionOutput:
            with self._lock:
                self.calls["complete"] += 1
            return CompletionOutput(summary="Candidate interested in similar roles.", skills=["teamwork"])
        assert schema is ExplanationOutput, schema
        if self.fail_on and self.fail_on in prompt:
            raise LLMUnavailableError("fake server is down")
        resume = _RESUME_BLOCK.search(prompt).group(1)
        words = resume.replace("#", " ").split()
        with self._lock:
            self.calls["explain"] += 1
            self.explained.append(" ".join(words[:6]))
        return ExplanationOutput.model_validate(
            {
                "summary": "Partial fit.",
                "met": [
                    {"requirement": "relevant background", "quote": " ".join(words[:3])},
                    {"requirement": "surgery", "quote": FABRICATED},
                ],
                "missing": [{"requirement": "a driving licence", "quote": ""}],
            }
        )


def small_corpus() -> Corpus:
    """Six demo jobs, their labelled resumes plus a few others, labels and interactions."""
    demo = load_demo()
    jobs = {j: demo.jobs[j] for j in sorted(demo.jobs)[:6]}
    labels = [lb for lb in demo.labels if lb.job_id in jobs]
    keep = {lb.resume_id for lb in labels} | set(sorted(demo.resumes)[:12])
    resumes = {r: demo.resumes[r] for r in sorted(keep)}
    inter = [it for it in demo.interactions if it.resume_id in resumes and it.job_id in jobs]
    return Corpus(resumes=resumes, jobs=jobs, labels=labels, interactions=inter, source="small-demo")
