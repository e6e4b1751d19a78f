// Insights: the API's plain-language warnings about the view, each a link
// to the view that shows its evidence (a confusion opens the matrix cell's
// rows, low recall a label's false negatives, and so on).

import { h, pct } from "../dom.js";
import { Panel, STALE } from "../panel.js";
import { INSIGHTS, viewVariables } from "../queries.js";

/** The view that shows an insight's evidence, as a patch of the URL state. */
export function evidence(insight) {
  const [a, b] = insight.labels;
  switch (insight.kind) {
    case "confusion":
      return { patch: { tab: "metrics", drill: { k: "cell", a, p: b } }, text: `Open the rows of “${a}” predicted as “${b}”` };
    case "low_recall":
      return { patch: { tab: "metrics", drill: { k: "label", l: a, o: "FN" } }, text: `Open the false negatives of “${a}”` };
    case "low_precision":
      return { patch: { tab: "metrics", drill: { k: "label", l: a, o: "FP" } }, text: `Open the false positives of “${a}”` };
    case "abstention":
      return { patch: { tab: "metrics", drill: { k: "outcome", o: "ABSTAINED" } }, text: "Open the abstained rows" };
    case "unlabeled":
      return { patch: { tab: "metrics", drill: { k: "outcome", o: "UNLABELED" } }, text: "Open the rows without an actual label" };
    default:
      return { patch: { tab: "metrics", drill: null }, text: "Open the metrics" };
  }
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
        panel.empty("Nothing to flag in this view: no label under 50% precision or recall, no large confusion, few abstentions and few unlabeled rows.");
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
        h("p", { class: "hint" }, "The rules: a label's recall or precision under 50% (critical under 30%); 5% or more of a label's rows predicted as one other label (warning from 10%); 10% or more of the rows abstained; 5% or more without an actual label. Each over at least 20 rows."),
      );
      panel.ready({ "data-threshold": String(state.t) });
    },
  };
}
