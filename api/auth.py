"""Who may ask, and who may write.

With no token in the store, anyone who reaches the server may read (it
listens on loopback unless told otherwise), and mutations run only when the
server was started with ``--allow-writes``. Once the store holds a token
(``evalql token add``), every request to /graphql and /metrics needs
``Authorization: Bearer <token>``: a missing or unknown one is HTTP 401
UNAUTHENTICATED with no data. The dashboard (/), static files, /healthz and
GraphiQL's page stay open: the page sends whatever token its user enters.

Mutations check ``IsWriter``: a read token gets FORBIDDEN (HTTP 200, as
any field error). ``can_write(request)`` is the same rule for code that
holds the request rather than a resolver's ``info``.

Tokens are re-read when the catalog changes (checked at most once a second,
in a thread, through the catalog's cache), so ``evalql token add`` and
``revoke`` apply to a running server within a second.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import Headers, QueryParams
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.permission import BasePermission

from evalql.api.refusals import refusal, route_path
from evalql.storage.errors import StoreError
from evalql.storage.tokens import TokenStore, token_hash

log = logging.getLogger("evalql")

PROTECTED = ("/graphql", "/metrics")
RECHECK_SECONDS = 1.0
SCOPE_KEY = "evalql.access"  # where the gate leaves the request's Access in the ASGI scope
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="evalql"'}


@dataclass(frozen=True)
class Access:
    """What one request may do: its token's role (None when the store has no
    token), and whether the server allows writes without one."""

    role: str | None
    allow_writes: bool = False

    @property
    def can_write(self) -> bool:
        if self.role is None:
            return self.allow_writes
        return self.role == "write"


_access: ContextVar[Access | None] = ContextVar("evalql_access", default=None)


def current_access() -> Access | None:
    """The Access of the request being answered in this context (resolvers)."""
    return _access.get()


def can_write(request: HTTPConnection | Scope) -> bool:
    """May this request run a mutation? False for a request the gate has not
    seen: writing is refused unless something said yes."""
    scope = request.scope if isinstance(request, HTTPConnection) else request
    access = scope.get(SCOPE_KEY)
    return isinstance(access, Access) and access.can_write


class IsWriter(BasePermission):
    """For mutations: ``@strawberry.mutation(permission_classes=[IsWriter])``."""

    message = ("writing needs a token with role write (evalql token add NAME --role write), "
               "or, on a server whose store has no token, --allow-writes")
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        access = current_access()
        return access is not None and access.can_write


class TokenCache:
    """The store's token hashes, as of at most a second ago."""

    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens
        self._roles: dict[str, str] | None = None
        self._checked = -math.inf
        self._reload()  # now, so that no request meets a cache not yet filled

    async def roles(self) -> dict[str, str] | None:
        """``{token hash: role}``, empty without tokens; None when the catalog
        could never be read (the gate then refuses rather than opens)."""
        now = time.monotonic()
        if now - self._checked >= RECHECK_SECONDS:
            self._checked = now
            # Microseconds unless the catalog changed; a thread all the same,
            # as a reader may wait while a writer commits.
            await asyncio.to_thread(self._reload)
        return self._roles

    def _reload(self) -> None:
        try:
            self._roles = self._tokens.roles()
        except (StoreError, sqlite3.Error, OSError) as error:
            # Keep the last tokens read (or none: closed); retry next second.
            log.warning("cannot read the tokens of %s: %s", self._tokens.root, error)


def _bearer(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _graphiql_page(scope: Scope, headers: Headers) -> bool:
    """GET /graphql asking for HTML without a query: GraphiQL's page, as
    Strawberry's view decides it (``should_render_graphql_ide``)."""
    if scope["method"] != "GET" or "query" in QueryParams(scope.get("query_string", b"")):
        return False
    accept = headers.get("accept", "")
    return "text/html" in accept or "*/*" in accept


class TokenGate:
    """ASGI middleware: the Access of every request to /graphql and /metrics,
    or HTTP 401 when the store has tokens and the request has none of them."""

    def __init__(self, app: ASGIApp, tokens: TokenCache, allow_writes: bool) -> None:
        self.app = app
        self.tokens = tokens
        self.allow_writes = allow_writes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else None
        if path not in PROTECTED:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        page = path == "/graphql" and _graphiql_page(scope, headers)
        if scope["method"] == "OPTIONS" or page:
            await self.app(scope, receive, send)
            return
        roles = await self.tokens.roles()
        if roles is None:
            message = "the server cannot read its tokens; it refuses until it can"
            await refusal(503, message)(scope, receive, send)
            return
        role = None
        if roles:
            token = _bearer(headers)
            role = None if token is None else roles.get(token_hash(token))
            if role is None:
                await self._refuse(scope, receive, send, presented=token is not None)
                return
        access = Access(role, self.allow_writes)
        scope[SCOPE_KEY] = access
        reset = _access.set(access)
        try:
            await self.app(scope, receive, send)
        finally:
            _access.reset(reset)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, presented: bool) -> None:
        if presented:
            message = "the bearer token is not valid here (mistyped, or revoked)"
        else:
            message = "this server needs a token: send the header Authorization: Bearer <token>"
        await refusal(401, message, headers=_CHALLENGE)(scope, receive, send)
