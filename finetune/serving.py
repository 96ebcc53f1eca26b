"""Serving fine-tuned adapters: naming, the active adapter, switching a running server.

vLLM serves LoRA adapters beside the base model (``agentic-match serve --adapter
NAME=PATH``, :class:`agentic_match.llm.ManagedServer`); a request picks one by passing its
name as ``model`` (:func:`agentic_match.augment.generation.bind_model` binds a client to
one; the generating graphs take ``adapter=NAME``).

A pipeline that trains a new adapter *switches* to it with :func:`switch_adapter`: the
registry folder's ``active.json`` records which adapter generation should use (name, path,
fingerprint, metrics, the one before), and a running managed server started with adapters
loads the new one without a restart (vLLM's ``/v1/load_lora_adapter``). Adapter names carry
the adapter's fingerprint (:func:`versioned_name`), so a retrained adapter never answers
under an old name and never hits the old one's cached generations.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any

import httpx

from agentic_match.errors import AdapterError
from agentic_match.files import write_json
from finetune.adapters import adapter_fingerprint, read_meta

ACTIVE_FILE = "active.json"


def versioned_name(prefix: str, adapter: str | Path) -> str:
    """``<prefix>-<first 8 hex of the adapter's fingerprint>``, e.g. ``hyre-3fa2b9c1``."""
    return f"{prefix}-{adapter_fingerprint(adapter)[:8]}"


def active_adapter(registry: str | Path) -> dict[str, Any] | None:
    """The adapter recorded as active in ``registry`` (``None`` when there is none)."""
    path = Path(registry) / ACTIVE_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as e:
        raise AdapterError(f"{path}: invalid JSON ({e})") from None


def served_adapters(info: Any) -> dict[str, str]:
    """``{name: path}`` of the LoRA adapters a running vLLM server lists on ``/v1/models``."""
    resp = httpx.get(f"{info.base_url}/models", headers={"Authorization": f"Bearer {info.api_key}"}, timeout=10)
    resp.raise_for_status()
    return {m["id"]: m.get("root", "") for m in resp.json().get("data", []) if m.get("parent")}


def load_into_server(info: Any, name: str, adapter: str | Path) -> None:
    """Load ``adapter`` under ``name`` into a running vLLM server (no restart).

    Raises:
        AdapterError: the server was started without LoRA support or refused the adapter.
    """
    if name in served_adapters(info):
        return
    resp = httpx.post(
        f"{info.root_url}/v1/load_lora_adapter",
        json={"lora_name": name, "lora_path": str(Path(adapter).resolve())},
        headers={"Authorization": f"Bearer {info.api_key}"},
        timeout=120,
    )
    if resp.status_code == 404:
        raise AdapterError(
            "the running server cannot load adapters at runtime (it was started without adapters); "
            f"restart it with: agentic-match serve --adapter {name}={adapter}"
        )
    if resp.status_code >= 400:
        raise AdapterError(f"the server refused adapter {name!r} ({resp.status_code}): {resp.text[:300]}")


def switch_adapter(
    registry: str | Path,
    name: str,
    adapter: str | Path,
    *,
    metrics: dict[str, Any] | None = None,
    server: Any = None,
) -> dict[str, Any]:
    """Make ``adapter`` (served as ``name``) the one generation uses.

    Loads it into ``server`` (a :class:`~agentic_match.llm.ServerInfo`) first when given, then
    writes ``<registry>/active.json`` atomically; the previous record is kept in it.

    Returns:
        The new record.
    """
    meta = read_meta(adapter)  # refuses a folder that is not a trained adapter
    if server is not None:
        load_into_server(server, name, adapter)
    reg = Path(registry)
    reg.mkdir(parents=True, exist_ok=True)
    previous = active_adapter(reg)
    if previous is not None:
        previous.pop("previous", None)
    record = {
        "name": name,
        "path": str(Path(adapter).resolve()),
        "fingerprint": adapter_fingerprint(adapter),
        "base_model": meta.get("base_model"),
        "base_fingerprint": meta.get("base_fingerprint"),
        "kind": meta.get("kind"),
        "task": meta.get("task"),
        "metrics": metrics or {},
        "loaded_into_server": server is not None,
        "switched_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "previous": previous,
    }
    path = reg / ACTIVE_FILE
    write_json(path, record)
    return record
