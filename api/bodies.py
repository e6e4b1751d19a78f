"""What a request body may be: its size, its encoding and its shape.

``BodyGuard`` bounds the body as it arrives (before anything reads it whole):
a declared ``Content-Length`` over the bound is answered 413 at once, and a
body without one (chunked) is counted as the app receives it. JSON requests
get ``max_body``, multipart uploads ``max_upload``; a multipart request must
also carry a header that a cross-site HTML form cannot send.

``decode_object`` is how the GraphQL view reads JSON: valid UTF-8, one JSON
object, nested at most ``MAX_JSON_DEPTH`` deep; anything else is HTTP 400,
never a 500 and never a traceback.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.types.unset import UNSET

from evalql.api.documents import off_loop
from evalql.api.limits import MAX_JSON_DEPTH
from evalql.api.refusals import refusal

# Headers a browser sends only after a CORS preflight: a multipart POST
# carrying one cannot come from a plain <form> on another site.
PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-requested-with")


class PayloadTooLarge(Exception):
    """Raised from ``receive`` once a body passes its bound; never a ValueError,
    so no parser on the way mistakes it for a malformed body."""


def _size(n: int) -> str:
    """``_size(1048576)`` -> ``"1,048,576 bytes"``."""
    return f"{n:,} bytes"


class BodyGuard:
    """ASGI middleware bounding request bodies by content type."""

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        if multipart and not any(h in headers for h in PREFLIGHT_HEADERS):
            message = ("a multipart request has to carry an Apollo-Require-Preflight or "
                       "X-Requested-With header")
            await refusal(400, message)(scope, receive, send)
            return
        limit = self.max_upload if multipart else self.max_body
        what = "an upload" if multipart else "a request body"
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            await refusal(400, "Content-Length has to be a number")(scope, receive, send)
            return
        if declared is not None and int(declared) > limit:
            await self._too_large(scope, receive, send, what, limit)
            return
        await self._counted(scope, receive, send, what, limit)

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, what: str, limit: int
    ) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except PayloadTooLarge:
            # A response already under way cannot become a 413; none of our
            # routes answers before reading its body, so this does not happen.
            if not started:
                await self._too_large(scope, receive, send, what, limit)

    @staticmethod
    async def _too_large(scope: Scope, receive: Receive, send: Send, what: str, limit: int) -> None:
        message = f"{what} may have at most {_size(limit)}"
        # The rest of the body is not read: the server closes the connection.
        await refusal(413, message)(scope, receive, send)


def _kind(value: object) -> str:
    """The JSON name of a decoded value: ``_kind([])`` -> ``"an array"``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "a number"


def too_deep(value: object, most: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays and objects nest more than ``most`` deep.

    ``too_deep([[1]], most=1)`` -> True. Iterative, so no depth can exhaust
    Python's stack; it visits containers only.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > most:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def decode_object(data: str | bytes) -> dict[str, Any]:
    """One JSON object from a body or a query parameter, or HTTP 400.

    ``decode_object(b'{"query": "{ models { name } }"}')`` -> the dict;
    ``decode_object(b"null")`` -> HTTPException(400, "... not null").
    """
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        # orjson's message names the position (and invalid UTF-8), nothing of ours.
        raise HTTPException(400, f"the body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise HTTPException(
            400, f"a GraphQL request is a JSON object (query, variables, operationName), "
                 f"not {_kind(value)}"
        )
    if too_deep(value):
        raise HTTPException(400, f"the JSON nests deeper than {MAX_JSON_DEPTH} levels")
    return value


# Bodies up to this size are decoded on the event loop (well under a
# millisecond); larger ones in a thread, so a 1 MiB body of tiny arrays
# (~60 ms to decode, more to measure its depth) never holds up /healthz.
OFF_LOOP_BYTES = 16 << 10

# The body decoded in a thread, for the view's own parse_json to pick up.
_decoded: ContextVar[tuple[bytes, dict[str, Any]] | None] = ContextVar(
    "evalql_decoded_body", default=None
)


class ReadsBodies:
    """Mixin for Strawberry's ASGI view: bodies read by ``decode_object`` (big
    ones off the event loop), and every HTTPException it raises (bad JSON, an
    unsupported content type, a GET mutation) answered in GraphQL's shape
    rather than as plain text."""

    def parse_json(self, data: str | bytes) -> Any:
        decoded = _decoded.get()
        if decoded is not None and decoded[0] is data:
            return decoded[1]
        return decode_object(data)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> Any:
        if request.method == "POST" and "json" in (request.content_type or ""):
            body = await request.get_body()  # Starlette keeps it: the view gets this object
            if len(body) > OFF_LOOP_BYTES:
                token = _decoded.set((body, await off_loop(decode_object, body)))
                try:
                    return await super().parse_http_body(request)  # type: ignore[misc]
                finally:
                    _decoded.reset(token)
        return await super().parse_http_body(request)  # type: ignore[misc]

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        # Strawberry follows `map` into `operations` as given: a map that is
        # not an object of lists of "variables.x" paths, or a path into
        # nothing, would raise as a bug (HTTP 500) rather than a bad request.
        try:
            operations = await super().parse_multipart(request)  # type: ignore[misc]
        except StarletteHTTPException as error:  # a malformed multipart body
            raise HTTPException(error.status_code, str(error.detail)) from None
        except MultiPartException as error:
            raise HTTPException(400, f"a malformed multipart body: {error.message}") from None
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            raise HTTPException(
                400, "the multipart request's map has to be a JSON object of lists of "
                     "paths into operations, such as {\"0\": [\"variables.file\"]}"
            ) from None
        if not isinstance(operations, dict):
            raise HTTPException(400, "the multipart request's operations has to be one "
                                     "JSON object (batches are not accepted)")
        return operations

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context, root_value)  # type: ignore[misc]
        except HTTPException as error:
            return refusal(error.status_code, error.reason)
        finally:
            if isinstance(request, Request):
                # Closes the files of a multipart form (and so removes their
                # spooled copies) whether or not a resolver got to them.
                await request.close()
