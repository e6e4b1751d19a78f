// The confusion matrix as a heat map: the diagonal in blue, errors in orange
// (Okabe & Ito, colour-blind safe), counts and row-normalised percentages,
// the None row and column. Every cell is a button that opens its rows.
// Multilabel models get the co-occurrence matrix (counts only).

import { count, h, labelName, pct } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { MATRIX, viewVariables } from "../queries.js";

const MAX_LABELS = 60; // beyond this a dense heat map is unreadable: narrow it with the class filter

function heat(share) {
  // sqrt so a 5% confusion is visible next to a 90% diagonal
  return Math.round(Math.sqrt(Math.max(0, Math.min(1, share))) * 100);
}

export function createMatrix(ctx) {
  const panel = new Panel("matrix", "Confusion matrix", { wide: true });

  function describe(actual, predicted) {
    const a = actual === null ? "no actual label (None)" : `actual ${actual}`;
    const p = predicted === null ? "no prediction at the threshold (None)" : `predicted ${predicted}`;
    return `${a}, ${p}`;
  }

  return {
    panel,
    tab: "metrics",
    deps: ["model", "run", "split", "t", "labels", "where"],
    onState(state, changed) {
      if (changed.has("drill")) {
        for (const b of panel.body.querySelectorAll("button.cell[aria-pressed=true]")) b.setAttribute("aria-pressed", "false");
        const d = state.drill;
        if (d?.k === "cell") {
          for (const b of panel.body.querySelectorAll("button.cell")) {
            if (b.dataset.actual === (d.a ?? "") && b.dataset.predicted === (d.p ?? "")) b.setAttribute("aria-pressed", "true");
          }
        }
      }
    },
    async load(state) {
      const multilabel = ctx.multilabel;
      panel.setTitle(multilabel ? "Co-occurrence matrix" : "Confusion matrix");
      const k = state.labels.length || ctx.model.labels.length;
      if (k > MAX_LABELS) {
        panel.empty(`This view has ${count(k)} labels: choose at most ${MAX_LABELS} with the class filter to draw the matrix (the per-label table lists them all).`);
        return;
      }
      const data = await panel.fetch(MATRIX, viewVariables(state));
      if (data === STALE) return;
      const cm = data.model?.run?.split?.metrics?.confusionMatrix;
      if (!cm) return;
      const { labels, counts } = cm;
      const rowSums = counts.map((row) => row.reduce((a, b) => a + b, 0));
      if (rowSums.every((n) => n === 0)) {
        panel.empty("No rows in this view.");
        return;
      }
      const head = h(
        "tr",
        {},
        h("th", { class: "corner", scope: "col" }, h("span", {}, "actual ↓"), h("span", {}, "predicted →")),
        labels.map((l) => h("th", { scope: "col", class: l === null ? "none" : "", title: l === null ? "None: no prediction at the threshold" : l }, labelName(l))),
        h("th", { scope: "col", class: "sum", title: "Sum of the row (computed here from the counts)" }, "Σ"),
      );
      const body = labels.map((actual, i) =>
        h(
          "tr",
          {},
          h("th", { scope: "row", class: actual === null ? "none" : "", title: actual === null ? "None: rows without an actual label" : actual }, labelName(actual)),
          labels.map((predicted, j) => {
            const n = counts[i][j];
            const share = rowSums[i] ? n / rowSums[i] : null;
            const kind = actual === null && predicted === null ? "nothing" : i === j ? "diag" : "err";
            const text = `${describe(actual, predicted)}: ${count(n)} rows${share !== null && !multilabel ? `, ${pct(share)} of the row` : ""}`;
            return h(
              "td",
              {},
              h(
                "button",
                {
                  type: "button",
                  class: `cell ${kind}${n === 0 ? " zero" : ""}${heat(share ?? 0) > 62 ? " dark" : ""}`,
                  "data-actual": actual ?? "",
                  "data-predicted": predicted ?? "",
                  "data-count": String(n),
                  "data-row-share": share === null ? "" : String(share),
                  "aria-pressed": "false",
                  "aria-label": `${text}. Open these rows.`,
                  title: text,
                  style: { "--heat": `${heat(share ?? 0)}%` },
                  onclick: () => ctx.drill({ k: "cell", a: actual, p: predicted }),
                },
                h("span", { class: "n" }, count(n)),
                multilabel || share === null || n === 0 ? null : h("span", { class: "share" }, pct(share)),
              ),
            );
          }),
          h("td", { class: "sum", "data-derived": "client", "data-value": String(rowSums[i]) }, count(rowSums[i])),
        ),
      );
      panel.body.replaceChildren(
        h(
          "div",
          { class: "matrix-wrap" },
          h(
            "table",
            { class: `matrix${multilabel ? " multilabel" : ""}`, "aria-describedby": "matrix-legend" },
            h("caption", { class: "sr-only" }, `${multilabel ? "Co-occurrence" : "Confusion"} matrix: rows are actual labels, columns predicted labels, None last. Each cell is a button that opens its rows.`),
            h("thead", {}, head),
            h("tbody", {}, body),
          ),
        ),
        h(
          "div",
          { class: "legend matrix-legend", id: "matrix-legend" },
          h("span", { class: "ramp diag" }),
          multilabel ? "labels predicted right (the diagonal counts TP)" : "right (the diagonal)",
          h("span", { class: "ramp err" }),
          multilabel ? "predicted alongside or instead" : "errors",
          h(
            "span",
            { class: "legend-note" },
            multilabel
              ? "counts[i][j] = rows where i is actual and j is kept; a row adds |actual| × |kept| entries. None row: no actual label; None column: nothing kept. Click a cell for its rows."
              : "None row: rows without an actual label · None column: no prediction at the threshold · % and Σ: share and sum of the row, computed here from the API's counts. Click a cell for its rows.",
          ),
        ),
      );
      this.onState(state, new Set(["drill"]));
      panel.ready({ "data-threshold": String(state.t) });
    },
  };
}
