"""Graph checkpoints on a real Postgres server: chosen by URL, shared, clear errors."""

from __future__ import annotations

import pytest

from agentic_match.config import load_settings
from agentic_match.errors import AgenticMatchError
from graphs.batching import checkpointer_at, is_postgres_url, open_checkpointer


def test_the_setting_picks_postgres_or_the_sqlite_file(tmp_path):
    assert load_settings().checkpoints(tmp_path / "g.sqlite") == tmp_path / "g.sqlite"
    s = load_settings(overrides=["checkpoint_url=postgresql://am@127.0.0.1:5432/runs"])
    assert s.checkpoints(tmp_path / "g.sqlite") == "postgresql://am@127.0.0.1:5432/runs"
    assert is_postgres_url("postgres://x/y") and not is_postgres_url(tmp_path / "postgresql:")


def test_an_unreachable_database_is_a_clear_error():
    pytest.importorskip("psycopg", reason="Postgres checkpoints need pip install 'agentic-match[postgres]'")
    with pytest.raises(AgenticMatchError, match="cannot connect to the checkpoint database"):
        open_checkpointer("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


@pytest.mark.e2e
def test_two_connections_share_one_run(postgres_db):
    """What one worker checkpoints, another (a new connection) reads: the tables are set up once."""
    from langgraph.graph import END, START, StateGraph
    from typing_extensions import TypedDict

    class State(TypedDict):
        n: int

    def build(saver):
        g = StateGraph(State)
        g.add_node("inc", lambda s: {"n": s["n"] + 1})
        g.add_edge(START, "inc")
        g.add_edge("inc", END)
        return g.compile(checkpointer=saver, interrupt_before=["inc"])

    cfg = {"configurable": {"thread_id": "t1"}}
    with checkpointer_at(postgres_db) as saver:
        build(saver).invoke({"n": 1}, cfg)  # pauses before "inc"
    with checkpointer_at(postgres_db) as saver:  # setup() again is harmless
        graph = build(saver)
        assert graph.get_state(cfg).next == ("inc",)
        assert graph.invoke(None, cfg)["n"] == 2
