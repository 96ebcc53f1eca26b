"""Which model serves the feedback loop, and every update so far (``<folder>/model.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentic_match.files import read_json, write_json

MODEL_FILE = "model.json"


@dataclass
class ModelRegistry:
    """Which model serves the feedback loop, kept in ``<folder>/model.json``.

    Args:
        folder: The feedback folder.
        initial: The model to start from when ``model.json`` does not exist yet.
    """

    folder: Path
    initial: str = "all-minilm-l6-v2"

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    def _load(self) -> dict[str, Any]:
        path = self.folder / MODEL_FILE
        if path.is_file():
            return read_json(path)
        return {"current": self.initial, "initial": self.initial, "updates": []}

    def current(self) -> str:
        """The model in use (a folder or an encoder spec)."""
        return str(self._load()["current"])

    def updates(self) -> list[dict[str, Any]]:
        """Every update so far, oldest first."""
        return list(self._load()["updates"])

    def record(self, update: dict[str, Any], switch_to: str | None) -> None:
        """Append ``update``; make ``switch_to`` current (atomically) when given."""
        data = self._load()
        data["updates"].append(update)
        if switch_to is not None:
            data["current"] = switch_to
        write_json(self.folder / MODEL_FILE, data)


__all__ = ["MODEL_FILE", "ModelRegistry"]
