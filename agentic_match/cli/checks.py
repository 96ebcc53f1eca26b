"""Checks a command makes before long work: a failure after an hour of encoding is a bug.

An output that cannot be written, a store that cannot be opened or a port already taken is
reported at once, with the option that names it, before any model is loaded.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from agentic_match.errors import ConfigError


def writable_output(path: Path, option: str, *, folder: bool = False) -> Path:
    """Refuse an output path whose parent cannot be created or written (or that is a folder
    where a file is wanted, or the other way round)."""
    path = Path(path)
    if path.exists() and folder != path.is_dir():
        raise ConfigError(f"{option} {path}: exists and is not a {'folder' if folder else 'file'}")
    parent = path if folder and path.exists() else path.parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"{option} {path}: {probe} is not a writable folder")
    if path.exists() and not folder and not os.access(path, os.W_OK):
        raise ConfigError(f"{option} {path}: the file is not writable")
    return path


def free_port(host: str, port: int, option: str = "--port") -> None:
    """Refuse a port that something already listens on (found now, not after start-up)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            why = "already in use" if e.errno == errno.EADDRINUSE else e.strerror
            raise ConfigError(f"{option} {port}: cannot listen on {host}:{port} ({why})") from None


def usable_store(path: Path, option: str) -> Path:
    """Refuse a SQLite store path that cannot be opened (a folder, an unwritable place, not SQLite)."""
    import sqlite3

    writable_output(path, option)
    try:
        db = sqlite3.connect(path, timeout=5)
        try:
            db.execute("PRAGMA schema_version").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as e:
        raise ConfigError(f"{option} {path}: not a usable SQLite store ({e})") from None
    return path


__all__ = ["free_port", "usable_store", "writable_output"]
