"""Files and hashes: the one place for atomic writes, private folders and short digests.

Every long step writes through these helpers, so a reader never sees half a file and a
killed process never leaves one behind: data goes to a temp file in the target's folder,
is flushed to disk, then renamed over the target (``os.replace`` is atomic on POSIX).

Personal data (resume texts, recruiter notes, generations) and secrets are written with
``private=True``: the file is ``0600`` and its folder ``0700``. Nothing here changes the
process-wide umask (reading it by flipping it races other threads); the usual mode of a
non-private file is read from ``/proc`` instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from agentic_match.errors import DataError, Problem

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def current_umask() -> int:
    """The process umask, read without changing it (``/proc/self/status``; else ``022``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and parents) if needed and make it ``0700`` (owner only)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)
    return path


@contextmanager
def atomic_open(path: str | Path, mode: str = "wb", *, private: bool = False) -> Iterator[IO[Any]]:
    """Open a temp file beside ``path`` for writing; on a clean exit it replaces ``path``.

    Args:
        path: The target (its folder is created).
        mode: ``"wb"`` or ``"w"`` (text, UTF-8, ``\\n`` line ends).
        private: ``0600`` (personal data, secrets) instead of the mode ``open()`` would give.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": "utf-8", "newline": "\n"}
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes 0600 files: keep that for private data, else give the usual mode.
        os.chmod(tmp, PRIVATE_FILE_MODE if private else 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes, *, private: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder and a rename."""
    with atomic_open(path, "wb", private=private) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path: str | Path, text: str, *, private: bool = False) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"), private=private)


def write_json(path: str | Path, obj: Any, *, private: bool = False) -> Path:
    """Write ``obj`` as indented JSON, atomically."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n"
    return atomic_write_text(path, text, private=private)


def read_json(path: str | Path) -> Any:
    """Read a JSON file; a damaged one is a :class:`DataError` naming the file and line."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(Problem(str(path), getattr(e, "lineno", None), None, f"not valid JSON ({e})")) from None


def atomic_write_lines(path: str | Path, rows: Iterable[Mapping[str, Any]], *, private: bool = False) -> Path:
    """Write JSON Lines (one object per line, strict JSON: no NaN), atomically."""
    with atomic_open(path, "w", private=private) as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False, allow_nan=False))
            f.write("\n")
    return Path(path)


def replace_dir(src: Path, dst: Path) -> None:
    """Move folder ``src`` to ``dst``, replacing ``dst``; readers never see a half folder.

    POSIX cannot rename over a non-empty folder, so the old one is first moved aside; a
    crash between the two renames leaves the old version under ``.<name>.old-*``.
    """
    old = None
    if dst.exists():
        old = dst.parent / f".{dst.name}.old-{uuid.uuid4().hex[:8]}"
        os.replace(dst, old)
    os.replace(src, dst)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def temp_sibling(path: Path, tag: str = "tmp") -> Path:
    """A fresh, unused name beside ``path`` for building it before :func:`replace_dir`."""
    return path.parent / f".{path.name}.{tag}-{uuid.uuid4().hex[:8]}"


def digest(*parts: Any) -> str:
    """A short (16 hex) stable hash of JSON-able parts: run identities, cache keys, fingerprints."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """A short (16 hex) sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()[:16]


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string (seconds)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


__all__ = [
    "PRIVATE_DIR_MODE",
    "PRIVATE_FILE_MODE",
    "atomic_open",
    "atomic_write_bytes",
    "atomic_write_lines",
    "atomic_write_text",
    "current_umask",
    "digest",
    "file_digest",
    "private_dir",
    "read_json",
    "replace_dir",
    "temp_sibling",
    "utc_now",
    "write_json",
]
