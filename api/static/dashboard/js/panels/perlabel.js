// The per-label table: precision, recall, F1, accuracy, support, TP, FP, TN,
// FN, AP and ROC AUC, sortable (buttons in the headers), each count a button
// that opens its rows.

import { count, h, pct, raw } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { PER_LABEL, viewVariables } from "../queries.js";

const COLUMNS = [
  { key: "label", title: "Label", kind: "label" },
  { key: "precision", title: "Precision", kind: "rate" },
  { key: "recall", title: "Recall", kind: "rate" },
  { key: "f1", title: "F1", kind: "rate" },
  { key: "accuracy", title: "Accuracy", kind: "rate", hint: "(TP + TN) / N, one-vs-rest" },
  { key: "support", title: "Support", kind: "count", hint: "TP + FN: rows whose actual label it is", drill: (l) => ({ k: "actual", l }) },
  { key: "tp", title: "TP", kind: "count", drill: (l) => ({ k: "label", l, o: "TP" }) },
  { key: "fp", title: "FP", kind: "count", drill: (l) => ({ k: "label", l, o: "FP" }) },
  { key: "tn", title: "TN", kind: "count", drill: (l) => ({ k: "label", l, o: "TN" }) },
  { key: "fn", title: "FN", kind: "count", drill: (l) => ({ k: "label", l, o: "FN" }) },
  { key: "averagePrecision", title: "AP", kind: "score", hint: "average precision, independent of the threshold" },
  { key: "rocAuc", title: "ROC AUC", kind: "score", hint: "independent of the threshold" },
];

function compare(a, b, key, dir) {
  const x = a[key];
  const y = b[key];
  // undefined (null) values go last whatever the direction
  if (x === null && y === null) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  const order = typeof x === "string" ? x.localeCompare(y) : x - y;
  return dir === "asc" ? order : -order;
}

export function createPerLabel(ctx) {
  const { store } = ctx;
  const panel = new Panel("per-label", "Per label", { wide: true });
  let rows = [];

  function sortBy(key) {
    const { sort, dir } = store.state;
    const next = sort === key ? (dir === "desc" ? "asc" : "desc") : key === "label" ? "asc" : "desc";
    store.set({ sort: key, dir: next }, { push: true });
  }

  function render(state) {
    const sorted = state.sort ? [...rows].sort((a, b) => compare(a, b, state.sort, state.dir)) : rows;
    const head = h(
      "tr",
      {},
      COLUMNS.map((col) => {
        const active = state.sort === col.key;
        const ariaSort = active ? (state.dir === "asc" ? "ascending" : "descending") : "none";
        return h(
          "th",
          { scope: "col", "aria-sort": ariaSort, class: `${col.kind}${active ? " sorted" : ""}`, "data-column": col.key },
          h(
            "button",
            { type: "button", class: "sort", title: col.hint ? `${col.hint}. Sort by ${col.title}.` : `Sort by ${col.title}`, onclick: () => sortBy(col.key) },
            col.title,
            h("span", { class: "arrow", "aria-hidden": "true" }, active ? (state.dir === "asc" ? "▲" : "▼") : "↕"),
          ),
        );
      }),
    );
    const drilled = state.drill && (state.drill.k === "label" || state.drill.k === "actual") ? state.drill.l : null;
    const body = sorted.map((row) =>
      h(
        "tr",
        { "data-label": row.label, class: row.label === drilled ? "selected" : "" },
        COLUMNS.map((col) => {
          const value = row[col.key];
          const attrs = { "data-label": row.label, "data-metric": col.key, "data-value": raw(value), class: col.kind };
          if (col.kind === "label") return h("th", { scope: "row", ...attrs }, row.label);
          if (col.kind === "rate") return h("td", attrs, pct(value));
          if (col.kind === "score") return h("td", attrs, value === null ? "—" : value.toFixed(3));
          return h(
            "td",
            attrs,
            h(
              "button",
              {
                type: "button",
                class: "count-link",
                "aria-label": `${row.label}: ${count(value)} ${col.title} rows. Open them.`,
                onclick: () => ctx.drill(col.drill(row.label)),
              },
              count(value),
            ),
          );
        }),
      ),
    );
    panel.body.replaceChildren(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "per-label" },
          h("caption", { class: "sr-only" }, "Per-label metrics. Sort with the column buttons; each count opens its rows."),
          h("thead", {}, head),
          h("tbody", {}, body),
        ),
      ),
      h("p", { class: "hint" }, "— is undefined (0/0). TP, FP, TN and FN count every row of the view, one label against the rest; AP and ROC AUC rank rows by the label's score and do not move with the threshold."),
    );
  }

  return {
    panel,
    tab: "metrics",
    deps: ["model", "run", "split", "t", "labels", "where"],
    onState(state, changed) {
      if (rows.length && (changed.has("sort") || changed.has("dir") || changed.has("drill"))) render(state);
    },
    async load(state) {
      const data = await panel.fetch(PER_LABEL, viewVariables(state));
      if (data === STALE) return;
      rows = data.model?.run?.split?.metrics?.perLabel ?? [];
      if (!rows.length) return panel.empty("No labels in this view.");
      render(state);
      panel.ready({ "data-threshold": String(state.t) });
    },
  };
}
