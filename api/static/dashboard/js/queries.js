// Every GraphQL document the dashboard sends, in one place: copy any of them
// into your own front-end (each panel also shows the one it sent, with its
// variables, in its "query" disclosure). One query per panel.

/** Wrap a Metrics selection in model → run → split → metrics(...). */
function view(name, extraVars, metricsArgs, body) {
  const vars = ["$model: String!", "$run: String!", "$split: String!", ...extraVars].join(", ");
  const indented = body
    .trim()
    .split("\n")
    .map((line) => `          ${line}`)
    .join("\n");
  return `query ${name}(${vars}) {
  model(name: $model) {
    run(name: $run) {
      split(name: $split) {
        metrics${metricsArgs ? `(${metricsArgs})` : ""} {
${indented}
        }
      }
    }
  }
}`;
}

const VIEW_VARS = ["$threshold: Float!", "$labels: [String!]", "$where: [RowFilter!]"];
const VIEW_ARGS = "threshold: $threshold, labels: $labels, where: $where";
// Panels that do not depend on the threshold (curves, the threshold search).
const FILTER_VARS = ["$labels: [String!]", "$where: [RowFilter!]"];
const FILTER_ARGS = "labels: $labels, where: $where";

/** The view's variables from the URL state (null = no filter). */
export function viewVariables(state) {
  return {
    model: state.model,
    run: state.run,
    split: state.split,
    threshold: state.t,
    labels: state.labels.length ? state.labels : null,
    where: state.where.length ? state.where : null,
  };
}

export function filterVariables(state) {
  const { threshold, ...rest } = viewVariables(state);
  return rest;
}

export const NAVIGATION = `query Navigation {
  models {
    name
    task
    labels
    runs {
      name
      createdAt
      splits {
        name
        rowCount
        columns { name type }
      }
    }
  }
}`;

export function gauges(multilabel) {
  return view(
    "Gauges",
    [...VIEW_VARS, "$average: Average!"],
    VIEW_ARGS,
    `
total
labeled
predicted
correct
coverage
accuracy
selectiveAccuracy
precision(average: $average)
recall(average: $average)
f1(average: $average)${multilabel ? "\nhammingScore\nsubsetAccuracy" : ""}`,
  );
}

export const RECOMMEND = view(
  "RecommendedThreshold",
  [...FILTER_VARS, '$label: String! = ""', "$minPrecision: Float! = 0.9", "$hasLabel: Boolean!"],
  FILTER_ARGS,
  `
labelDistribution { label actual }
thresholdForPrecision(label: $label, minPrecision: $minPrecision) @include(if: $hasLabel) {
  threshold
  precision
  recall
  coverage
}`,
);

export const MATRIX = view(
  "ConfusionMatrix",
  VIEW_VARS,
  VIEW_ARGS,
  `
confusionMatrix {
  labels
  counts
}`,
);

export const PER_LABEL = view(
  "PerLabel",
  VIEW_VARS,
  VIEW_ARGS,
  `
perLabel {
  label
  precision
  recall
  f1
  accuracy
  support
  tp
  fp
  tn
  fn
  averagePrecision
  rocAuc
}`,
);

export const INSIGHTS = view(
  "Insights",
  VIEW_VARS,
  VIEW_ARGS,
  `
insights {
  kind
  severity
  labels
  message
  value
  evidence { split rows label labelRows }
}`,
);

export function curves(hasLabel) {
  return view(
    "ThresholdCurves",
    [...FILTER_VARS, "$points: Int!", ...(hasLabel ? ["$label: String!"] : [])],
    FILTER_ARGS,
    `
overall: curve(points: $points) {
  threshold
  coverage
  accuracy
  precision
  recall
}${
      hasLabel
        ? `
byLabel: curve(label: $label, points: $points) {
  threshold
  precision
  recall
  f1
}
label(name: $label) {
  support
  averagePrecision
  rocAuc
}`
        : ""
    }`,
  );
}

export const SLICE_METRICS = {
  accuracy: "accuracy",
  f1: "f1(average: $average)",
  precision: "precision(average: $average)",
  recall: "recall(average: $average)",
  coverage: "coverage",
  selectiveAccuracy: "selectiveAccuracy",
};

export function slices(metric) {
  const field = SLICE_METRICS[metric] ?? "accuracy";
  const usesAverage = field.includes("$average");
  return view(
    "Slices",
    [...VIEW_VARS, "$column: String!", "$bins: Int!", ...(usesAverage ? ["$average: Average!"] : [])],
    VIEW_ARGS,
    `
total
${field}
breakdown(column: $column, bins: $bins) {
  key
  low
  high
  isNull
  count
  metrics {
    ${field}
  }
}`,
  );
}

/** Distinct values of a string column (for the row-filter form's suggestions). */
export const COLUMN_VALUES = view(
  "ColumnValues",
  ["$column: String!"],
  "",
  `
breakdown(column: $column) {
  key
  count
}`,
);

const MULTICLASS_ROW = `id
actual
predicted
confidence
correct
fields`;
const MULTILABEL_ROW = `id
actualLabels
predictedLabels
predictedConfidences
correct
fields`;

function indent(text, spaces) {
  const pad = " ".repeat(spaces);
  return text
    .split("\n")
    .map((line) => pad + line)
    .join("\n");
}

function connection(multilabel, depth) {
  return `totalCount
pageInfo { hasNextPage endCursor }
nodes {
${indent(multilabel ? MULTILABEL_ROW : MULTICLASS_ROW, 2)}
}`
    .split("\n")
    .map((line) => " ".repeat(depth) + line)
    .join("\n");
}

/**
 * The rows behind a number. drill is
 *   {k: "cell", a, p}       a matrix cell (null = None): rows(actual:, predicted:)
 *   {k: "label", l, o}      a label's TP/FP/TN/FN: label(name:) { rows(outcome:) }
 *   {k: "actual", l}        a label's support: rows(actual:)
 *   {k: "outcome", o}       rows(outcome: ABSTAINED | UNLABELED | CORRECT | INCORRECT)
 * An explicit null for actual/predicted means None; a left-out one means any,
 * so the document names only the arguments the drill-down uses.
 */
export function rows(drill, multilabel) {
  const paging = "orderBy: $orderBy, first: $first, after: $after";
  const vars = [...VIEW_VARS, "$orderBy: RowOrder!", "$first: Int!", "$after: String"];
  if (drill.k === "label") {
    return view(
      "LabelRows",
      [...vars, "$label: String!", "$outcome: LabelOutcome!"],
      VIEW_ARGS,
      `label(name: $label) {
  rows(outcome: $outcome, ${paging}) {
${connection(multilabel, 4)}
  }
}`,
    );
  }
  const args = [];
  if (drill.k === "cell") {
    vars.push("$actual: String", "$predicted: String");
    args.push("actual: $actual", "predicted: $predicted");
  } else if (drill.k === "actual") {
    vars.push("$actual: String");
    args.push("actual: $actual");
  } else {
    vars.push("$outcome: Outcome!");
    args.push("outcome: $outcome");
  }
  return view(
    "CellRows",
    vars,
    VIEW_ARGS,
    `rows(${args.join(", ")}, ${paging}) {
${connection(multilabel, 2)}
}`,
  );
}

export function rowsVariables(state, drill) {
  const vars = { ...viewVariables(state), orderBy: drill.order ?? "CONFIDENCE_DESC" };
  if (drill.k === "label") Object.assign(vars, { label: drill.l, outcome: drill.o });
  else if (drill.k === "cell") Object.assign(vars, { actual: drill.a ?? null, predicted: drill.p ?? null });
  else if (drill.k === "actual") vars.actual = drill.l;
  else vars.outcome = drill.o;
  return vars;
}

const SUMMARY = `accuracy
coverage
precision(average: $average)
recall(average: $average)
f1(average: $average)
perLabel { label precision recall f1 support }`;

const COMPARE_ROWS = `totalCount
pageInfo { hasNextPage endCursor }
nodes {
  id
  actual
  predicted
  actualLabels
  predictedLabels
  confidence
  baseline { predicted predictedLabels confidence }
  fields
}`;

// The page's class and row filters apply to both runs (Query.compare takes them).
export const COMPARE = `query Compare($baseline: SplitRef!, $candidate: SplitRef!, ${FILTER_VARS.join(", ")}, $threshold: Float!, $average: Average!, $change: Change!, $first: Int!) {
  compare(baseline: $baseline, candidate: $candidate, threshold: $threshold, ${FILTER_ARGS}) {
    baseline {
${indent(SUMMARY, 6)}
    }
    candidate {
${indent(SUMMARY, 6)}
    }
    fixed
    regressed
    mcnemarPValue
    deltaHammingScore
    perLabel { label deltaPrecision deltaRecall deltaF1 deltaSupport }
    rows(change: $change, first: $first) {
${indent(COMPARE_ROWS, 6)}
    }
  }
}`;

export const COMPARE_PAGE = `query CompareRows($baseline: SplitRef!, $candidate: SplitRef!, ${FILTER_VARS.join(", ")}, $threshold: Float!, $change: Change!, $first: Int!, $after: String) {
  compare(baseline: $baseline, candidate: $candidate, threshold: $threshold, ${FILTER_ARGS}) {
    rows(change: $change, first: $first, after: $after) {
${indent(COMPARE_ROWS, 6)}
    }
  }
}`;
