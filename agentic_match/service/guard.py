"""The service's front door: the API key and the body size are checked before a body is read.

FastAPI reads and validates a request body before it runs the route's dependencies, so a
key check done as a dependency comes after the whole body sits in memory. This ASGI
middleware runs first: a data request without the right key is answered 401 without
reading its body, and a body larger than ``max_body_bytes`` is answered 413 - from its
``Content-Length`` at once, or while it streams in (chunked uploads) as soon as it passes
the limit.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

MAX_BODY_BYTES = 2_000_000
"""Default body limit: a match query or a feedback event is a few KB; an ad hoc document
of ``MAX_QUERY_CHARS`` characters (UTF-8, JSON-escaped) fits comfortably."""

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _key_of(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    for name, value in headers:
        if name == b"x-api-key":
            return value
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].strip()
    return None


async def _answer(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """ASGI middleware: the key before the body, and a body-size limit.

    Args:
        app: The wrapped ASGI app.
        api_key: The key the ``protected`` paths require.
        max_body_bytes: Larger bodies are refused with 413 (on every path).
        protected: Paths (and their sub-paths) that serve or take data; other paths
            (liveness, the OpenAPI schema, unknown ones: 404) need no key.
    """

    def __init__(
        self,
        app: Any,
        api_key: str,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        protected: Iterable[str] = ("/match", "/feedback"),
    ) -> None:
        self.app = app
        self.expected = api_key.encode("utf-8")
        self.max_body_bytes = max_body_bytes
        self.protected = tuple(protected)

    def _needs_key(self, path: str) -> bool:
        return any(path == p or path.startswith(p + "/") for p in self.protected)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._needs_key(scope["path"]):
            given = _key_of(scope.get("headers", []))
            # compare_digest: the time taken says nothing about how much of a guess was right.
            if not given or not secrets.compare_digest(given, self.expected):
                await _answer(
                    send,
                    401,
                    "missing or wrong API key: send it as 'X-API-Key: KEY' or 'Authorization: Bearer KEY'",
                    [(b"www-authenticate", b"Bearer")],
                )
                return
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            await _answer(send, 413, f"request body over {self.max_body_bytes:,} bytes")
            return
        seen = 0

        async def limited() -> dict[str, Any]:
            # A streamed (chunked) body is cut off as it passes the limit; the app's own
            # exception handling turns this into the 413 answer.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    from starlette.exceptions import HTTPException

                    raise HTTPException(status_code=413, detail=f"request body over {self.max_body_bytes:,} bytes")
            return message

        await self.app(scope, limited, send)


__all__ = ["MAX_BODY_BYTES", "RequestGuard"]
