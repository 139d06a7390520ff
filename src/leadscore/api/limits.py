"""Request size limits: 32 KB for a single message (the Segment routes `/v1/identify`, `/v1/track`
…), 500 KB for a batch (the native ingestion routes and `/v1/batch`, whose messages are each held
to 32 KB by `ingestion.segment`), 1 MB for a draft model (the model file's limit).
The body is read — no further than the limit — before the application sees it; beyond it the
answer is 413 in the error shape, and nothing of the request is looked at."""

from __future__ import annotations

import json
from typing import Any

from leadscore.model.limits import MAX_FILE_BYTES

MESSAGE_LIMIT = 32 * 1024
BATCH_LIMIT = 500 * 1024
MODEL_LIMIT = MAX_FILE_BYTES  # a draft model: as large as a model file may be
BATCH_PATHS = frozenset({"/v1/contacts", "/v1/events", "/v1/outcomes", "/v1/batch"})
MODEL_PATHS = frozenset({"/v1/models/dry-run"})


def limit_of(method: str, path: str) -> int:
    if method == "POST" and path.rstrip("/") in MODEL_PATHS:
        return MODEL_LIMIT
    return BATCH_LIMIT if method == "POST" and path.rstrip("/") in BATCH_PATHS else MESSAGE_LIMIT


class BodyLimit:
    """Pure ASGI middleware: buffers the body up to the route's limit, then replays it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_of(scope["method"], scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(send, limit)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > limit:
                await _too_large(send, limit)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        whole = b"".join(chunks)
        sent = False

        async def replay() -> Any:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": whole, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"errors": [{
        "code": "LS601", "severity": "error",
        "message": "the request body is larger than " + (
            f"{limit // 1024} KB" if limit % 1024 == 0 else f"{limit:,} bytes"),
        "place": {}, "text": None,
        "hint": "send at most 32 KB per message, 500 KB per batch and 1 MB per draft model; "
                "split larger batches"}]}
    ).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["BATCH_LIMIT", "MESSAGE_LIMIT", "MODEL_LIMIT", "BodyLimit", "limit_of"]
