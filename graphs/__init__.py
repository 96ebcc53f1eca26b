"""LangGraph workflows of agentic-match (one module per graph).

Graphs are thin orchestration over :mod:`agentic_match` capabilities: typed state, small
nodes, and factories that take their dependencies so tests can inject them.
"""
