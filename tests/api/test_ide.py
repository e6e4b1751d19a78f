"""GraphiQL works offline: the page and every asset it needs come from evalql."""

from __future__ import annotations

import re

from starlette.testclient import TestClient


def graphiql_html(client: TestClient) -> str:
    response = client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_graphiql_page_has_no_external_url(client: TestClient) -> None:
    html = graphiql_html(client)
    assert "GraphiQL" in html
    assert "http://" not in html and "https://" not in html
    for cdn in ("unpkg", "cdn", "jsdelivr"):
        assert cdn not in html.lower()


def test_every_asset_the_page_references_is_served_with_its_content_type(
    client: TestClient,
) -> None:
    urls = [url for url in asset_urls(graphiql_html(client)) if not url.startswith("data:")]
    assert sorted(urls) == [
        "/static/graphiql/graphiql.min.css",
        "/static/graphiql/graphiql.min.js",
        "/static/graphiql/react-dom.production.min.js",
        "/static/graphiql/react.production.min.js",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in response.headers["content-type"], url
        assert len(response.content) > 1000, url


def test_graphiql_page_lets_a_user_enter_a_token_in_the_headers_editor(
    client: TestClient,
) -> None:
    html = graphiql_html(client)
    assert "isHeadersEditorEnabled: true" in html
    assert "shouldPersistHeaders: true" in html


def test_vendored_licences_are_served_beside_the_assets(client: TestClient) -> None:
    for name in ("graphiql", "react", "react-dom"):
        response = client.get(f"/static/graphiql/LICENSE-{name}.txt")
        assert response.status_code == 200
        assert "MIT License" in response.text


def test_a_missing_asset_is_404(client: TestClient) -> None:
    assert client.get("/static/graphiql/nothing.js").status_code == 404


def test_root_serves_the_dashboard_and_graphiql_stays_at_graphql(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/dashboard/js/main.js">' in response.text
    assert 'href="/graphql"' in response.text
    assert "graphiql.min.js" in graphiql_html(client)


def test_the_dashboard_page_and_its_assets_are_served_with_no_external_url(
    client: TestClient,
) -> None:
    html = client.get("/").text
    assert "http://" not in html and "https://" not in html
    urls = [url for url in asset_urls(html) if url.startswith("/static/")]
    assert sorted(urls) == ["/static/dashboard/dashboard.css", "/static/dashboard/js/main.js"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        expected = "text/css" if url.endswith(".css") else "javascript"
        assert expected in response.headers["content-type"], url
    # Every module main.js imports, transitively, is served and local.
    seen, todo = set(), ["/static/dashboard/js/main.js"]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        source = client.get(url)
        assert source.status_code == 200, url
        text = source.text.replace('"http://www.w3.org/2000/svg"', "")  # a name, not a URL
        assert "http://" not in text and "https://" not in text, url
        base = url.rsplit("/", 1)[0]
        for spec in re.findall(r'from "(\.{1,2}/[^"]+)"', source.text):
            parts = (base + "/" + spec).split("/")
            path: list[str] = []
            for part in parts:
                if part == "..":
                    path.pop()
                elif part != ".":
                    path.append(part)
            todo.append("/".join(path))
    assert len(seen) > 10


def test_queries_still_post_to_graphql_beside_the_page(client: TestClient) -> None:
    response = client.post("/graphql", json={"query": "{ models { name } }"})
    assert response.json() == {"data": {"models": [{"name": "m"}]}}
