"""Bad input is a GraphQL error with a clear message and extensions.code."""

from __future__ import annotations

from tests.api.conftest import Query

SPLIT = '{ model(name: "m") { run(name: "v1") { split(name: "test") { %s } } } }'


def only_error(body: dict) -> dict:
    assert len(body.get("errors", [])) == 1, body
    return body["errors"][0]


def test_unknown_model_run_and_split_are_null(gql: Query) -> None:
    assert gql('{ model(name: "nope") { name } }')["data"] == {"model": None}
    assert gql('{ model(name: "m") { run(name: "nope") { name } } }')["data"]["model"] == {"run": None}


def test_threshold_outside_zero_one_is_bad_user_input(gql: Query) -> None:
    error = only_error(gql(SPLIT % "metrics(threshold: 1.5) { accuracy }"))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "threshold" in error["message"] and "1.5" in error["message"]


def test_unknown_label_in_class_filter_names_the_valid_ones(gql: Query) -> None:
    error = only_error(gql(SPLIT % 'metrics(labels: ["Z"]) { accuracy }'))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert '"Z"' in error["message"] and '"A"' in error["message"]


def test_unknown_filter_column_is_bad_user_input(gql: Query) -> None:
    error = only_error(gql(SPLIT % 'metrics(where: [{column: "nope", in: ["x"]}]) { accuracy }'))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "nope" in error["message"]


def test_range_filter_on_a_string_column_is_bad_user_input(gql: Query) -> None:
    error = only_error(gql(SPLIT % 'metrics(where: [{column: "channel", gt: 1}]) { accuracy }'))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "channel" in error["message"]


def test_unknown_label_field_is_bad_user_input(gql: Query) -> None:
    error = only_error(gql(SPLIT % 'metrics { label(name: "Z") { tp } }'))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"


def test_an_oversize_query_is_refused_before_it_runs(gql: Query) -> None:
    fields = " ".join(["name"] * 5000)
    body = gql("{ models { %s } }" % fields)
    assert body["errors"] and "token" in body["errors"][0]["message"].lower()
    assert body.get("data") is None


def test_too_many_aliases_are_refused(gql: Query) -> None:
    fields = " ".join(f"a{i}: models {{ name }}" for i in range(40))
    body = gql("{ %s }" % fields)
    assert body["errors"] and "aliases" in body["errors"][0]["message"].lower()


def test_an_unexpected_failure_is_masked(gql: Query, store) -> None:
    # A corrupt data file is a storage error for that split alone, and it must
    # not leak a stack trace; the catalog keeps answering.
    for path in (store / "splits").iterdir():
        path.write_bytes(b"not arrow")
    body = gql(SPLIT % "metrics { accuracy }")
    assert "Traceback" not in str(body)
    assert body["errors"][0]["extensions"]["code"] == "DATA_UNAVAILABLE"
    assert gql("{ models { name } }")["data"] == {"models": [{"name": "m"}]}


def test_a_query_over_the_cost_bound_is_refused_with_cost_limit(gql: Query) -> None:
    views = " ".join(f"m{i}: metrics(threshold: 0.{i}) {{ accuracy }}" for i in range(10))
    body = gql("{ models { runs { splits { %s } } } }" % views)  # 10 x 10 x 10 x 10 views
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT"
    assert "5,000" in body["errors"][0]["message"]
    assert "errors" not in gql(SPLIT % views)  # the same ten views of one split are fine


def test_a_query_deeper_than_the_limit_is_refused(gql: Query) -> None:
    slices = "breakdown(column: \"channel\") { metrics { %s } }"
    nested = "count"
    for _ in range(5):
        nested = slices % nested
    body = gql(SPLIT % ("metrics { %s }" % nested))
    assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT"
    assert "levels deep" in body["errors"][0]["message"]


def test_a_fragment_chain_is_measured_once_per_fragment(gql: Query) -> None:
    # Each fragment spreads the next twice: 2^30 paths if walked naively.
    fragments = [f"fragment F{i} on Model {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30)]
    fragments.append("fragment F30 on Model { name }")
    body = gql("{ models { ...F0 } } " + " ".join(fragments))
    assert "errors" not in body, body
    assert body["data"]["models"] == [{"name": "m"}]


def test_nested_breakdowns_count_every_slice_against_the_cost_bound(gql: Query) -> None:
    query = 'metrics { breakdown(column: "length", bins: 1000) { metrics { breakdown(column: "length", bins: 1000) { count } } } }'
    body = gql(SPLIT % query)
    assert body["errors"][0]["extensions"]["code"] == "COST_LIMIT"


def test_graphiql_introspection_is_not_held_to_the_depth_limit(gql: Query) -> None:
    from graphql import get_introspection_query

    body = gql(get_introspection_query())
    assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_variable_of_the_wrong_type_is_bad_user_input_with_its_message(gql: Query) -> None:
    body = gql("query($t: Float!) { models { runs { splits { metrics(threshold: $t) { total } } } } }", t="high")
    error = only_error(body)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "$t" in error["message"] and "high" in error["message"]


def test_a_bug_is_masked_as_an_internal_error_without_details(gql: Query, monkeypatch) -> None:
    import evalql.api.split_cache

    def broken(*args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(evalql.api.split_cache, "confusion_at", broken)
    error = only_error(gql(SPLIT % "metrics { confusionMatrix { counts } }"))
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(error)


def test_an_unknown_field_name_is_one_error_not_one_per_row(gql: Query) -> None:
    body = gql(SPLIT % 'metrics { rows(first: 5) { nodes { id fields(names: ["nope"]) } } }')
    assert len(body["errors"]) == 1
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert '"nope"' in body["errors"][0]["message"]


def test_cells_first_is_held_to_1_to_1000(gql: Query) -> None:
    error = only_error(gql(SPLIT % "metrics { confusionMatrix { cells(first: 1001) { count } } }"))
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "1000" in error["message"]
