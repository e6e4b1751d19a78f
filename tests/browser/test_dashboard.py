"""The dashboard at / in a real browser: Debian's Chromium, driven by Playwright.

Every number the page shows carries its raw value in data attributes; each
test reads them and compares them with the API's own answer to a query sent
here with urllib. The server is a real `evalql serve` on loopback over a
fresh demo store (conftest.py).

Screenshots go to a temporary folder, or to $EVALQL_SCREENSHOTS when set:
`EVALQL_SCREENSHOTS=docs .venv/bin/python -m pytest tests/browser` refreshes
the README's images (docs/dashboard-*.png).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import graphql

CHROMIUM = Path(os.environ.get("EVALQL_CHROMIUM", "/usr/bin/chromium"))

pytest.importorskip(
    "playwright.sync_api",
    reason="browser tests skipped: Playwright is not installed (pip install -e '.[test]')",
)
if not CHROMIUM.exists():
    pytest.skip(
        f"browser tests skipped: no Chromium at {CHROMIUM} (apt-get install -y chromium)",
        allow_module_level=True,
    )

from playwright.sync_api import Browser, Page, Route, sync_playwright  # noqa: E402

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}

GAUGES = """query($model: String!, $run: String!, $split: String!, $t: Float!, $avg: Average!, $where: [RowFilter!]) {
  model(name: $model) { run(name: $run) { split(name: $split) {
    metrics(threshold: $t, where: $where) {
      total labeled predicted correct coverage accuracy selectiveAccuracy
      precision(average: $avg) recall(average: $avg) f1(average: $avg) hammingScore subsetAccuracy
} } } } }"""

MATRIX = """query($model: String!, $run: String!, $split: String!, $t: Float!) {
  model(name: $model) { run(name: $run) { split(name: $split) {
    metrics(threshold: $t) { confusionMatrix { labels counts } } } } } }"""

CELL_ROWS = """query($run: String!, $t: Float!, $a: String, $p: String) {
  model(name: "support-intent") { run(name: $run) { split(name: "validation") {
    metrics(threshold: $t) { rows(actual: $a, predicted: $p, first: 1000) { totalCount nodes { id } } } } } } }"""


# --- fixtures ---------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("EVALQL_SCREENSHOTS")
    if folder:
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


class Errors(list):
    """JavaScript errors and console errors of a page; a test ends with none."""


@pytest.fixture
def js_errors() -> Errors:
    return Errors()


@pytest.fixture
def page(browser: Browser, server: str, js_errors: Errors) -> Iterator[Page]:
    context = browser.new_context(viewport=VIEWPORT, base_url=server)
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    tab.on("pageerror", lambda error: js_errors.append(f"page error: {error}"))
    tab.on("console", lambda msg: js_errors.append(msg.text) if msg.type == "error" else None)
    yield tab
    context.close()
    assert list(js_errors) == []


# --- helpers ----------------------------------------------------------------


def data(base: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    body = graphql(base, query, variables)
    assert "errors" not in body, body["errors"]
    return body["data"]


def metrics_of(base: str, run: str = "v2", split: str = "validation", t: float = 0.5,
               average: str = "MACRO", model: str = "support-intent",
               where: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    variables = {"model": model, "run": run, "split": split, "t": t, "avg": average, "where": where}
    return data(base, GAUGES, variables)["model"]["run"]["split"]["metrics"]


def value(text: str | None) -> float | None:
    return None if text in (None, "") else float(text)


def gauges(page: Page) -> dict[str, float | None]:
    raw = page.eval_on_selector_all(
        "#gauges [data-metric]", "els => els.map(e => [e.dataset.metric, e.dataset.value])"
    )
    return {name: value(v) for name, v in raw}


def wait_ready(tab: Page, panel: str, **attrs: str) -> None:
    """Wait until a panel shows its data (and its data-* attributes have these values)."""
    extra = "".join(f'[data-{k}="{v}"]' for k, v in attrs.items())
    tab.wait_for_selector(f"#{panel}[data-state=ready]{extra}", state="attached")


def shown_query(page: Page, panel: str) -> tuple[str, dict[str, Any]]:
    """The query a panel shows in its disclosure, with its variables."""
    query = page.locator(f"#{panel} .query-doc").text_content()
    variables = json.loads(page.locator(f"#{panel} .query-vars").text_content() or "{}")
    assert query
    return query, variables


def shot(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"dashboard-{name}.png"))


def dialog_rows(page: Page) -> list[tuple[str, str, str]]:
    return page.eval_on_selector_all(
        "#rows tr[data-row-id]",
        "els => els.map(e => [e.dataset.rowId, e.dataset.actual, e.dataset.predicted])",
    )


def cell(page: Page, actual: str | None, predicted: str | None) -> Any:
    return page.locator(
        f'#matrix button.cell[data-actual="{actual or ""}"][data-predicted="{predicted or ""}"]'
    )


def walk_dialog(page: Page) -> list[tuple[str, str, str]]:
    """Every row of the open rows dialog, page after page."""
    wait_ready(page, "rows")
    seen = dialog_rows(page)
    page_no = 1
    while page.locator("#rows button.next").is_enabled():
        page.locator("#rows button.next").click()
        page_no += 1
        wait_ready(page, "rows", page=str(page_no))
        seen += dialog_rows(page)
    return seen


# --- 1. the gauges ------------------------------------------------------------


def test_the_gauges_equal_the_apis_numbers_for_the_same_view(page: Page, server: str, shots: Path) -> None:
    page.goto("/")
    for panel in ("gauges", "matrix", "per-label", "recommend"):
        wait_ready(page, panel)
    # The default view, in the URL: the newest run's validation split at 0.5.
    assert re.search(r"model=support-intent&run=v2&split=validation", page.url)
    expected = metrics_of(server)
    shown = gauges(page)
    for name in ("accuracy", "f1", "precision", "recall", "coverage", "total", "labeled", "predicted", "correct",
                 "selectiveAccuracy"):
        assert shown[name] == expected[name], name
    # the README's number for this view: 8,424 correct of 9,703 labeled rows
    assert shown["accuracy"] == 0.868185097392559
    assert page.locator('#gauges [data-metric="accuracy"]').text_content() == "86.8%"
    # The query shown beside the gauges is the one sent: run again, the same numbers.
    query, variables = shown_query(page, "gauges")
    again = data(server, query, variables)["model"]["run"]["split"]["metrics"]
    assert {k: shown[k] for k in ("accuracy", "f1", "coverage")} == {k: again[k] for k in ("accuracy", "f1", "coverage")}
    # The recommended threshold: the most frequent label at precision 0.9, as the API finds it.
    choice = data(server, """{ model(name: "support-intent") { run(name: "v2") { split(name: "validation") {
        metrics { thresholdForPrecision(label: "Resolved", minPrecision: 0.9) { threshold recall } } } } } }""")
    choice = choice["model"]["run"]["split"]["metrics"]["thresholdForPrecision"]
    assert value(page.get_attribute('#recommend [data-metric="threshold"]', "data-value")) == choice["threshold"]
    assert value(page.get_attribute('#recommend [data-metric="recall"]', "data-value")) == choice["recall"]
    shot(page, shots, "metrics")

    # MICRO and WEIGHTED averages, picked on the page.
    for average in ("MICRO", "WEIGHTED"):
        page.locator(f'label[for="avg-{average}"]').click()
        wait_ready(page, "gauges", average=average)
        expected = metrics_of(server, average=average)
        shown = gauges(page)
        for name in ("f1", "precision", "recall"):
            assert shown[name] == expected[name], (average, name)
    assert "avg=WEIGHTED" in page.url


# --- 2. the threshold slider ------------------------------------------------


def test_moving_the_slider_requeries_and_shows_the_numbers_at_the_new_threshold(page: Page, server: str) -> None:
    page.goto("/")
    wait_ready(page, "gauges", threshold="0.5")
    wait_ready(page, "matrix", threshold="0.5")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/graphql") else None)

    slider = page.locator("input[type=range][name=threshold]")
    slider.focus()
    for _ in range(20):  # 0.50 → 0.70 with the keyboard, one step at a time
        slider.press("ArrowRight")
    wait_ready(page, "gauges", threshold="0.7")
    wait_ready(page, "matrix", threshold="0.7")
    assert slider.input_value() == "0.7"
    assert "t=0.7" in page.url

    expected = metrics_of(server, t=0.7)
    shown = gauges(page)
    for name in ("accuracy", "f1", "precision", "recall", "coverage", "total", "correct"):
        assert shown[name] == expected[name], name
    assert shown["coverage"] != metrics_of(server, t=0.5)["coverage"]
    # The matrix moved with it: every cell equals the API's count at 0.7.
    matrix = data(server, MATRIX, {"model": "support-intent", "run": "v2", "split": "validation", "t": 0.7})
    matrix = matrix["model"]["run"]["split"]["metrics"]["confusionMatrix"]
    for i, actual in enumerate(matrix["labels"]):
        for j, predicted in enumerate(matrix["labels"]):
            assert cell(page, actual, predicted).get_attribute("data-count") == str(matrix["counts"][i][j])
    # Debounced: twenty key presses, a handful of gauge queries.
    gauge_queries = [body for body in sent if "query Gauges" in body]
    assert 1 <= len(gauge_queries) <= 5, len(gauge_queries)


# --- 3. the confusion matrix's cells -------------------------------------------


def test_a_click_on_a_cell_none_included_opens_exactly_that_cells_rows(page: Page, server: str, shots: Path) -> None:
    page.goto("/?run=v1")
    wait_ready(page, "matrix")

    def expected_ids(actual: str | None, predicted: str | None) -> list[str]:
        rows = data(server, CELL_ROWS, {"run": "v1", "t": 0.5, "a": actual, "p": predicted})
        rows = rows["model"]["run"]["split"]["metrics"]["rows"]
        assert rows["totalCount"] == len(rows["nodes"])
        return [node["id"] for node in rows["nodes"]]

    cells = [
        ("Resolved", "Partially Resolved"),  # an error cell, over several pages
        ("Billing Issue", None),  # A → None: abstained
        (None, "Resolved"),  # None → B: unlabeled rows predicted B
        (None, None),  # neither
    ]
    for actual, predicted in cells:
        target = cell(page, actual, predicted)
        count = int(target.get_attribute("data-count") or "-1")
        if actual is None and predicted is None:
            target.focus()
            page.keyboard.press("Enter")  # cells are buttons: the keyboard opens them too
        else:
            target.click()
        assert page.locator("#drill").is_visible()
        rows = walk_dialog(page)
        assert page.get_attribute("#rows", "data-total") == str(count)
        assert page.get_attribute('#rows [data-metric="totalCount"]', "data-value") == str(count)
        assert len(rows) == count
        assert all(a == (actual or "") and p == (predicted or "") for _, a, p in rows)
        assert [row_id for row_id, _, _ in rows] == expected_ids(actual, predicted)
        if (actual, predicted) == ("Billing Issue", None):
            assert count == 30  # the README's A → None cell at 0.5
            page.locator("#rows button.prev").click()
            wait_ready(page, "rows", page="1")
            shot(page, shots, "rows")
        page.keyboard.press("Escape")
        page.wait_for_selector("#drill", state="hidden")
        page.wait_for_function("!location.search.includes('drill=')")  # closing leaves the URL too

    # A drill-down is in the URL too: reloading it opens the same rows.
    cell(page, "Billing Issue", None).click()
    wait_ready(page, "rows")
    page.reload()
    wait_ready(page, "rows")
    assert page.get_attribute("#rows", "data-total") == "30"


# --- 4. the per-label table ------------------------------------------------------


def test_the_per_label_table_sorts_and_each_count_opens_its_rows(page: Page, server: str) -> None:
    page.goto("/")
    wait_ready(page, "per-label")

    def column(metric: str) -> list[float | None]:
        return [value(v) for v in page.eval_on_selector_all(
            f'#per-label tbody td[data-metric="{metric}"]', "els => els.map(e => e.dataset.value)")]

    labels_in_model_order = page.eval_on_selector_all("#per-label tbody tr", "els => els.map(e => e.dataset.label)")
    page.locator('#per-label th[data-column="f1"] button').click()
    assert page.get_attribute('#per-label th[data-column="f1"]', "aria-sort") == "descending"
    f1 = column("f1")
    assert f1 == sorted(f1, reverse=True) and f1 != column("f1")[::-1]
    assert "sort=f1" in page.url

    page.locator('#per-label th[data-column="f1"] button').press("Enter")  # the keyboard sorts too
    assert page.get_attribute('#per-label th[data-column="f1"]', "aria-sort") == "ascending"
    assert column("f1") == sorted(f1)

    page.locator('#per-label th[data-column="label"] button').click()
    assert page.eval_on_selector_all("#per-label tbody tr", "els => els.map(e => e.dataset.label)") == sorted(labels_in_model_order)

    # The table's numbers are the API's, and each count opens exactly its rows.
    api = data(server, """{ model(name: "support-intent") { run(name: "v2") { split(name: "validation") {
        metrics(threshold: 0.5) { perLabel { label precision recall f1 support tp fp tn fn averagePrecision } } } } } }""")
    for row in api["model"]["run"]["split"]["metrics"]["perLabel"]:
        for metric, expected in row.items():
            if metric == "label":
                continue
            selector = f'#per-label td[data-label="{row["label"]}"][data-metric="{metric}"]'
            assert value(page.get_attribute(selector, "data-value")) == expected, (row["label"], metric)
    fp = page.locator('#per-label td[data-label="Refund Request"][data-metric="fp"]')
    fp.locator("button").click()
    rows = walk_dialog(page)
    assert len(rows) == int(fp.get_attribute("data-value") or "-1")
    assert all(predicted == "Refund Request" and actual != "Refund Request" for _, actual, predicted in rows)
    assert page.locator("#rows-title").text_content() == "False positives of “Refund Request”"


# --- 5. navigation ---------------------------------------------------------------


def test_switching_split_and_run_shows_that_splits_numbers_and_the_url_keeps_them(page: Page, server: str) -> None:
    page.goto("/")
    wait_ready(page, "gauges")
    page.locator('label[for="nav-split-training"]').click()
    page.wait_for_function("document.querySelector('#gauges [data-metric=total]')?.dataset.value === '30000'")
    wait_ready(page, "gauges")
    assert gauges(page)["accuracy"] == metrics_of(server, split="training")["accuracy"]
    assert "split=training" in page.url

    page.select_option("#nav-run", "v1")
    page.wait_for_url(re.compile(r"run=v1"))
    wait_ready(page, "gauges")
    wait_ready(page, "matrix")
    expected = metrics_of(server, run="v1", split="training")
    assert gauges(page)["accuracy"] == expected["accuracy"]
    assert gauges(page)["f1"] == expected["f1"]
    assert page.locator("#nav-split-training").is_checked()  # the split name carried over

    page.reload()  # the URL holds the view
    wait_ready(page, "gauges")
    assert page.locator("#nav-run").input_value() == "v1"
    assert gauges(page)["accuracy"] == expected["accuracy"]
    page.go_back()  # history: back to v2 / training
    page.wait_for_url(re.compile(r"run=v2"))
    page.wait_for_function(
        f"document.querySelector('#gauges [data-metric=accuracy]')?.dataset.value === '{metrics_of(server, split='training')['accuracy']}'"
    )


# --- 6. insights -------------------------------------------------------------------


def test_an_insights_link_opens_the_rows_that_show_it(page: Page, server: str, shots: Path) -> None:
    page.goto("/?run=v1&tab=insights")
    wait_ready(page, "insights")
    api = data(server, """{ model(name: "support-intent") { run(name: "v1") { split(name: "validation") {
        metrics(threshold: 0.5) { insights { kind labels message } } } } } }""")
    insights = api["model"]["run"]["split"]["metrics"]["insights"]
    shown = page.locator("#insights li.insight")
    assert shown.count() == len(insights)
    assert [shown.nth(i).locator(".message").text_content() for i in range(len(insights))] == [i["message"] for i in insights]
    assert page.locator("#badge-insights").text_content() == str(len(insights))
    shot(page, shots, "insights")

    first = insights[0]
    assert first["kind"] == "confusion"
    actual, predicted = first["labels"]
    link = shown.nth(0).locator("a.insight-link")
    assert "drill=" in (link.get_attribute("href") or "")  # a real link: shareable, opens in a new tab
    link.click()
    rows = walk_dialog(page)
    wait_ready(page, "matrix")
    count = cell(page, actual, predicted).get_attribute("data-count")
    assert page.get_attribute("#rows", "data-total") == count
    assert len(rows) == int(count or "-1")
    assert all(a == actual and p == predicted for _, a, p in rows)
    assert page.get_attribute("#tab-metrics", "aria-selected") == "true"
    assert f"({len(rows)})" in first["message"] or str(len(rows)) in first["message"]


def test_insight_links_follow_the_api_s_evidence(page: Page, server: str) -> None:
    # The small demo model shows every kind; each link is built from the
    # insight's own evidence: overfitting opens the other split, a confident
    # mistake the wrong rows, a rare label its rows.
    page.goto("/?model=ticket-priority&run=v1&split=test&tab=insights")
    wait_ready(page, "insights")
    api = data(server, """{ model(name: "ticket-priority") { run(name: "v1") { split(name: "test") {
        metrics { insights { kind } } } } } }""")
    kinds = [i["kind"] for i in api["model"]["run"]["split"]["metrics"]["insights"]]
    shown = page.locator("#insights li.insight")
    assert [shown.nth(i).get_attribute("data-kind") for i in range(shown.count())] == kinds

    def href(kind: str) -> str:
        return page.locator(f'#insights li.insight[data-kind="{kind}"] a.insight-link').first.get_attribute("href") or ""

    assert "split=train" in href("overfitting")
    assert "INCORRECT" in href("high_confidence_errors")
    assert "urgent" in href("low_support")
    page.locator('#insights li.insight[data-kind="high_confidence_errors"] a.insight-link').click()
    rows = walk_dialog(page)
    assert rows and all(a != p for _, a, p in rows)


# --- 7. offline ----------------------------------------------------------------------


def test_the_page_works_with_no_network_beyond_the_server(browser: Browser, server: str, js_errors: Errors) -> None:
    context = browser.new_context(viewport=VIEWPORT, base_url=server)
    blocked: list[str] = []

    def only_loopback(route: Route) -> None:
        if re.match(r"^https?://127\.0\.0\.1[:/]", route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("pageerror", lambda error: js_errors.append(str(error)))
    try:
        page.goto("/")
        for panel in ("gauges", "matrix", "per-label", "recommend", "insights"):
            wait_ready(page, panel)
        assert gauges(page)["accuracy"] == 0.868185097392559
        page.locator("#tab-curves").click()
        wait_ready(page, "curves")
        assert page.locator("#curves svg.chart").count() == 3
    finally:
        context.close()
    assert blocked == [] and failed == []
    assert list(js_errors) == []


# --- the other screens: curves, slices, compare, multilabel -------------------------


def test_the_curves_show_the_apis_curve_with_the_slider_marked(page: Page, server: str, shots: Path) -> None:
    page.goto("/?tab=curves")
    wait_ready(page, "curves")
    query, variables = shown_query(page, "curves")
    curve = data(server, query, variables)["model"]["run"]["split"]["metrics"]
    at = next(p for p in curve["overall"] if p["threshold"] == 0.5)
    for name in ("coverage", "accuracy", "precision", "recall"):
        shown = page.get_attribute(f'#curves .readout [data-metric="{name}"]', "data-value")
        assert value(shown) == at[name], name
    # Each curve point is metrics(threshold: t): the gauges' numbers at 0.5.
    assert at["accuracy"] == metrics_of(server)["accuracy"]
    assert variables["label"] == "Resolved"  # the recommended label, the most frequent
    assert page.locator("#curves .marker.current").count() == 2
    assert page.locator("#curves .marker.recommended").count() == 2
    shot(page, shots, "curves")


def test_slices_show_each_slices_metric_and_highlight_the_worst(page: Page, server: str, shots: Path) -> None:
    page.goto("/?run=v1&tab=slices")
    wait_ready(page, "slices")
    api = data(server, """{ model(name: "support-intent") { run(name: "v1") { split(name: "validation") {
        metrics(threshold: 0.5) { breakdown(column: "channel") { key count metrics { accuracy } } } } } } }""")
    slices = api["model"]["run"]["split"]["metrics"]["breakdown"]
    for sl in slices:
        row = page.locator(f'#slices tr[data-key="{sl["key"]}"]')
        assert value(row.locator('[data-metric="accuracy"]').get_attribute("data-value")) == sl["metrics"]["accuracy"]
        assert row.locator('[data-metric="count"]').get_attribute("data-value") == str(sl["count"])
    worst = min(slices, key=lambda sl: sl["metrics"]["accuracy"])
    assert page.locator("#slices tr.worst").get_attribute("data-key") == worst["key"] == "social"

    # Accuracy over time for a time column: a chart and one bar per bin.
    page.select_option("#slice-column", "created_at")
    wait_ready(page, "slices", column="created_at")
    assert page.locator("#slices svg.chart circle").count() == 13
    assert page.locator("#slices tr.worst").count() == 1
    shot(page, shots, "slices")

    # A slice's Filter button narrows the whole view to it.
    page.select_option("#slice-column", "channel")
    wait_ready(page, "slices", column="channel")
    page.locator('#slices tr[data-key="social"] button').click()
    wait_ready(page, "gauges")
    page.wait_for_function("document.querySelector('#gauges [data-metric=total]')?.dataset.value === '964'")
    where = [{"column": "channel", "in": ["social"]}]
    assert gauges(page)["accuracy"] == metrics_of(server, run="v1", where=where)["accuracy"]
    assert page.locator("#toolbar .chip").text_content().startswith("channel ∈ {social}")


def test_compare_shows_fixed_and_regressed_rows_and_both_runs_numbers(page: Page, server: str, shots: Path) -> None:
    page.goto("/?tab=compare")
    wait_ready(page, "compare")
    api = data(server, """{ compare(baseline: {model: "support-intent", run: "v1", split: "validation"},
        candidate: {model: "support-intent", run: "v2", split: "validation"}, threshold: 0.5) {
        baseline { accuracy } candidate { accuracy } fixed regressed
        rows(change: REGRESSED, first: 20) { nodes { id } } } }""")["compare"]
    assert page.get_attribute('#compare [data-metric="fixed"]', "data-value") == str(api["fixed"]) == "1031"
    assert page.get_attribute('#compare [data-metric="regressed"]', "data-value") == str(api["regressed"]) == "160"
    assert value(page.get_attribute('#compare td[data-metric="accuracy"][data-run="baseline"]', "data-value")) == api["baseline"]["accuracy"]
    assert value(page.get_attribute('#compare td[data-metric="accuracy"][data-run="candidate"]', "data-value")) == api["candidate"]["accuracy"]
    ids = page.eval_on_selector_all("#compare tr[data-row-id]", "els => els.map(e => e.dataset.rowId)")
    assert ids == [node["id"] for node in api["rows"]["nodes"]]
    shot(page, shots, "compare")


def test_compare_takes_the_pages_filters_and_shows_the_apis_significance_and_deltas(page: Page, server: str) -> None:
    where = [{"column": "language", "in": ["fr"]}]
    page.goto("/?tab=compare&label=Billing%20Issue&label=Resolved&where=" + json.dumps(where))
    wait_ready(page, "compare")
    query, variables = shown_query(page, "compare")
    assert variables["labels"] == ["Billing Issue", "Resolved"] and variables["where"] == where
    api = data(server, query, variables)["compare"]
    assert page.get_attribute('#compare [data-metric="fixed"]', "data-value") == str(api["fixed"])
    assert api["fixed"] < 1031  # the filters narrow the comparison
    assert value(page.get_attribute('#compare [data-metric="mcnemarPValue"]', "data-value")) == api["mcnemarPValue"]
    shown = page.eval_on_selector_all("#compare .compare-labels tr[data-label]", "els => els.map(e => e.dataset.label)")
    assert shown == [d["label"] for d in api["perLabel"]]  # the API's order: largest |ΔF1| first
    for d in api["perLabel"]:
        cell = page.get_attribute(f'#compare td[data-metric="deltaF1"][data-label="{d["label"]}"]', "data-value")
        assert value(cell) == d["deltaF1"]


def test_a_multilabel_model_is_compared_by_exact_match(page: Page, server: str) -> None:
    page.goto("/?model=support-tags&tab=compare")
    wait_ready(page, "compare")
    query, variables = shown_query(page, "compare")
    api = data(server, query, variables)["compare"]
    assert page.get_attribute('#compare [data-metric="fixed"]', "data-value") == str(api["fixed"]) == "1039"
    assert page.get_attribute('#compare [data-metric="regressed"]', "data-value") == str(api["regressed"]) == "164"
    ids = page.eval_on_selector_all("#compare tr[data-row-id]", "els => els.map(e => e.dataset.rowId)")
    assert ids == [node["id"] for node in api["rows"]["nodes"]]
    assert page.locator("#compare .compare-labels tr[data-label]").count() == len(api["perLabel"]) == 8


def test_a_multilabel_model_gets_its_own_gauges_and_the_co_occurrence_matrix(page: Page, server: str, shots: Path) -> None:
    page.goto("/?model=support-tags")
    wait_ready(page, "gauges")
    wait_ready(page, "matrix")
    expected = metrics_of(server, model="support-tags")
    shown = gauges(page)
    assert shown["hammingScore"] == expected["hammingScore"]
    assert shown["subsetAccuracy"] == expected["subsetAccuracy"]
    assert shown["f1"] == expected["f1"]
    assert page.locator("#matrix-title").text_content() == "Co-occurrence matrix"
    assert cell(page, "account", "bug").get_attribute("data-count") == "308"  # the README's cell
    shot(page, shots, "multilabel")
    cell(page, "account", "bug").click()
    rows = walk_dialog(page)
    assert len(rows) == 308
    assert all("account" in a.split("|") and "bug" in p.split("|") for _, a, p in rows)


# --- states: errors and tokens ----------------------------------------------------------


def test_an_api_error_shows_its_message_in_the_panel(page: Page, server: str) -> None:
    where = [{"column": "channel", "gt": 3}]
    page.goto("/?where=" + json.dumps(where))
    page.wait_for_selector("#gauges[data-state=error]")
    body = graphql(server, GAUGES, {"model": "support-intent", "run": "v2", "split": "validation",
                                    "t": 0.5, "avg": "MACRO", "where": where})
    message = body["errors"][0]["message"]
    assert message in (page.locator("#gauges .error").text_content() or "")
    assert "BAD_USER_INPUT" in (page.locator("#gauges .error-code").text_content() or "")


def test_a_server_with_tokens_gets_the_token_once_and_it_is_sent_after(page: Page, js_errors: Errors) -> None:
    # evalql's tokens arrive with the reliability issue; the page's side is
    # tested against a /graphql that answers 401 without the right token.
    seen: list[str | None] = []

    def guard(route: Route) -> None:
        auth = route.request.headers.get("authorization")
        seen.append(auth)
        if auth == "Bearer s3cret":
            route.continue_()
        else:
            route.fulfill(status=401, content_type="application/json",
                          body=json.dumps({"data": None, "errors": [{"message": "a bearer token is required",
                                                                     "extensions": {"code": "UNAUTHENTICATED"}}]}))

    page.route("**/graphql", guard)
    page.goto("/")
    dialog = page.locator("#token-dialog")
    dialog.wait_for(state="visible")
    page.fill("#token-input", "s3cret")
    page.locator('#token-dialog button[value="ok"]').click()
    wait_ready(page, "gauges")
    wait_ready(page, "matrix")
    assert gauges(page)["accuracy"] == 0.868185097392559
    assert page.evaluate("sessionStorage.getItem('evalql.token')") == "s3cret"
    assert seen[0] is None and seen[-1] == "Bearer s3cret"
    # Asked once: the panels waiting on the 401 shared one form.
    page.locator("#tab-curves").click()
    wait_ready(page, "curves")
    assert not dialog.is_visible()
    js_errors[:] = [e for e in js_errors if "401" not in e]
