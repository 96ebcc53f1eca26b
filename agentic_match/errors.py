"""Error types that the CLI turns into clear messages (never a traceback).

Every error a user can cause derives from :class:`AgenticMatchError`; the CLI prints
``str(error)`` and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass


class AgenticMatchError(Exception):
    """Base class of every error caused by input, configuration or environment."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file, located as precisely as possible."""

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class DataError(AgenticMatchError):
    """Invalid input data; carries every :class:`Problem` found, not just the first."""

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, Problem):
            problems = [problems]
        elif isinstance(problems, str):
            problems = [Problem("<input>", None, None, problems)]
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n  ... and {more} more"
        super().__init__(f"{len(self.problems)} data problem(s):\n{shown}")


class ModelNotFoundError(AgenticMatchError):
    """A model spec could not be resolved to local files."""


class AdapterError(AgenticMatchError):
    """A LoRA adapter is missing, malformed, or belongs to another base model."""


class LLMError(AgenticMatchError):
    """The LLM server failed or gave output that could not be used."""


class LLMUnavailableError(LLMError):
    """The LLM server could not be reached or died; retrying later may succeed."""

    retryable = True


class StructuredOutputError(LLMError):
    """The model's answer did not match the requested schema, even after a repair retry."""


class NoTrainingPairsError(DataError):
    """The labels hold no accepted pair, so there is nothing to train on."""


class ConfigError(AgenticMatchError):
    """Invalid configuration file, environment variable or flag."""
