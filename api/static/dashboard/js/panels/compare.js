// Compare: this run (the candidate) against a baseline run on the same split
// and threshold. Fixed and regressed counts, the regressed (or fixed) rows,
// and both runs' metrics side by side as the API gives them. Differences
// shown here are computed in the page from two API numbers, and say so.
// Significance (McNemar) and the API's per-label deltas arrive with the
// Trust issue.

import { count, delta, h, labelName, numberEl, pct, thr } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { COMPARE, COMPARE_PAGE } from "../queries.js";

const PAGE = 20;

export function createCompare(ctx) {
  const { store } = ctx;
  const panel = new Panel("compare", "Compare runs", {
    wide: true,
    description: "Rows are joined on id. The API's compare takes the threshold but not the class or row filter, so this panel covers the whole split.",
  });
  const baseSelect = h("select", { id: "compare-base", name: "baseline", onchange: () => store.set({ base: baseSelect.value }, { push: true }) });
  panel.controls.append(h("div", { class: "field inline" }, h("label", { for: "compare-base" }, "Baseline run"), baseSelect));

  let rowsState = null; // paging of the listed rows

  function refs(state, base) {
    return {
      baseline: { model: state.model, run: base, split: state.split },
      candidate: { model: state.model, run: state.run, split: state.split },
    };
  }

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
            h("td", { class: row.actual === null ? "none" : "" }, labelName(row.actual)),
            h(
              "td",
              { class: change === "REGRESSED" ? "ok" : "bad" },
              labelName(row.baseline?.predicted ?? null),
              row.baseline?.confidence != null ? h("small", { "data-metric": "confidence", "data-value": String(row.baseline.confidence) }, ` ${thr(row.baseline.confidence)}`) : null,
            ),
            h("td", { class: change === "REGRESSED" ? "bad" : "ok" }, labelName(row.predicted), row.confidence != null ? h("small", { "data-metric": "confidence", "data-value": String(row.confidence) }, ` ${thr(row.confidence)}`) : null),
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
    deps: ["model", "run", "split", "t", "base", "chg", "avg"],
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
        ["accuracy", "Accuracy"],
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
      const baseLabels = new Map(c.baseline.perLabel.map((l) => [l.label, l]));
      const perLabel = h(
        "table",
        { class: "per-label compare-labels" },
        h("caption", {}, "Per label, both runs as the API gives them"),
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
            h("th", { scope: "col", class: "num", title: "candidate − baseline F1, computed in the page" }, "F1 difference*"),
            h("th", { scope: "col", class: "num" }, "support"),
          ),
        ),
        h(
          "tbody",
          {},
          c.candidate.perLabel.map((cand) => {
            const b = baseLabels.get(cand.label) ?? { precision: null, recall: null, f1: null, support: null };
            return h(
              "tr",
              { "data-label": cand.label },
              h("th", { scope: "row" }, cand.label),
              ["precision", "recall", "f1"].map((k) => [
                numberEl("td", k, b[k], pct(b[k]), { class: "num muted", "data-label": cand.label, "data-run": "baseline" }),
                numberEl("td", k, cand[k], pct(cand[k]), { class: "num", "data-label": cand.label, "data-run": "candidate" }),
              ]),
              diffCell(b.f1, cand.f1),
              numberEl("td", "support", cand.support, count(cand.support), { class: "num", "data-label": cand.label }),
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
          h("div", { class: "change-cards" }, changeButton("FIXED", c.fixed, "fixed: wrong in the baseline, right now"), changeButton("REGRESSED", c.regressed, "regressed: right in the baseline, wrong now")),
          summary,
        ),
        h("h3", {}, change === "REGRESSED" ? "Regressed rows" : "Fixed rows", h("span", { class: "muted" }, ` · the candidate's prediction beside the baseline's`)),
        holder,
        h("h3", {}, "Per label"),
        h("div", { class: "table-wrap" }, perLabel),
        h(
          "p",
          { class: "hint" },
          "* Differences are computed in this page from the two runs' numbers. Whether a difference is significant (McNemar's test on the fixed and regressed rows) and per-label deltas from the API arrive with the Trust issue.",
        ),
      );
      renderRows(holder, c.rows, state, base, change, 0);
    },
  };
}
