// Threshold curves: coverage, accuracy, precision and recall against the
// threshold (MACRO over the view's labels), the slider's position and the
// recommended threshold marked; one label's precision, recall and F1 against
// the threshold, and its precision-recall trade-off as the threshold moves.

import { COLORS, legend, lineChart } from "../charts.js";
import { h, numberEl, pct, s, thr } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { curves as curvesQuery, filterVariables } from "../queries.js";

const POINTS = 101;

export function createCurves(ctx) {
  const { store } = ctx;
  const panel = new Panel("curves", "Threshold curves", {
    wide: true,
    description: "Every point equals metrics(threshold: t) of this view. The solid line is the slider, the dashed one the recommended threshold.",
  });
  const labelSelect = h("select", {
    id: "curve-label",
    name: "curve-label",
    onchange: () => store.set({ clabel: labelSelect.value }, { push: true }),
  });
  panel.controls.append(h("div", { class: "field inline" }, h("label", { for: "curve-label" }, "Label"), labelSelect));
  let data = null;
  let shownLabel = "";
  let preview = null;

  function curveLabel(state) {
    return state.clabel || ctx.recommended?.label || state.rlabel || (state.labels[0] ?? ctx.model.labels[0]);
  }

  function readout(points, t, keys) {
    // The slider's steps are the curve's points (t = i / 100); elsewhere, no readout.
    const point = points.find((p) => Math.abs(p.threshold - t) < 1e-6);
    if (!point) return h("p", { class: "hint" }, `The threshold ${thr(t)} lies between the curve's points.`);
    return h(
      "dl",
      { class: "counts compact readout" },
      h("div", {}, h("dt", {}, "At threshold"), numberEl("dd", "threshold", point.threshold, thr(point.threshold))),
      keys.map(([key, name]) => h("div", {}, h("dt", {}, name), numberEl("dd", key, point[key], pct(point[key]), { "data-threshold": String(point.threshold) }))),
    );
  }

  function draw(state) {
    if (!data) return;
    const t = preview ?? state.t;
    const rec = ctx.recommended;
    const markers = [
      { x: t, label: `t = ${thr(t)}`, className: "current" },
      rec && rec.threshold !== null ? { x: rec.threshold, label: "recommended", className: "recommended" } : null,
    ].filter(Boolean);
    const overallKeys = [
      ["coverage", "Coverage"],
      ["accuracy", ctx.multilabel ? "Accuracy (Hamming)" : "Accuracy"],
      ["precision", "Precision · macro"],
      ["recall", "Recall · macro"],
    ];
    const overallSeries = overallKeys.map(([key, name]) => ({
      key,
      name,
      color: COLORS[key],
      dash: key === "coverage" ? "5 4" : null,
      points: data.overall.map((p) => [p.threshold, p[key]]),
    }));
    const figures = [
      h(
        "figure",
        { class: "chart-card side" },
        h("figcaption", {}, "The view, against the threshold"),
        lineChart({ series: overallSeries, markers, xLabel: "confidence threshold", title: "Coverage, accuracy, macro precision and recall against the threshold" }),
        h(
          "div",
          { class: "chart-side" },
          legend(overallSeries),
          readout(data.overall, t, overallKeys),
          h("p", { class: "hint" }, "Precision and recall are MACRO averages over the view's labels; coverage is the share of rows still predicted. Move the slider to read any point."),
        ),
      ),
    ];
    if (data.byLabel) {
      const labelKeys = [
        ["precision", "Precision"],
        ["recall", "Recall"],
        ["f1", "F1"],
      ];
      const labelSeries = labelKeys.map(([key, name]) => ({ key, name, color: COLORS[key], points: data.byLabel.map((p) => [p.threshold, p[key]]) }));
      const pr = data.byLabel.filter((p) => p.recall !== null && p.precision !== null && (p.recall > 0 || p.precision > 0));
      const current = data.byLabel.find((p) => Math.abs(p.threshold - t) < 1e-6);
      const prSeries = [{ key: "pr", name: "precision vs recall", color: COLORS.precision, points: pr.map((p) => [p.recall, p.precision]) }];
      const prChart = lineChart({
        series: prSeries,
        xLabel: "recall",
        yLabel: "precision",
        xFormat: (v) => `${Math.round(v * 100)}%`,
        title: `Precision against recall of ${shownLabel} as the threshold moves`,
        width: 380,
      });
      if (current && current.recall !== null && current.precision !== null) {
        // the slider's point on the trade-off
        const m = { left: 44, right: 14, top: 12, bottom: 38 };
        const x = m.left + current.recall * (380 - m.left - m.right);
        const y = m.top + (1 - current.precision) * (260 - m.top - m.bottom);
        prChart.append(s("circle", { cx: x, cy: y, r: 5, class: "current-dot" }, s("title", {}, `t = ${thr(t)}`)));
      }
      const l = data.label;
      figures.push(
        h(
          "div",
          { class: "chart-row" },
          h(
            "figure",
            { class: "chart-card" },
            h("figcaption", {}, `${shownLabel}, against the threshold`),
            lineChart({ series: labelSeries, markers, xLabel: "confidence threshold", title: `Precision, recall and F1 of ${shownLabel} against the threshold` }),
            legend(labelSeries),
            readout(data.byLabel, t, labelKeys),
          ),
          h(
            "figure",
            { class: "chart-card narrow" },
            h("figcaption", {}, `${shownLabel}: precision against recall`),
            prChart,
            h(
              "dl",
              { class: "counts compact" },
              h("div", { title: "average precision from the label's scores; independent of the threshold" }, h("dt", {}, "AP"), numberEl("dd", "averagePrecision", l?.averagePrecision ?? null, l?.averagePrecision == null ? "—" : l.averagePrecision.toFixed(3))),
              h("div", {}, h("dt", {}, "ROC AUC"), numberEl("dd", "rocAuc", l?.rocAuc ?? null, l?.rocAuc == null ? "—" : l.rocAuc.toFixed(3))),
            ),
            h(
              "p",
              { class: "hint" },
              "Traced by the top-1 confidence threshold (the curve's points). True per-label PR and ROC curves from the score vectors arrive with the Trust issue (LabelMetrics.prCurve and rocCurve).",
            ),
          ),
        ),
      );
    }
    panel.body.replaceChildren(...figures);
  }

  ctx.on("threshold-preview", (t) => {
    if (store.state.tab !== "curves") return;
    preview = t;
    draw(store.state);
  });
  ctx.on("recommended", () => {
    if (store.state.tab === "curves") draw(store.state);
  });

  return {
    panel,
    tab: "curves",
    deps: ["model", "run", "split", "labels", "where", "clabel", "rlabel"],
    onState(state, changed) {
      if (changed.has("t")) {
        preview = null;
        if (state.tab === "curves") draw(state);
      }
      if (changed.has("tab") && state.tab === "curves") draw(state);
    },
    async load(state) {
      shownLabel = curveLabel(state);
      const inView = state.labels.length ? state.labels : ctx.model.labels;
      labelSelect.replaceChildren(...inView.map((l) => h("option", { value: l }, l)));
      labelSelect.value = shownLabel;
      const hasLabel = Boolean(shownLabel);
      const variables = { ...filterVariables(state), points: POINTS, ...(hasLabel ? { label: shownLabel } : {}) };
      const result = await panel.fetch(curvesQuery(hasLabel), variables);
      if (result === STALE) return;
      const m = result.model?.run?.split?.metrics;
      if (!m) return;
      data = m;
      draw(state);
      panel.ready();
    },
  };
}
