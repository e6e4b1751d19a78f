// The recommended threshold: the lowest threshold at which a label keeps a
// precision the user picks (thresholdForPrecision), marked on the slider and
// on the curves. By default the most frequent label at 0.9.

import { count, h, numberEl, pct, thr } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { filterVariables, RECOMMEND } from "../queries.js";

export function createRecommend(ctx) {
  const { store } = ctx;
  const panel = new Panel("recommend", "Recommended threshold");
  const labelSelect = h("select", {
    id: "rec-label",
    name: "rec-label",
    onchange: () => store.set({ rlabel: labelSelect.value }, { push: true }),
  });
  const precisionInput = h("input", {
    id: "rec-precision",
    name: "rec-precision",
    type: "number",
    min: 0.01,
    max: 1,
    step: 0.01,
    onchange: () => {
      const p = Number(precisionInput.value);
      if (Number.isFinite(p) && p > 0 && p <= 1) store.set({ rprec: p }, { push: true });
      else precisionInput.value = String(store.state.rprec);
    },
  });
  const form = h(
    "div",
    { class: "rec-form" },
    h("div", { class: "field" }, h("label", { for: "rec-label" }, "Label"), labelSelect),
    h("div", { class: "field" }, h("label", { for: "rec-precision" }, "Min. precision"), precisionInput),
  );
  panel.el.insertBefore(form, panel.status);

  return {
    panel,
    tab: "metrics",
    always: true, // the marker on the slider shows on every tab
    deps: ["model", "run", "split", "labels", "where", "rlabel", "rprec"],
    onState(state) {
      precisionInput.value = String(state.rprec);
    },
    async load(state) {
      const hasLabel = Boolean(state.rlabel);
      const variables = { ...filterVariables(state), label: state.rlabel, minPrecision: state.rprec, hasLabel };
      const data = await panel.fetch(RECOMMEND, variables);
      if (data === STALE) return;
      const m = data.model?.run?.split?.metrics;
      if (!m) return;
      const counts = m.labelDistribution.filter((d) => d.label !== null);
      labelSelect.replaceChildren(...counts.map((d) => h("option", { value: d.label, "data-metric": "actual", "data-value": String(d.actual) }, `${d.label} (${count(d.actual)})`)));
      if (!hasLabel) {
        // Default: the most frequent label of the view, then ask again with it.
        const top = [...counts].sort((a, b) => b.actual - a.actual)[0];
        if (!top) return panel.empty("No labels in this view.");
        store.set({ rlabel: top.label });
        return;
      }
      labelSelect.value = state.rlabel;
      const choice = m.thresholdForPrecision;
      const rec = { label: state.rlabel, minPrecision: state.rprec, threshold: choice?.threshold ?? null };
      ctx.recommended = rec;
      ctx.emit("recommended", rec);
      if (!choice) {
        panel.empty(`No threshold gives "${state.rlabel}" a precision of ${pct(state.rprec)} or more.`);
        return;
      }
      const use = h(
        "button",
        { type: "button", class: "primary", id: "use-recommended", onclick: () => store.set({ t: choice.threshold }, { push: true }) },
        "Use it",
      );
      panel.body.replaceChildren(
        h(
          "div",
          { class: "rec" },
          h("div", { class: "rec-threshold" }, numberEl("span", "threshold", choice.threshold, thr(choice.threshold), { class: "big" }), use),
          h(
            "dl",
            { class: "counts compact" },
            h("div", {}, h("dt", {}, `Precision of ${state.rlabel}`), numberEl("dd", "precision", choice.precision, pct(choice.precision))),
            h("div", {}, h("dt", {}, `Recall of ${state.rlabel}`), numberEl("dd", "recall", choice.recall, pct(choice.recall))),
            h("div", {}, h("dt", {}, "Coverage of the view"), numberEl("dd", "coverage", choice.coverage, pct(choice.coverage))),
          ),
        ),
        h("p", { class: "hint" }, `The lowest threshold at which “${state.rlabel}” keeps ${pct(state.rprec)} precision: the most predictions at that precision. ▼ marks it on the slider.`),
      );
      panel.ready();
    },
  };
}
