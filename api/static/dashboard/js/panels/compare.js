// Compare: this run (the candidate) against a baseline run on the same split,
// threshold, class filter and row filter. Fixed and regressed counts with the
// API's McNemar p-value, the regressed (or fixed) rows, both runs' metrics
// side by side and the API's per-label deltas. The summary's differences are
// computed in the page from two API numbers, and say so.

import { count, delta, h, labelName, numberEl, pct, thr } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { COMPARE, COMPARE_PAGE, filterVariables } from "../queries.js";

const PAGE = 20;

export function createCompare(ctx) {
  const { store } = ctx;
  const panel = new Panel("compare", "Compare runs", {
    wide: true,
    description: "Rows are joined on id. The threshold, class filter and row filter apply to both runs.",
  });
  const baseSelect = h("select", { id: "compare-base", name: "baseline", onchange: () => store.set({ base: baseSelect.value }, { push: true }) });
  panel.controls.append(h("div", { class: "field inline" }, h("label", { for: "compare-base" }, "Baseline run"), baseSelect));

  let rowsState = null; // paging of the listed rows

  function refs(state, base) {
    const { labels, where } = filterVariables(state);
    return {
      baseline: { model: state.model, run: base, split: state.split },
      candidate: { model: state.model, run: state.run, split: state.split },
      labels,
      where,
    };
  }

  // A row's labels as the task has them: one label, or a set (exact match).
  const shown = (row, one, set) => (ctx.multilabel ? (row?.[set] ?? []).join(", ") || "∅" : labelName(row?.[one] ?? null));

  function rowsTable(connection, change) {
    const columns = (ctx.split?.columns ?? []).map((c) => c.name);
    const text = columns.find((c) => /text|message/i.test(c) && !/length/i.test(c));
    const others = columns.filter((c) => c !== text && !/created|time|date/i.test(c));
    return h(
      "table",
      { class: "rows compare-rows" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col" }, "id"),
          h("th", { scope: "col" }, "actual"),
          h("th", { scope: "col" }, "baseline predicted"),
          h("th", { scope: "col" }, "candidate predicted"),
          others.map((c) => h("th", { scope: "col" }, c)),
          text ? h("th", { scope: "col", class: "text" }, text) : null,
        ),
      ),
      h(
        "tbody",
        {},
        connection.nodes.map((row) =>
          h(
            "tr",
            { "data-row-id": row.id, "data-change": change },
            h("td", { class: "id" }, row.id),
            h("td", { class: !ctx.multilabel && row.actual === null ? "none" : "" }, shown(row, "actual", "actualLabels")),
            h(
              "td",
              { class: change === "REGRESSED" ? "ok" : "bad" },
              shown(row.baseline, "predicted", "predictedLabels"),
              row.baseline?.confidence != null ? h("small", { "data-metric": "confidence", "data-value": String(row.baseline.confidence) }, ` ${thr(row.baseline.confidence)}`) : null,
            ),
            h("td", { class: change === "REGRESSED" ? "bad" : "ok" }, shown(row, "predicted", "predictedLabels"), row.confidence != null ? h("small", { "data-metric": "confidence", "data-value": String(row.confidence) }, ` ${thr(row.confidence)}`) : null),
            others.map((c) => h("td", {}, String(row.fields?.[c] ?? "—"))),
            text ? h("td", { class: "text" }, String(row.fields?.[text] ?? "—")) : null,
          ),
        ),
      ),
    );
  }

  async function loadPage(holder, state, base, change, after, pageNo) {
    const variables = { ...refs(state, base), threshold: state.t, change, first: PAGE, after };
    const data = await panel.fetch(COMPARE_PAGE, variables);
    if (data === STALE) return;
    renderRows(holder, data.compare.rows, state, base, change, pageNo);
  }

  function renderRows(holder, connection, state, base, change, pageNo) {
    rowsState.cursors[pageNo + 1] = connection.pageInfo.endCursor;
    const pages = Math.max(1, Math.ceil(connection.totalCount / PAGE));
    holder.replaceChildren(
      connection.totalCount
        ? h("div", { class: "table-wrap rows-wrap" }, rowsTable(connection, change))
        : h("p", { class: "empty" }, change === "REGRESSED" ? "No regressed rows: nothing the baseline got right is wrong now." : "No fixed rows."),
      connection.totalCount
        ? h(
            "div",
            { class: "pager" },
            h("button", { type: "button", class: "prev", disabled: pageNo === 0, onclick: () => loadPage(holder, state, base, change, rowsState.cursors[pageNo - 1], pageNo - 1) }, "← Previous"),
            h("span", { class: "page" }, `page ${pageNo + 1} of ${pages}`),
            h("button", { type: "button", class: "next", disabled: !connection.pageInfo.hasNextPage, onclick: () => loadPage(holder, state, base, change, connection.pageInfo.endCursor, pageNo + 1) }, "Next →"),
          )
        : null,
    );
    panel.ready({ "data-threshold": String(state.t), "data-baseline": base });
  }

  return {
    panel,
    tab: "compare",
    deps: ["model", "run", "split", "t", "labels", "where", "base", "chg", "avg"],
    async load(state) {
      const others = ctx.model.runs.filter((r) => r.name !== state.run && r.splits.some((sp) => sp.name === state.split));
      baseSelect.replaceChildren(...others.map((r) => h("option", { value: r.name }, r.name)));
      if (!others.length) {
        panel.empty(`No other run of ${state.model} has a “${state.split}” split to compare with. Ingest another run to compare.`);
        return;
      }
      const runIndex = ctx.model.runs.findIndex((r) => r.name === state.run);
      // Default baseline: the run before this one, else the first other.
      const before = ctx.model.runs.slice(0, runIndex).reverse().find((r) => others.includes(r));
      const base = state.base && others.some((r) => r.name === state.base) ? state.base : (before ?? others[0]).name;
      baseSelect.value = base;
      const change = state.chg === "FIXED" ? "FIXED" : "REGRESSED";
      const variables = { ...refs(state, base), threshold: state.t, average: state.avg, change, first: PAGE };
      const data = await panel.fetch(COMPARE, variables);
      if (data === STALE) return;
      const c = data.compare;
      const avgName = state.avg.toLowerCase();
      const summaryKeys = [
        ["accuracy", ctx.multilabel ? "Hamming score" : "Accuracy"],
        ["f1", `F1 · ${avgName}`],
        ["precision", `Precision · ${avgName}`],
        ["recall", `Recall · ${avgName}`],
        ["coverage", "Coverage"],
      ];
      const diffCell = (b, a) => {
        const d = a === null || b === null ? null : a - b;
        return h("td", { class: `num delta ${d > 0 ? "up" : d < 0 ? "down" : ""}`, "data-derived": "client", "data-value": d === null ? "" : String(d) }, delta(d));
      };
      const summary = h(
        "table",
        { class: "compare-summary" },
        h("caption", {}, `${base} (baseline) → ${state.run} (candidate) on ${state.split}, threshold ${thr(state.t)}`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "metric"), h("th", { scope: "col", class: "num" }, base), h("th", { scope: "col", class: "num" }, state.run), h("th", { scope: "col", class: "num", title: "candidate − baseline, computed in the page" }, "difference*"))),
        h(
          "tbody",
          {},
          summaryKeys.map(([key, name]) =>
            h(
              "tr",
              {},
              h("th", { scope: "row" }, name),
              numberEl("td", key, c.baseline[key], pct(c.baseline[key]), { class: "num", "data-run": "baseline" }),
              numberEl("td", key, c.candidate[key], pct(c.candidate[key]), { class: "num", "data-run": "candidate" }),
              diffCell(c.baseline[key], c.candidate[key]),
            ),
          ),
        ),
      );
      const changeButton = (value, n, title) =>
        h(
          "button",
          {
            type: "button",
            class: `change-card ${value.toLowerCase()}${change === value ? " active" : ""}`,
            "aria-pressed": String(change === value),
            onclick: () => store.set({ chg: value }, { push: true }),
          },
          numberEl("span", value.toLowerCase(), n, count(n), { class: "big" }),
          h("span", {}, title),
        );
      // McNemar's exact test on the fixed and regressed rows, as the API computes it.
      const p = c.mcnemarPValue;
      const significance = h(
        "p",
        { class: "significance" },
        numberEl("strong", "mcnemarPValue", p, p < 0.001 ? "p < 0.001" : `p = ${p.toFixed(3)}`),
        p < 0.05
          ? " · a split of fixed and regressed rows this lopsided is unlikely to be chance (McNemar)"
          : " · the difference could well be chance (McNemar)",
      );
      const apiDelta = (metric, v, label) =>
        numberEl("td", metric, v, delta(v), { class: `num delta ${v > 0 ? "up" : v < 0 ? "down" : ""}`, "data-label": label });
      const baseLabels = new Map(c.baseline.perLabel.map((l) => [l.label, l]));
      const candLabels = new Map(c.candidate.perLabel.map((l) => [l.label, l]));
      const none = { precision: null, recall: null, f1: null, support: null };
      const perLabel = h(
        "table",
        { class: "per-label compare-labels" },
        h("caption", {}, "Per label: both runs, and the API's deltas (candidate − baseline), largest F1 change first"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            h("th", { scope: "col" }, "label"),
            ["precision", "recall", "f1"].map((k) => [
              h("th", { scope: "col", class: "num" }, `${k === "f1" ? "F1" : k} ${base}`),
              h("th", { scope: "col", class: "num" }, `${k === "f1" ? "F1" : k} ${state.run}`),
            ]),
            h("th", { scope: "col", class: "num" }, "Δ precision"),
            h("th", { scope: "col", class: "num" }, "Δ recall"),
            h("th", { scope: "col", class: "num" }, "Δ F1"),
            h("th", { scope: "col", class: "num" }, "support"),
          ),
        ),
        h(
          "tbody",
          {},
          c.perLabel.map((d) => {
            const b = baseLabels.get(d.label) ?? none;
            const cand = candLabels.get(d.label) ?? none;
            return h(
              "tr",
              { "data-label": d.label },
              h("th", { scope: "row" }, d.label),
              ["precision", "recall", "f1"].map((k) => [
                numberEl("td", k, b[k], pct(b[k]), { class: "num muted", "data-label": d.label, "data-run": "baseline" }),
                numberEl("td", k, cand[k], pct(cand[k]), { class: "num", "data-label": d.label, "data-run": "candidate" }),
              ]),
              apiDelta("deltaPrecision", d.deltaPrecision, d.label),
              apiDelta("deltaRecall", d.deltaRecall, d.label),
              apiDelta("deltaF1", d.deltaF1, d.label),
              numberEl("td", "support", cand.support, count(cand.support), { class: "num", "data-label": d.label }),
            );
          }),
        ),
      );
      const holder = h("div", { class: "compare-rows-holder" });
      rowsState = { cursors: [null] };
      panel.body.replaceChildren(
        h(
          "div",
          { class: "compare-top" },
          h("div", { class: "change-cards" }, changeButton("FIXED", c.fixed, "fixed: wrong in the baseline, right now"), changeButton("REGRESSED", c.regressed, "regressed: right in the baseline, wrong now"), significance),
          summary,
        ),
        h("h3", {}, change === "REGRESSED" ? "Regressed rows" : "Fixed rows", h("span", { class: "muted" }, ` · the candidate's prediction beside the baseline's`)),
        holder,
        h("h3", {}, "Per label"),
        h("div", { class: "table-wrap" }, perLabel),
        h(
          "p",
          { class: "hint" },
          ctx.multilabel
            ? "* Differences are computed in this page from the two runs' numbers; the per-label deltas are the API's. A row is right when its kept label set equals its actual set (exact match)."
            : "* Differences are computed in this page from the two runs' numbers; the per-label deltas are the API's.",
        ),
      );
      renderRows(holder, c.rows, state, base, change, 0);
    },
  };
}
