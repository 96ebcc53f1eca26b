"""Shared fixtures: the optional real benchmark data next to the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data_path() -> Path:
    """``<repo>/../shared/data``; skips the calling test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"benchmark data not found at {SHARED_DATA} (optional; see README)")
    return SHARED_DATA


@pytest.fixture
def shared_data() -> Path:
    """The shared data folder (real public resumes and jobs); skips when absent."""
    return shared_data_path()


@pytest.fixture
def benchmark_dir(shared_data: Path) -> Path:
    """The benchmark v1 directory; skips when absent."""
    path = shared_data / "benchmark" / "v1"
    if not path.is_dir():
        pytest.skip(f"benchmark v1 not found at {path}")
    return path


@pytest.fixture(scope="module")
def encoder():
    """The packaged MiniLM encoder (loaded once per test module)."""
    from agentic_match.retrieval.encoder import BiEncoder

    return BiEncoder.load("all-minilm-l6-v2")


@pytest.fixture(scope="module")
def corpus():
    """The match tests' small corpus, once per test module."""
    from tests._match_fakes import small_corpus

    return small_corpus()


@pytest.fixture(scope="module")
def matcher():
    """A prepared matcher over the small corpus with the scripted LLM (the service tests' backend)."""
    from agentic_match.matching import MatchConfig, Matcher
    from agentic_match.retrieval.encoder import BiEncoder
    from tests._match_fakes import FakeLLM, small_corpus

    return Matcher(BiEncoder.load("all-minilm-l6-v2"), small_corpus(), llm=FakeLLM(), config=MatchConfig()).prepare()


@pytest.fixture
def store(tmp_path, matcher):
    """A fresh feedback store over the matcher's corpus."""
    from agentic_match.feedback.store import FeedbackStore

    return FeedbackStore(tmp_path / "feedback.sqlite", corpus=matcher.corpus)


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a real Postgres server (see tests/_postgres.py); skips when none can run."""
    pytest.importorskip("psycopg", reason="Postgres tests need pip install 'agentic-match[postgres]'")
    pytest.importorskip("langgraph.checkpoint.postgres", reason="langgraph-checkpoint-postgres is not installed")
    from tests._postgres import PostgresUnavailable, postgres_server

    try:
        cm = postgres_server()
        url = cm.__enter__()
    except PostgresUnavailable as e:
        pytest.skip(str(e))
    yield url
    cm.__exit__(None, None, None)


@pytest.fixture
def postgres_db(postgres_server):
    """A fresh, empty database on the test server (one per test)."""
    from tests._postgres import fresh_database

    return fresh_database(postgres_server)


@pytest.fixture(params=["sqlite", "postgres"])
def checkpoint_target(request, tmp_path):
    """Where a graph test keeps its checkpoints: a SQLite file, then a Postgres database."""
    if request.param == "sqlite":
        return tmp_path / "ck.sqlite"
    return request.getfixturevalue("postgres_db")
