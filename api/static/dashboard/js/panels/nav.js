// Navigation (models → runs → splits) and the toolbar that shapes the view:
// the threshold slider with its recommended marker, the class filter and the
// row filter.

import { graphql } from "../api.js";
import { count, day, debounce, h, thr } from "../dom.js";
import { COLUMN_VALUES, NAVIGATION } from "../queries.js";

function queryDetails(query, variables) {
  return h(
    "details",
    { class: "query compact" },
    h("summary", {}, "query"),
    h("div", { class: "query-content" }, h("pre", { class: "query-doc" }, h("code", {}, query)), variables ? h("pre", { class: "query-vars" }, h("code", {}, JSON.stringify(variables, null, 2))) : null),
  );
}

function title(name) {
  return name.charAt(0).toUpperCase() + name.slice(1);
}

export function createNavigation(ctx) {
  const { store } = ctx;
  const el = h("div", { class: "nav" });
  const modelSelect = h("select", {
    id: "nav-model",
    name: "model",
    onchange: () =>
      store.set(
        { model: modelSelect.value, run: "", labels: [], where: [], drill: null, rlabel: "", clabel: "", base: "", col: "", sort: "" },
        { push: true },
      ),
  });
  const runSelect = h("select", {
    id: "nav-run",
    name: "run",
    onchange: () => store.set({ run: runSelect.value, drill: null, base: "" }, { push: true }),
  });
  const splits = h("div", { class: "segmented", role: "radiogroup", "aria-labelledby": "nav-split-label" });
  const queryBox = h("span", { class: "nav-query" });
  el.append(
    h("div", { class: "field" }, h("label", { for: "nav-model" }, "Model"), modelSelect),
    h("div", { class: "field" }, h("label", { for: "nav-run" }, "Run"), runSelect),
    h("div", { class: "field" }, h("span", { id: "nav-split-label", class: "label" }, "Split"), splits),
    queryBox,
  );

  return {
    el,
    showQuery() {
      queryBox.replaceChildren(queryDetails(NAVIGATION, null));
    },
    update(state, changed) {
      if (!ctx.model || !["model", "run", "split"].some((k) => changed.has(k))) return;
      modelSelect.replaceChildren(
        ...ctx.catalog.map((m) => h("option", { value: m.name }, `${m.name} · ${m.task === "MULTILABEL" ? "multilabel" : "multiclass"}`)),
      );
      modelSelect.value = state.model;
      runSelect.replaceChildren(
        ...ctx.model.runs.map((r) => h("option", { value: r.name }, `${r.name} — ${String(r.createdAt).slice(0, 10)}`)),
      );
      runSelect.value = state.run;
      splits.replaceChildren(
        ...(ctx.run?.splits ?? []).map((sp) => {
          const id = `nav-split-${sp.name}`;
          const input = h("input", {
            type: "radio",
            name: "split",
            id,
            value: sp.name,
            checked: sp.name === state.split,
            onchange: () => store.set({ split: sp.name, drill: null }, { push: true }),
          });
          return h("span", { class: "segment" }, input, h("label", { for: id, title: `${count(sp.rowCount)} rows` }, title(sp.name), h("small", { "data-metric": "rowCount", "data-value": String(sp.rowCount) }, count(sp.rowCount))));
        }),
      );
    },
  };
}

const OPS = {
  in: "is one of",
  gte: "≥",
  gt: ">",
  lte: "≤",
  lt: "<",
  isNull: "is empty",
};

function opsFor(type) {
  if (type === "string" || type === "bool") return ["in", "isNull"];
  if (type === "timestamp" || type === "date") return ["gte", "lt", "isNull"];
  return ["gte", "gt", "lte", "lt", "isNull"];
}

function isTime(type) {
  return type === "timestamp" || type === "date";
}

/** A row filter as words: channel ∈ {email, chat}, created_at ≥ 2026-09-01. */
export function describeFilter(filter, columns) {
  const type = columns.find((c) => c.name === filter.column)?.type ?? "";
  const parts = [];
  const value = (v) => (isTime(type) ? day(v) : String(v));
  if (filter.in) parts.push(`∈ {${filter.in.join(", ")}}`);
  for (const op of ["gte", "gt", "lte", "lt"]) if (filter[op] !== undefined && filter[op] !== null) parts.push(`${OPS[op]} ${value(filter[op])}`);
  if (filter.isNull === true) parts.push("is empty");
  if (filter.isNull === false) parts.push("is not empty");
  return `${filter.column} ${parts.join(" and ")}`;
}

export function createToolbar(ctx) {
  const { store } = ctx;
  const el = h("div", { class: "toolbar-inner" });

  // --- threshold --------------------------------------------------------
  const slider = h("input", {
    type: "range",
    id: "threshold",
    name: "threshold",
    min: 0,
    max: 1,
    step: 0.01,
    "aria-describedby": "threshold-help",
  });
  const exact = h("input", {
    type: "number",
    id: "threshold-exact",
    name: "threshold-exact",
    min: 0,
    max: 1,
    step: "any",
    "aria-label": "Threshold, exact value",
  });
  const tick = h("span", { class: "rec-tick", hidden: true, "aria-hidden": "true" });
  const commit = debounce((t) => store.set({ t }), 150);
  slider.addEventListener("input", () => {
    const t = Number(slider.value);
    exact.value = thr(t);
    ctx.emit("threshold-preview", t);
    commit(t);
  });
  // No flush on "change": the keyboard fires it on every step, and the debounce is the point.
  exact.addEventListener("change", () => {
    const t = Number(exact.value);
    if (exact.value === "" || !Number.isFinite(t) || t < 0 || t > 1) {
      exact.value = thr(store.state.t);
      return;
    }
    commit.cancel();
    store.set({ t });
  });
  ctx.on("recommended", (rec) => {
    tick.hidden = !rec || rec.threshold === null || rec.threshold === undefined;
    if (!tick.hidden) {
      tick.style.setProperty("--at", String(rec.threshold));
      tick.title = `Recommended: ${thr(rec.threshold)} (precision ≥ ${Math.round(rec.minPrecision * 100)}% for ${rec.label})`;
    }
  });
  el.append(
    h(
      "div",
      { class: "threshold-control" },
      h("label", { for: "threshold", title: "Predictions with a confidence below the threshold count as None (no prediction)" }, "Threshold"),
      h("div", { class: "slider" }, slider, tick),
      exact,
      h("span", { id: "threshold-help", class: "sr-only" }, "Predictions with a confidence below the threshold count as None, no prediction."),
    ),
  );

  // --- class filter -----------------------------------------------------
  const classSummary = h("summary", {}, "Classes");
  const classList = h("div", { class: "checklist" });
  const classFilter = h(
    "details",
    { class: "dropdown", id: "class-filter" },
    classSummary,
    h(
      "fieldset",
      { class: "dropdown-body" },
      h("legend", {}, "Class filter: the labels in the view"),
      classList,
      h("div", { class: "dropdown-actions" }, h("button", { type: "button", class: "small", onclick: () => store.set({ labels: [], drill: null }, { push: true }) }, "All labels")),
    ),
  );

  // --- row filter -------------------------------------------------------
  const chips = h("ul", { class: "chips", "aria-label": "Row filter conditions (all must hold)" });
  const column = h("select", { id: "rf-column", name: "column" });
  const op = h("select", { id: "rf-op", name: "op" });
  const valueInput = h("input", { id: "rf-value", name: "value", list: "rf-values", autocomplete: "off" });
  const datalist = h("datalist", { id: "rf-values" });
  const valuesQuery = h("div", { class: "rf-query" });
  const formError = h("p", { class: "form-error", role: "alert", hidden: true });
  const columnType = () => (ctx.split?.columns ?? []).find((c) => c.name === column.value)?.type ?? "string";
  const syncOps = () => {
    const type = columnType();
    op.replaceChildren(...opsFor(type).map((o) => h("option", { value: o }, OPS[o])));
    syncValue();
    suggest();
  };
  const syncValue = () => {
    const type = columnType();
    valueInput.type = isTime(type) && op.value !== "isNull" ? "date" : type === "int" || type === "float" ? "number" : "text";
    valueInput.disabled = op.value === "isNull";
    valueInput.placeholder = op.value === "in" ? "a, b, c" : "";
  };
  let suggestSeq = 0;
  const suggest = async () => {
    datalist.replaceChildren();
    const type = columnType();
    if (type !== "string" && type !== "bool") {
      valuesQuery.replaceChildren();
      return;
    }
    const seq = ++suggestSeq;
    const variables = { model: store.state.model, run: store.state.run, split: store.state.split, column: column.value };
    valuesQuery.replaceChildren(queryDetails(COLUMN_VALUES, variables));
    try {
      const data = await graphql(COLUMN_VALUES, variables);
      if (seq !== suggestSeq) return;
      const slices = data.model?.run?.split?.metrics.breakdown ?? [];
      datalist.replaceChildren(...slices.filter((sl) => !sl.isNull && sl.key !== "null").slice(0, 200).map((sl) => h("option", { value: sl.key }, `${count(sl.count)} rows`)));
    } catch {
      /* suggestions are a convenience: a column with too many values just has none */
    }
  };
  column.addEventListener("change", syncOps);
  op.addEventListener("change", syncValue);
  const rowForm = h(
    "form",
    {
      class: "dropdown-body rf-form",
      onsubmit: (event) => {
        event.preventDefault();
        const type = columnType();
        const filter = { column: column.value };
        const text = valueInput.value.trim();
        if (op.value === "isNull") filter.isNull = true;
        else if (!text) {
          formError.textContent = "Enter a value.";
          formError.hidden = false;
          return;
        } else if (op.value === "in") filter.in = text.split(",").map((v) => v.trim()).filter(Boolean);
        else if (isTime(type)) filter[op.value] = Date.parse(`${text}T00:00:00Z`) / 1000;
        else filter[op.value] = Number(text);
        formError.hidden = true;
        valueInput.value = "";
        rowFilter.open = false;
        store.set({ where: [...store.state.where, filter], drill: null }, { push: true });
      },
    },
    h("div", { class: "field" }, h("label", { for: "rf-column" }, "Column"), column),
    h("div", { class: "field" }, h("label", { for: "rf-op" }, "Condition"), op),
    h("div", { class: "field" }, h("label", { for: "rf-value" }, "Value"), valueInput, datalist),
    formError,
    h("div", { class: "dropdown-actions" }, h("button", { type: "submit", class: "primary small" }, "Add condition")),
    valuesQuery,
  );
  const rowFilter = h("details", { class: "dropdown", id: "row-filter" }, h("summary", {}, "+ Row filter"), rowForm);
  rowFilter.addEventListener("toggle", () => {
    if (rowFilter.open) valueInput.focus();
  });

  el.append(
    h("div", { class: "filter-control" }, h("span", { class: "label" }, "Class filter"), classFilter),
    h("div", { class: "filter-control rows" }, h("span", { class: "label" }, "Row filter"), chips, rowFilter),
  );

  // Close a dropdown on Escape or a click elsewhere.
  document.addEventListener("click", (event) => {
    for (const d of [classFilter, rowFilter]) if (d.open && !d.contains(event.target)) d.open = false;
  });
  el.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const d of [classFilter, rowFilter]) {
      if (d.open) {
        d.open = false;
        d.querySelector("summary").focus();
      }
    }
  });

  return {
    el,
    update(state, changed) {
      if (changed.has("t")) {
        if (Math.abs(Number(slider.value) - state.t) > 0.005 || document.activeElement !== slider) slider.value = String(state.t);
        exact.value = thr(state.t);
      }
      if (!ctx.model) return;
      if (["model", "labels"].some((k) => changed.has(k))) {
        const inView = new Set(state.labels.length ? state.labels : ctx.model.labels);
        classList.replaceChildren(
          ...ctx.model.labels.map((label, i) => {
            const id = `cf-${i}`;
            return h(
              "div",
              { class: "check" },
              h("input", {
                type: "checkbox",
                id,
                value: label,
                checked: inView.has(label),
                onchange: () => {
                  const checked = [...classList.querySelectorAll("input:checked")].map((c) => c.value);
                  const labels = checked.length === ctx.model.labels.length ? [] : checked;
                  if (!checked.length) return; // an empty class filter would mean every label
                  store.set({ labels, drill: null }, { push: true });
                },
              }),
              h("label", { for: id }, label),
            );
          }),
        );
        classSummary.textContent = state.labels.length
          ? `${state.labels.length} of ${ctx.model.labels.length} labels`
          : `All ${ctx.model.labels.length} labels`;
        classFilter.classList.toggle("active", state.labels.length > 0);
      }
      if (["model", "run", "split"].some((k) => changed.has(k))) {
        const usable = (ctx.split?.columns ?? []).filter((c) => c.type !== "other");
        column.replaceChildren(...usable.map((c) => h("option", { value: c.name }, `${c.name} (${c.type})`)));
        rowFilter.hidden = !usable.length;
        if (usable.length) syncOps();
      }
      if (["where", "model", "run", "split"].some((k) => changed.has(k))) {
        const columns = ctx.split?.columns ?? [];
        chips.replaceChildren(
          ...state.where.map((filter, i) => {
            const text = describeFilter(filter, columns);
            return h(
              "li",
              { class: "chip" },
              h("span", {}, text),
              h(
                "button",
                {
                  type: "button",
                  class: "chip-remove",
                  "aria-label": `Remove the condition ${text}`,
                  onclick: () => store.set({ where: state.where.filter((_, j) => j !== i), drill: null }, { push: true }),
                },
                "×",
              ),
            );
          }),
        );
        if (!state.where.length) chips.append(h("li", { class: "chip-none" }, "every row"));
      }
    },
  };
}
