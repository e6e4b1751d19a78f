"""HTTP answers in GraphQL's shape, for requests refused before GraphQL runs
(and the path a route sees, which decides what is refused).

A client reads every refusal the same way, whichever layer made it:
``{"errors": [{"message": ..., "extensions": {"code": ...}}]}`` and no
``data``, with the HTTP status saying what kind of refusal it is.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse
from starlette.types import Scope

# The code a client acts on, by HTTP status.
CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    503: "SERVICE_UNAVAILABLE",
}


def refusal(
    status: int, message: str, code: str | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """``refusal(413, "too big")`` -> HTTP 413 with one error coded PAYLOAD_TOO_LARGE."""
    error = {"message": message, "extensions": {"code": code or CODES.get(status, "BAD_REQUEST")}}
    return JSONResponse({"errors": [error]}, status_code=status, headers=headers)


def route_path(scope: Scope) -> str:
    """The path as routes see it, without the app's root path:
    ``/evalql/graphql`` under root path ``/evalql`` -> ``/graphql``."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path
