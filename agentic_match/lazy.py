"""Lazy package exports: ``import agentic_match.retrieval`` stays cheap until a name is used.

A package lists ``{name: module}`` and sets ``__getattr__, __all__ = lazy_exports(__name__, table)``;
the module (which may pull in torch) is imported on the first access of one of its names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, table: Mapping[str, str]) -> tuple[Callable[[str], Any], list[str]]:
    """``(__getattr__, __all__)`` of a package whose names ``table`` resolves on first use."""

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__, sorted(table)


__all__ = ["lazy_exports"]
