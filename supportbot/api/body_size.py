"""Request size limit of the REST API: bodies above API_MAX_BODY_BYTES get 413.

A declared Content-Length over the limit is refused before reading anything; a body
sent without one (chunked) is read up to the limit and refused as soon as it goes past
it. Only requests under /api/ are checked (Reflex's own routes keep their limits).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from supportbot.api.errors import error_response


def too_large(limit: int):  # noqa: ANN201
    return error_response(413, "too_large",
                          f"The request body is larger than {limit} bytes.")


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await error_response(400, "bad_request", "Invalid Content-Length.")(
                    scope, receive, send)
                return
            if length > self.max_bytes:
                await too_large(self.max_bytes)(scope, receive, send)
                return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left: nobody to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await too_large(self.max_bytes)(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body, only a disconnect can come

        await self.app(scope, replay, send)
