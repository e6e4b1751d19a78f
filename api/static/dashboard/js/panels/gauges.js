// The gauges: accuracy, F1, precision, recall (MACRO / MICRO / WEIGHTED) and
// coverage; Hamming score and subset accuracy for multilabel models.

import { gauge } from "../charts.js";
import { count, h, numberEl, pct } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { gauges as gaugesQuery, viewVariables } from "../queries.js";

const AVERAGES = ["MACRO", "MICRO", "WEIGHTED"];

export function createGauges(ctx) {
  const panel = new Panel("gauges", "Summary", { wide: true });
  const picker = h("div", { class: "segmented small", role: "radiogroup", "aria-label": "Average of precision, recall and F1" });
  for (const average of AVERAGES) {
    const id = `avg-${average}`;
    picker.append(
      h(
        "span",
        { class: "segment" },
        h("input", {
          type: "radio",
          name: "average",
          id,
          value: average,
          onchange: () => ctx.store.set({ avg: average }, { push: true }),
        }),
        h("label", { for: id }, average.charAt(0) + average.slice(1).toLowerCase()),
      ),
    );
  }
  panel.controls.append(h("span", { class: "label" }, "Average"), picker);

  return {
    panel,
    tab: "metrics",
    deps: ["model", "run", "split", "t", "labels", "where", "avg"],
    onState(state, changed) {
      if (changed.has("avg")) for (const input of picker.querySelectorAll("input")) input.checked = input.value === state.avg;
    },
    async load(state) {
      const multilabel = ctx.multilabel;
      const variables = { ...viewVariables(state), average: state.avg };
      const data = await panel.fetch(gaugesQuery(multilabel), variables);
      if (data === STALE) return;
      const m = data.model?.run?.split?.metrics;
      if (!m) return panel.empty("This split is gone: reload the page.");
      const avg = { "data-average": state.avg };
      const avgName = state.avg.charAt(0) + state.avg.slice(1).toLowerCase();
      const cards = multilabel
        ? [
            gauge({ metric: "hammingScore", label: "Hamming score", value: m.hammingScore, hint: "1 − Hamming loss: agreement over every (row, label) pair" }),
            gauge({ metric: "subsetAccuracy", label: "Subset accuracy", value: m.subsetAccuracy, hint: "exact matches: the kept labels are exactly the actual labels" }),
          ]
        : [gauge({ metric: "accuracy", label: "Accuracy", value: m.accuracy, hint: "correct / labeled: abstentions count as errors; rows without an actual label are left out" })];
      cards.push(
        gauge({ metric: "f1", label: `F1 · ${avgName}`, value: m.f1, extra: avg }),
        gauge({ metric: "precision", label: `Precision · ${avgName}`, value: m.precision, extra: avg }),
        gauge({ metric: "recall", label: `Recall · ${avgName}`, value: m.recall, extra: avg }),
        gauge({ metric: "coverage", label: "Coverage", value: m.coverage, hint: "predicted / total: rows with a prediction at the threshold" }),
      );
      if (m.total === 0) {
        panel.empty("No rows in this view: the row or class filter leaves none.");
        return;
      }
      panel.body.replaceChildren(
        h("div", { class: "gauges" }, cards),
        h(
          "dl",
          { class: "counts" },
          h("div", {}, h("dt", {}, "Rows"), numberEl("dd", "total", m.total, count(m.total))),
          multilabel
            ? null
            : h(
                "div",
                { title: "rows with an actual label: the rows accuracy judges" },
                h("dt", {}, "Labeled"),
                numberEl("dd", "labeled", m.labeled, count(m.labeled)),
              ),
          h("div", {}, h("dt", {}, "Predicted"), numberEl("dd", "predicted", m.predicted, count(m.predicted))),
          h("div", {}, h("dt", {}, multilabel ? "Exact matches" : "Correct"), numberEl("dd", "correct", m.correct, count(m.correct))),
          h(
            "div",
            { title: multilabel ? "exact matches among the rows with a kept label" : "correct / labeled rows with a prediction: accuracy on the rows the model answered" },
            h("dt", {}, "Selective accuracy"),
            numberEl("dd", "selectiveAccuracy", m.selectiveAccuracy, pct(m.selectiveAccuracy)),
          ),
          multilabel ? h("div", {}, h("dt", {}, "Accuracy"), numberEl("dd", "accuracy", m.accuracy, pct(m.accuracy))) : null,
        ),
      );
      panel.ready({ "data-threshold": String(state.t), "data-average": state.avg });
    },
  };
}
