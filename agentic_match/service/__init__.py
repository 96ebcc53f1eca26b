"""The HTTP API (FastAPI) over the match path and the feedback store.

``create_app(matcher, store, api_key)`` builds the app; ``agentic-match api`` serves it with
uvicorn on 127.0.0.1 (see :mod:`agentic_match.service.app` for the endpoints).
"""

from agentic_match.service.app import create_app

__all__ = ["create_app"]
