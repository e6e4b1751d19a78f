"""The reference dashboard: the Metrics tab in a browser, served at ``/``.

A front-end built only on the public GraphQL API: plain JavaScript modules,
SVG and CSS in ``static/dashboard/`` (no build step, no CDN, nothing fetched
from outside the server). This module serves its one HTML page; the scripts
and the stylesheet are static files under ``/static/dashboard/``, mounted by
``api.ide.routes()``. Every panel sends one GraphQL query to ``/graphql`` and
shows it in a "query" disclosure, so the page doubles as a catalogue of the
queries a front-end author needs (README, "The dashboard").

The page itself needs no token: when the server has tokens, the scripts ask
for one on the first HTTP 401 and keep it in the tab's ``sessionStorage``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Route

DASHBOARD_DIR = Path(__file__).parent / "static" / "dashboard"

# Replaced by the ASGI root_path (uvicorn --root-path behind a reverse proxy),
# so the page finds its assets and /graphql under a prefix too.
_ROOT = "__ROOT__"


def page(request: Request) -> HTMLResponse:
    """``index.html`` with its URLs prefixed by the app's root path."""
    html = (DASHBOARD_DIR / "index.html").read_text(encoding="utf-8")
    root = escape(request.scope.get("root_path", "").rstrip("/"), quote=True)
    # The page is tiny and names its scripts without a version: revalidate it.
    return HTMLResponse(html.replace(_ROOT, root), headers={"Cache-Control": "no-cache"})


def routes() -> list[BaseRoute]:
    """``/``: the dashboard page (its assets are served from ``/static/dashboard/``)."""
    return [Route("/", page, methods=["GET", "HEAD"])]
