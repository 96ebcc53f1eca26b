"""Persistent generation cache (SQLite) so a rerun makes no new LLM calls.

The key is a hash of everything that determines an answer: the model, the messages and the
sampling parameters (including any response format). Writes are single SQL statements in WAL
mode, so an interrupted run keeps every answer it already received.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from agentic_match.files import PRIVATE_FILE_MODE, private_dir


def cache_key(model: str, messages: list[dict], params: dict[str, Any]) -> str:
    """Stable key of one request (order of dict keys does not matter)."""
    blob = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class GenerationCache:
    """A thread-safe key -> generated text store in one SQLite file."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        private_dir(self.path.parent)  # generations quote resumes: owner only
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=60)
        os.chmod(self.path, PRIVATE_FILE_MODE)
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS generations ("
                " key TEXT PRIMARY KEY, model TEXT, request TEXT, text TEXT,"
                " usage TEXT, created REAL)"
            )
            self._conn.commit()

    def get(self, key: str) -> tuple[str, dict] | None:
        """The cached ``(text, usage)`` for ``key``, or None."""
        with self._lock:
            row = self._conn.execute("SELECT text, usage FROM generations WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return row[0], json.loads(row[1] or "{}")

    def put(self, key: str, model: str, request: dict, text: str, usage: dict | None = None) -> None:
        """Store an answer (the last write for a key wins)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?, ?, ?)",
                (key, model, json.dumps(request, ensure_ascii=False), text, json.dumps(usage or {}), time.time()),
            )
            self._conn.commit()

    def delete(self, key: str) -> None:
        """Forget one answer (used when a cached answer fails validation)."""
        with self._lock:
            self._conn.execute("DELETE FROM generations WHERE key = ?", (key,))
            self._conn.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM generations").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
