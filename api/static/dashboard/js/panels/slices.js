// Slices: a metric by any metadata column, the worst slice highlighted; a
// time column draws the metric over time. A slice's "Filter" button adds its
// condition to the row filter.

import { COLORS, lineChart } from "../charts.js";
import { count, day, h, numberEl, pct } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { SLICE_METRICS, slices as slicesQuery, viewVariables } from "../queries.js";

const MIN_ROWS = 20; // the worst slice is chosen among slices with at least this many rows
const SHOWN = 40;
const METRIC_NAMES = {
  accuracy: "Accuracy",
  f1: "F1",
  precision: "Precision",
  recall: "Recall",
  coverage: "Coverage",
  selectiveAccuracy: "Selective accuracy",
};

const isTime = (type) => type === "timestamp" || type === "date";
const isNumber = (type) => type === "int" || type === "float";

function defaultColumn(columns) {
  const usable = columns.filter((c) => c.type !== "other");
  const textLike = (c) => /text|message|body|content/i.test(c.name) && !/length|len|count/i.test(c.name);
  return (usable.find((c) => c.type === "string" && !textLike(c)) ?? usable[0])?.name ?? "";
}

function sliceKey(slice, type) {
  if (slice.isNull) return "no value";
  if (isTime(type) && slice.low !== null) return `${day(slice.low)} – ${day(slice.high)}`;
  if (isNumber(type) && slice.low !== null) {
    const f = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(type === "int" ? 0 : 2));
    return `${f(slice.low)} – ${f(slice.high)}`;
  }
  return slice.key;
}

function sliceFilter(column, slice, last) {
  if (slice.isNull) return { column, isNull: true };
  if (slice.low !== null && slice.high !== null) return { column, gte: slice.low, [last ? "lte" : "lt"]: slice.high };
  return { column, in: [slice.key] };
}

export function createSlices(ctx) {
  const { store } = ctx;
  const panel = new Panel("slices", "Slices", {
    wide: true,
    description: "The view cut by a metadata column: each slice is this view with the slice's condition added.",
  });
  const columnSelect = h("select", { id: "slice-column", name: "slice-column", onchange: () => store.set({ col: columnSelect.value }, { push: true }) });
  const metricSelect = h("select", { id: "slice-metric", name: "slice-metric", onchange: () => store.set({ smetric: metricSelect.value }, { push: true }) });
  for (const key of Object.keys(SLICE_METRICS)) metricSelect.append(h("option", { value: key }, METRIC_NAMES[key]));
  const binsInput = h("input", {
    id: "slice-bins",
    name: "slice-bins",
    type: "number",
    min: 2,
    max: 100,
    step: 1,
    onchange: () => {
      const n = Math.round(Number(binsInput.value));
      if (n >= 2 && n <= 100) store.set({ bins: n }, { push: true });
      else binsInput.value = String(store.state.bins);
    },
  });
  const binsField = h("div", { class: "field inline" }, h("label", { for: "slice-bins" }, "Bins"), binsInput);
  panel.controls.append(
    h("div", { class: "field inline" }, h("label", { for: "slice-column" }, "Column"), columnSelect),
    h("div", { class: "field inline" }, h("label", { for: "slice-metric" }, "Metric"), metricSelect),
    binsField,
  );

  return {
    panel,
    tab: "slices",
    deps: ["model", "run", "split", "t", "labels", "where", "col", "bins", "smetric", "avg"],
    async load(state) {
      const columns = (ctx.split?.columns ?? []).filter((c) => c.type !== "other");
      if (!columns.length) return panel.empty("This split has no metadata columns to slice by.");
      const column = state.col || defaultColumn(columns);
      const type = columns.find((c) => c.name === column)?.type ?? "string";
      columnSelect.replaceChildren(...columns.map((c) => h("option", { value: c.name }, `${c.name} (${c.type})`)));
      columnSelect.value = column;
      metricSelect.value = state.smetric in SLICE_METRICS ? state.smetric : "accuracy";
      const metric = metricSelect.value;
      binsInput.value = String(state.bins);
      binsField.hidden = !(isTime(type) || isNumber(type));
      const variables = { ...viewVariables(state), column, bins: state.bins };
      if (SLICE_METRICS[metric].includes("$average")) variables.average = state.avg;
      const data = await panel.fetch(slicesQuery(metric), variables);
      if (data === STALE) return;
      const m = data.model?.run?.split?.metrics;
      if (!m) return;
      const slices = m.breakdown;
      if (!slices.length || m.total === 0) return panel.empty("No rows in this view.");
      const name = METRIC_NAMES[metric] + (SLICE_METRICS[metric].includes("$average") ? ` · ${state.avg.toLowerCase()}` : "");
      const candidates = slices.filter((sl) => sl.metrics[metric] !== null && sl.count >= MIN_ROWS);
      const worst = candidates.length ? candidates.reduce((a, b) => (b.metrics[metric] < a.metrics[metric] ? b : a)) : null;
      const lastBin = slices.filter((sl) => !sl.isNull).at(-1);
      const shown = isTime(type) || isNumber(type) ? slices : slices.slice(0, SHOWN);

      const parts = [
        h(
          "p",
          { class: "overall" },
          `${name} of the whole view: `,
          numberEl("strong", metric, m[metric], pct(m[metric])),
          " over ",
          numberEl("span", "total", m.total, count(m.total)),
          " rows",
          worst
            ? [" · lowest slice: ", h("strong", { class: "worst-name" }, sliceKey(worst, type)), " (", numberEl("span", metric, worst.metrics[metric], pct(worst.metrics[metric]), { "data-key": worst.key }), ")"]
            : "",
        ),
      ];
      if (isTime(type)) {
        const bins = slices.filter((sl) => !sl.isNull && sl.low !== null);
        const values = bins.map((sl) => sl.metrics[metric]).filter((v) => v !== null);
        if (values.length) {
          const lo = Math.max(0, Math.floor((Math.min(...values) - 0.01) * 20) / 20);
          const hi = Math.min(1, Math.ceil((Math.max(...values) + 0.01) * 20) / 20);
          const step = hi - lo > 0.3 ? 0.1 : hi - lo > 0.12 ? 0.05 : 0.025;
          const yTicks = [];
          for (let v = lo; v <= hi + 1e-9; v += step) yTicks.push(Number(v.toFixed(4)));
          const x0 = bins[0].low;
          const x1 = bins.at(-1).high;
          const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => x0 + f * (x1 - x0));
          const series = [{ key: metric, name, color: COLORS[metric] ?? COLORS.accuracy, points: bins.map((sl) => [(sl.low + sl.high) / 2, sl.metrics[metric]]) }];
          parts.push(
            h(
              "figure",
              { class: "chart-card" },
              h("figcaption", {}, `${name} over time, by ${column} (${bins.length} bins)`),
              lineChart({
                series,
                xDomain: [x0, x1],
                yDomain: [lo, hi],
                yTicks,
                xTicks: ticks,
                xFormat: (v) => day(v),
                yFormat: (v) => `${(v * 100).toFixed(1)}%`,
                width: 1000,
                height: 260,
                dots: true,
                highlight: worst ? { series: metric, index: bins.indexOf(worst) } : null,
                title: `${name} over time`,
              }),
            ),
          );
        }
      }
      const rows = shown.map((sl) => {
        const value = sl.metrics[metric];
        const isWorst = sl === worst;
        const filter = sliceFilter(column, sl, sl === lastBin);
        return h(
          "tr",
          { class: isWorst ? "worst" : "", "data-key": sl.key },
          h("th", { scope: "row" }, sliceKey(sl, type), isWorst ? h("span", { class: "flag" }, "lowest") : null),
          h("td", { class: "num", "data-metric": "count", "data-value": String(sl.count) }, count(sl.count)),
          h(
            "td",
            { class: "bar-cell" },
            h("span", { class: "bar", style: { width: `${Math.max(0, (value ?? 0) * 100)}%` }, "aria-hidden": "true" }),
            numberEl("span", metric, value, pct(value), { class: "bar-value", "data-key": sl.key }),
          ),
          h(
            "td",
            {},
            h(
              "button",
              {
                type: "button",
                class: "small",
                "aria-label": `Filter the view to ${column} ${sliceKey(sl, type)}`,
                disabled: sl.count === 0,
                onclick: () => store.set({ where: [...state.where, filter], tab: "metrics", drill: null }, { push: true }),
              },
              "Filter",
            ),
          ),
        );
      });
      parts.push(
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "slices" },
            h("caption", { class: "sr-only" }, `${name} by ${column}`),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, column), h("th", { scope: "col", class: "num" }, "rows"), h("th", { scope: "col" }, name), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "filter")))),
            h("tbody", {}, rows),
          ),
        ),
        slices.length > shown.length ? h("p", { class: "hint" }, `Showing the ${shown.length} largest of ${count(slices.length)} slices.`) : null,
        h("p", { class: "hint" }, `The lowest slice is picked among slices with at least ${MIN_ROWS} rows. “Filter” adds the slice's condition to the row filter.`),
      );
      panel.body.replaceChildren(...parts.filter(Boolean));
      panel.ready({ "data-column": column });
    },
  };
}
