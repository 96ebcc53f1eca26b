"""A real Postgres server for the tests: found, or started on 127.0.0.1 from Debian's packages.

``AGENTIC_MATCH_TEST_POSTGRES_URL`` names a server to use instead (a database per test is
created on it). Otherwise a throw-away cluster is initialised in a temp folder with the
installed ``initdb`` / ``pg_ctl`` (``apt-get install postgresql``), listening on loopback only,
run as the ``postgres`` user when the tests run as root (Postgres refuses root), and stopped
at the end of the session. Without either, the tests that need it skip, saying why.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

URL_ENV = "AGENTIC_MATCH_TEST_POSTGRES_URL"


class PostgresUnavailable(RuntimeError):
    """No server given and none could be started (the reason is the message)."""


def _bin(name: str) -> str:
    on_path = shutil.which(name)
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}")) or ([on_path] if on_path else [])
    if not found:
        raise PostgresUnavailable(f"Postgres is not installed ({name} not found; apt-get install postgresql)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[str]:
    """The URL of a running server (``postgresql://user@127.0.0.1:port/postgres``)."""
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root and runuser is missing: cannot start Postgres as 'postgres'")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    user = "postgres" if as_root else os.environ.get("USER") or "postgres"
    folder = tempfile.mkdtemp(prefix="am-pg-")
    data = os.path.join(folder, "data")
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    port = _free_port()

    def run(cmd: list[str]) -> None:
        done = subprocess.run(prefix + cmd, capture_output=True, text=True, timeout=120)
        if done.returncode:
            why = (done.stderr or done.stdout).strip()[-400:]
            raise PostgresUnavailable(f"{os.path.basename(cmd[0])} failed: {why}")

    try:
        # trust on loopback only: a throw-away test cluster that listens nowhere else.
        run([initdb, "-D", data, "-U", user, "--auth=trust", "-E", "UTF8"])
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        run([pg_ctl, "-D", data, "-o", opts, "-l", os.path.join(folder, "log"), "-w", "start"])
        try:
            yield f"postgresql://{user}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run(prefix + [pg_ctl, "-D", data, "-m", "fast", "-w", "stop"], capture_output=True, timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server; its URL."""
    import psycopg

    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
