// The rows behind a number, in a dialog: a matrix cell (None included), a
// label's TP / FP / TN / FN or support, abstained or unlabeled rows. Paged
// with the API's cursors; each row with its metadata and text.

import { count, h, labelName, thr } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { rows as rowsQuery, rowsVariables } from "../queries.js";
import { describeFilter } from "./nav.js";

const OUTCOME_TITLES = {
  TP: "True positives",
  FP: "False positives",
  TN: "True negatives",
  FN: "False negatives",
};

const OUTCOMES = {
  ABSTAINED: "Abstained: rows with a label but no prediction at the threshold",
  UNLABELED: "Rows without an actual label",
  CORRECT: "Correct rows",
  INCORRECT: "Rows predicted wrong",
};

const ORDERS = {
  CONFIDENCE_DESC: "most confident first",
  CONFIDENCE_ASC: "least confident first",
  ID: "by id",
};

const q = (label) => `“${label}”`;

export function describeDrill(drill, multilabel) {
  if (drill.k === "label") return `${OUTCOME_TITLES[drill.o] ?? drill.o} of ${q(drill.l)}`;
  if (drill.k === "actual") return `Rows whose actual label is ${q(drill.l)} (its support)`;
  if (drill.k === "outcome") return OUTCOMES[drill.o] ?? drill.o;
  const { a, p } = drill;
  if (multilabel) {
    const left = a === null ? "No actual label" : `Actual ${q(a)}`;
    const right = p === null ? "nothing kept" : `${q(p)} kept`;
    return `${left}, ${right}`;
  }
  if (a === null && p === null) return "No actual label and no prediction";
  if (a === null) return `No actual label, predicted ${q(p)}`;
  if (p === null) return `${q(a)} with no prediction (None)`;
  if (a === p) return `${q(a)} predicted right`;
  return `${q(a)} predicted as ${q(p)}`;
}

function fieldText(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(value)) return value.slice(0, 16).replace("T", " ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function createRows(ctx) {
  const { store } = ctx;
  const dialog = document.getElementById("drill");
  const panel = new Panel("rows", "Rows");
  dialog.setAttribute("aria-labelledby", "rows-title");
  const subtitle = h("p", { class: "drill-sub" });
  const close = h("button", { type: "button", class: "close", "aria-label": "Close the rows", onclick: () => dialog.close() }, "×");
  const order = h("select", {
    id: "rows-order",
    name: "order",
    onchange: () => store.set({ drill: { ...store.state.drill, order: order.value } }),
  });
  for (const [value, text] of Object.entries(ORDERS)) order.append(h("option", { value }, text));
  const size = h("select", { id: "rows-size", name: "size", onchange: () => reload(store.state) });
  for (const n of [25, 50, 100]) size.append(h("option", { value: n }, String(n)));
  panel.controls.append(
    h("div", { class: "field inline" }, h("label", { for: "rows-order" }, "Order"), order),
    h("div", { class: "field inline" }, h("label", { for: "rows-size" }, "Rows a page"), size),
    close,
  );
  panel.el.querySelector(".panel-title").append(subtitle);
  dialog.append(panel.el);
  dialog.addEventListener("close", () => {
    if (store.state.drill) store.set({ drill: null }, { push: true });
  });

  let loaded = null; // the view + drill shown
  let cursors = [null];
  let page = 0;

  function reload(state) {
    cursors = [null];
    page = 0;
    load(state);
  }

  async function load(state) {
    const drill = state.drill;
    const multilabel = ctx.multilabel;
    const variables = { ...rowsVariables(state, drill), first: Number(size.value), after: cursors[page] };
    const data = await panel.fetch(rowsQuery(drill, multilabel), variables);
    if (data === STALE) return;
    const metrics = data.model?.run?.split?.metrics;
    const connection = drill.k === "label" ? metrics?.label?.rows : metrics?.rows;
    if (!connection) return panel.empty(drill.k === "label" ? `"${drill.l}" is not in this view's class filter.` : "No rows.");
    const { totalCount, nodes, pageInfo } = connection;
    const pages = Math.max(1, Math.ceil(totalCount / Number(size.value)));
    const columns = (ctx.split?.columns ?? []).map((c) => c.name);
    const textLike = (name) => name === "text" || name.endsWith("_text") || name === "message";
    columns.sort((x, y) => Number(textLike(x)) - Number(textLike(y)));
    const head = h(
      "tr",
      {},
      h("th", { scope: "col" }, "id"),
      multilabel
        ? [h("th", { scope: "col" }, "actual labels"), h("th", { scope: "col" }, "kept labels (confidence)")]
        : [h("th", { scope: "col" }, "actual"), h("th", { scope: "col" }, "predicted"), h("th", { scope: "col", class: "num" }, "confidence")],
      h("th", { scope: "col" }, multilabel ? "exact" : "right"),
      columns.map((c) => h("th", { scope: "col", class: textLike(c) ? "text" : "" }, c)),
    );
    const body = nodes.map((row) =>
      h(
        "tr",
        {
          "data-row-id": row.id,
          "data-actual": multilabel ? (row.actualLabels ?? []).join("|") : row.actual ?? "",
          "data-predicted": multilabel ? (row.predictedLabels ?? []).join("|") : row.predicted ?? "",
          "data-confidence": row.confidence ?? "",
        },
        h("td", { class: "id" }, row.id),
        multilabel
          ? [
              h("td", {}, (row.actualLabels ?? []).length ? row.actualLabels.map((l) => h("span", { class: "tag" }, l)) : h("span", { class: "none" }, "none")),
              h(
                "td",
                {},
                (row.predictedLabels ?? []).length
                  ? row.predictedLabels.map((l, i) => h("span", { class: "tag" }, `${l} `, h("small", { "data-metric": "confidence", "data-value": String(row.predictedConfidences[i]) }, thr(row.predictedConfidences[i]))))
                  : h("span", { class: "none" }, "none"),
              ),
            ]
          : [
              h("td", { class: row.actual === null ? "none" : "" }, labelName(row.actual)),
              h("td", { class: row.predicted === null ? "none" : "" }, labelName(row.predicted)),
              h("td", { class: "num", "data-value": row.confidence ?? "" }, row.confidence === null ? "—" : row.confidence.toFixed(3)),
            ],
        h("td", { class: row.correct ? "ok" : "bad", "data-value": String(row.correct) }, row.correct ? "✓" : "✗"),
        columns.map((c) => h("td", { class: textLike(c) ? "text" : "" }, fieldText(row.fields?.[c]))),
      ),
    );
    const prev = h(
      "button",
      {
        type: "button",
        class: "prev",
        disabled: page === 0,
        onclick: () => {
          page -= 1;
          load(store.state);
        },
      },
      "← Previous",
    );
    const next = h(
      "button",
      {
        type: "button",
        class: "next",
        disabled: !pageInfo.hasNextPage,
        onclick: () => {
          cursors[page + 1] = pageInfo.endCursor;
          page += 1;
          load(store.state);
        },
      },
      "Next →",
    );
    const summary = h(
      "p",
      { class: "rows-total" },
      h("strong", { "data-metric": "totalCount", "data-value": String(totalCount) }, count(totalCount)),
      totalCount === 1 ? " row" : " rows",
      totalCount ? ` · page ${page + 1} of ${pages}` : "",
    );
    if (!totalCount) {
      panel.empty("No rows here: this count is 0.");
      panel.body.prepend(summary);
      panel.el.dataset.total = "0";
      return;
    }
    panel.body.replaceChildren(
      summary,
      h("div", { class: "table-wrap rows-wrap" }, h("table", { class: "rows" }, h("thead", {}, head), h("tbody", {}, body))),
      h("div", { class: "pager" }, prev, h("span", { class: "page" }, `page ${page + 1} of ${pages}`), next),
    );
    panel.ready({ "data-total": String(totalCount), "data-page": String(page + 1) });
  }

  return {
    update(state, changed) {
      const drill = state.drill;
      if (!drill || !ctx.split) {
        loaded = null;
        panel.cancel();
        if (dialog.open) dialog.close();
        return;
      }
      const view = ["model", "run", "split", "t", "labels", "where"];
      const key = JSON.stringify([drill, view.map((k) => state[k])]);
      panel.setTitle(describeDrill(drill, ctx.multilabel));
      const filters = [
        `${state.model} / ${state.run} / ${state.split}`,
        `threshold ${thr(state.t)}`,
        state.labels.length ? `classes: ${state.labels.join(", ")}` : null,
        ...state.where.map((w) => describeFilter(w, ctx.split.columns)),
      ].filter(Boolean);
      subtitle.textContent = filters.join(" · ");
      order.value = drill.order ?? "CONFIDENCE_DESC";
      if (!dialog.open) {
        dialog.showModal();
        close.focus();
      }
      if (key !== loaded || view.some((k) => changed.has(k))) {
        loaded = key;
        reload(state);
      }
    },
  };
}
