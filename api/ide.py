"""GraphiQL served by evalql itself: the page and its vendored assets, no CDN.

Strawberry's own GraphiQL page loads React and GraphiQL from unpkg, so it is
blank offline. This page loads the same libraries from ``static/graphiql/``,
which ships inside the package (versions and licences: README, "Vendored
front-end libraries"). Every URL in the page is local; the browser needs no
network beyond the server.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

# Asset URLs are absolute paths, prefixed with the ASGI root_path when the app
# is mounted under a prefix (uvicorn --root-path behind a reverse proxy).
_ASSETS = "__ASSETS__"

GRAPHIQL_HTML = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>evalql · GraphiQL</title>
    <!-- An empty icon, so the browser does not ask for /favicon.ico. -->
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="__ASSETS__/graphiql.min.css" />
    <style>
      body { margin: 0; height: 100vh; overflow: hidden; }
      #graphiql { height: 100vh; }
    </style>
    <script src="__ASSETS__/react.production.min.js"></script>
    <script src="__ASSETS__/react-dom.production.min.js"></script>
    <script src="__ASSETS__/graphiql.min.js"></script>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script>
      const DEFAULT_QUERY = [
        "# evalql: the evaluation metrics of classification models.",
        "# Run with Ctrl-Enter. When the server has tokens, open Headers below",
        '# and enter {"Authorization": "Bearer <token>"}.',
        "{",
        "  models {",
        "    name",
        "    task",
        "    runs { name splits { name rowCount } }",
        "  }",
        "}",
        "",
      ].join("\\n");

      // Post to the URL this page was served from (/graphql), without its query string.
      const fetcher = GraphiQL.createFetcher({
        url: window.location.href.split("?")[0],
      });

      ReactDOM.createRoot(document.getElementById("graphiql")).render(
        React.createElement(GraphiQL, {
          fetcher: fetcher,
          defaultQuery: DEFAULT_QUERY,
          defaultEditorToolsVisibility: true,
          inputValueDeprecation: true,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
        }),
      );
    </script>
  </body>
</html>
"""


def graphiql_page(request: Request) -> HTMLResponse:
    """The GraphiQL page, its assets under ``{root_path}/static/graphiql``."""
    assets = request.scope.get("root_path", "") + "/static/graphiql"
    return HTMLResponse(GRAPHIQL_HTML.replace(_ASSETS, assets))


def routes() -> list[BaseRoute]:
    """The routes serving the vendored assets: ``/static/graphiql/graphiql.min.js`` and so on."""
    return [Mount("/static", StaticFiles(directory=STATIC_DIR), name="static")]
