// Insights: the API's plain-language warnings about the view, each a link
// to the view that shows its evidence, from the API's own `evidence`
// arguments (a confusion opens the matrix cell's rows, low recall a label's
// false negatives, overfitting the other split, and so on).

import { h, pct } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { INSIGHTS, viewVariables } from "../queries.js";

const OUTCOME_WORDS = { TP: "true positives", FP: "false positives", TN: "true negatives", FN: "false negatives" };
const ROW_OUTCOMES = {
  ABSTAINED: "Open the abstained rows",
  UNLABELED: "Open the rows without an actual label",
  INCORRECT: "Open the rows predicted wrong",
  CORRECT: "Open the rows predicted right",
};

/** A drill's order, left out when it is the default (so links stay short). */
const ordered = (drill, orderBy) => (orderBy && orderBy !== "CONFIDENCE_DESC" ? { ...drill, order: orderBy } : drill);

/**
 * The view that shows an insight's evidence, as a patch of the URL state: the
 * API's `evidence` arguments passed straight back (its threshold, labels and
 * where are this view's; only the split may differ, for overfitting).
 */
export function evidence(insight) {
  const e = insight.evidence ?? {};
  const rows = e.rows;
  const labelRows = e.labelRows;
  if (insight.kind === "overfitting" && e.split) {
    return { patch: { tab: "metrics", split: e.split, drill: null }, text: `Open the metrics of “${e.split}”` };
  }
  if (labelRows && e.label) {
    const drill = ordered({ k: "label", l: e.label, o: labelRows.outcome }, labelRows.orderBy);
    return { patch: { tab: "metrics", drill }, text: `Open the ${OUTCOME_WORDS[labelRows.outcome] ?? labelRows.outcome} of “${e.label}”` };
  }
  if (rows && "actual" in rows && "predicted" in rows) {
    const [a, p] = [rows.actual, rows.predicted];
    return { patch: { tab: "metrics", drill: { k: "cell", a, p } }, text: `Open the rows of “${a}” predicted as “${p}”` };
  }
  if (rows?.outcome) {
    const drill = ordered({ k: "outcome", o: rows.outcome }, rows.orderBy);
    return { patch: { tab: "metrics", drill }, text: ROW_OUTCOMES[rows.outcome] ?? "Open the rows" };
  }
  if (e.label) {
    return { patch: { tab: "metrics", drill: { k: "actual", l: e.label } }, text: `Open the rows of “${e.label}”` };
  }
  return { patch: { tab: "metrics", drill: null }, text: "Open the metrics" };
}

const SEVERITY = { critical: "Critical", warning: "Warning", info: "Info" };

export function createInsights(ctx) {
  const { store } = ctx;
  const panel = new Panel("insights", "Insights", {
    wide: true,
    description: "What is worth telling about this view, most severe first. Each one links to the rows behind it.",
  });
  const badge = () => document.getElementById("badge-insights");

  return {
    panel,
    tab: "insights",
    always: true, // the tab shows how many there are
    deps: ["model", "run", "split", "t", "labels", "where"],
    async load(state) {
      const data = await panel.fetch(INSIGHTS, viewVariables(state));
      if (data === STALE) return;
      const insights = data.model?.run?.split?.metrics?.insights ?? [];
      const b = badge();
      if (b) {
        b.hidden = !insights.length;
        b.textContent = String(insights.length);
        b.dataset.metric = "insights";
        b.dataset.value = String(insights.length);
        b.className = `badge ${insights.some((i) => i.severity === "critical") ? "critical" : insights.some((i) => i.severity === "warning") ? "warning" : ""}`;
      }
      if (!insights.length) {
        panel.empty("Nothing to flag in this view: no weak label or large confusion, no sign of overfitting, miscalibration or imbalance, few confident mistakes, enough rows per label, few abstentions and few unlabeled rows.");
        return;
      }
      panel.body.replaceChildren(
        h(
          "ol",
          { class: "insights" },
          insights.map((insight, i) => {
            const { patch, text } = evidence(insight);
            return h(
              "li",
              { class: `insight ${insight.severity}`, "data-kind": insight.kind, "data-labels": JSON.stringify(insight.labels), "data-index": String(i) },
              h("span", { class: `severity ${insight.severity}` }, SEVERITY[insight.severity] ?? insight.severity),
              h(
                "div",
                { class: "insight-text" },
                h("p", { class: "message" }, insight.message),
                h(
                  "p",
                  { class: "insight-meta" },
                  h("span", { "data-metric": "value", "data-value": insight.value ?? "" }, insight.value === null ? "" : pct(insight.value)),
                  ` · ${insight.kind.replace("_", " ")}`,
                  insight.labels.length ? ` · ${insight.labels.join(" → ")}` : "",
                ),
              ),
              h(
                "a",
                {
                  class: "insight-link",
                  href: store.href(patch),
                  onclick: (event) => {
                    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button) return; // new tab: the URL has it all
                    event.preventDefault();
                    store.set(patch, { push: true });
                  },
                },
                text,
                " →",
              ),
            );
          }),
        ),
        h("p", { class: "hint" }, "Each rule reads a rate through its 95% Wilson interval, so small views are judged by what their rows can show: a label's recall or precision surely under 50% (critical under 30%); surely 5% or more of a label's rows predicted as one other label; training far more accurate than validation; confidence far from accuracy; accuracy far above balanced accuracy; confident mistakes; labels with too few rows to trust; many abstained or unlabeled rows. The README's insights table has every threshold."),
      );
      panel.ready({ "data-threshold": String(state.t) });
    },
  };
}
