"""Models, runs, splits and columns through GraphQL."""

from __future__ import annotations

from tests.api.conftest import Query


def test_models_list_their_task_labels_runs_and_splits(gql: Query) -> None:
    body = gql(
        "{ models { name task labels runs { name createdAt splits { name rowCount columns { name type } } } } }"
    )
    [model] = body["data"]["models"]
    assert (model["name"], model["task"], model["labels"]) == ("m", "MULTICLASS", ["A", "B", "C"])
    [run] = model["runs"]
    assert run["name"] == "v1" and run["createdAt"].endswith("+00:00")
    assert run["splits"] == [
        {
            "name": "test",
            "rowCount": 8,
            "columns": [{"name": "channel", "type": "string"}, {"name": "length", "type": "int"}],
        }
    ]


def test_healthz_answers(client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_graphiql_is_served_to_a_browser(client) -> None:
    response = client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200 and "graphiql" in response.text.lower()
