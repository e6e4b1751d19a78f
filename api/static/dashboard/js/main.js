// The evalql dashboard: the Metrics tab of a classification model, built only
// on the public GraphQL API. The URL holds the view (state.js); each panel
// sends one query for exactly what it draws and reloads when the parts of the
// view it depends on change.

import { graphql } from "./api.js";
import { clear, h } from "./dom.js";
import { createNavigation, createToolbar } from "./panels/nav.js";
import { createGauges } from "./panels/gauges.js";
import { createRecommend } from "./panels/recommend.js";
import { createMatrix } from "./panels/matrix.js";
import { createPerLabel } from "./panels/perlabel.js";
import { createRows } from "./panels/rows.js";
import { createCurves } from "./panels/curves.js";
import { createSlices } from "./panels/slices.js";
import { createCompare } from "./panels/compare.js";
import { createInsights } from "./panels/insights.js";
import { NAVIGATION } from "./queries.js";
import { Store } from "./state.js";

const TABS = [
  { id: "metrics", title: "Metrics" },
  { id: "curves", title: "Curves" },
  { id: "slices", title: "Slices" },
  { id: "compare", title: "Compare" },
  { id: "insights", title: "Insights" },
];

/** Shared between panels: the catalog, the selected model, a tiny event bus. */
class Context {
  constructor(store) {
    this.store = store;
    this.catalog = [];
    this.model = null;
    this.run = null;
    this.split = null;
    this.recommended = null;
    this.handlers = {};
  }

  get multilabel() {
    return this.model?.task === "MULTILABEL";
  }

  on(event, fn) {
    (this.handlers[event] ??= []).push(fn);
  }

  emit(event, data) {
    for (const fn of this.handlers[event] ?? []) fn(data);
  }

  /** Open the rows behind a number (a matrix cell, a label's count...). */
  drill(drill) {
    this.store.set({ drill }, { push: true });
  }
}

function newest(runs) {
  return [...runs].sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt))).at(-1);
}

/** Valid model / run / split for the catalog, and filters the model knows. */
function normalize(state, catalog) {
  const next = { ...state };
  const model = catalog.find((m) => m.name === state.model) ?? catalog[0];
  next.model = model.name;
  const withSplits = model.runs.filter((r) => r.splits.length);
  const run = model.runs.find((r) => r.name === state.run) ?? newest(withSplits.length ? withSplits : model.runs);
  next.run = run?.name ?? "";
  const splits = run?.splits ?? [];
  const split =
    splits.find((sp) => sp.name === state.split) ??
    splits.find((sp) => /^(validation|valid|val|test)$/i.test(sp.name)) ??
    splits[0];
  next.split = split?.name ?? "";
  const labels = new Set(model.labels);
  next.labels = state.labels.filter((l) => labels.has(l));
  const inView = new Set(next.labels.length ? next.labels : model.labels);
  if (state.rlabel && !inView.has(state.rlabel)) next.rlabel = "";
  if (state.clabel && !inView.has(state.clabel)) next.clabel = "";
  const columns = new Set((split?.columns ?? []).map((c) => c.name));
  next.where = state.where.filter((w) => w && columns.has(w.column));
  if (state.col && !columns.has(state.col)) next.col = "";
  if (state.base === next.run || (state.base && !model.runs.some((r) => r.name === state.base))) next.base = "";
  return next;
}

function buildLayout(ctx, items) {
  const main = clear(document.getElementById("main"));
  const tablist = h("div", { class: "tabs", role: "tablist", "aria-label": "Views" });
  const sections = {};
  for (const tab of TABS) {
    const button = h(
      "button",
      {
        type: "button",
        role: "tab",
        id: `tab-${tab.id}`,
        "aria-controls": `view-${tab.id}`,
        "data-tab": tab.id,
        onclick: () => ctx.store.set({ tab: tab.id }, { push: true }),
        onkeydown: (event) => {
          const i = TABS.findIndex((t) => t.id === tab.id);
          const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
          if (!step) return;
          event.preventDefault();
          const next = TABS[(i + step + TABS.length) % TABS.length];
          ctx.store.set({ tab: next.id }, { push: true });
          document.getElementById(`tab-${next.id}`).focus();
        },
      },
      tab.title,
      h("span", { class: "badge", id: `badge-${tab.id}`, hidden: true }),
    );
    tablist.append(button);
    sections[tab.id] = h("div", { class: `view view-${tab.id}`, role: "tabpanel", id: `view-${tab.id}`, "aria-labelledby": `tab-${tab.id}` });
  }
  for (const item of items) if (item.tab) sections[item.tab].append(item.panel.el);
  main.append(tablist, ...Object.values(sections));
  return { tablist, sections };
}

function showTab(layout, tab) {
  for (const button of layout.tablist.querySelectorAll("[role=tab]")) {
    const selected = button.dataset.tab === tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
  }
  for (const [id, section] of Object.entries(layout.sections)) section.hidden = id !== tab;
}

async function start() {
  const store = new Store();
  const ctx = new Context(store);
  const nav = createNavigation(ctx);
  const toolbar = createToolbar(ctx);
  document.getElementById("nav").replaceChildren(nav.el);
  document.getElementById("toolbar").replaceChildren(toolbar.el);

  let catalog;
  try {
    catalog = (await graphql(NAVIGATION)).models;
  } catch (error) {
    const main = clear(document.getElementById("main"));
    main.append(
      h("div", { class: "panel error-page", "data-state": "error" }, h("h2", {}, "Cannot load the models"), h("pre", { class: "error", role: "alert" }, error.message)),
    );
    nav.showQuery();
    return;
  }
  ctx.catalog = catalog;
  nav.showQuery();
  if (!catalog.length) {
    const main = clear(document.getElementById("main"));
    main.append(
      h(
        "div",
        { class: "panel empty-page", "data-state": "empty" },
        h("h2", {}, "No models yet"),
        h("p", {}, "Ingest a model's predictions, or try the demo store:"),
        h("pre", {}, "evalql ingest preds.parquet --model my-model --run v1 --split validation\nevalql demo   # the demo store"),
      ),
    );
    toolbar.el.hidden = true;
    return;
  }

  const items = [
    createGauges(ctx),
    createRecommend(ctx),
    createMatrix(ctx),
    createPerLabel(ctx),
    createCurves(ctx),
    createSlices(ctx),
    createCompare(ctx),
    createInsights(ctx),
  ];
  const rows = createRows(ctx);
  const layout = buildLayout(ctx, items);

  const select = (state) => {
    ctx.model = catalog.find((m) => m.name === state.model);
    ctx.run = ctx.model.runs.find((r) => r.name === state.run) ?? null;
    ctx.split = ctx.run?.splits.find((sp) => sp.name === state.split) ?? null;
    document.title = `evalql · ${state.model} / ${state.run} / ${state.split}`;
    document.body.dataset.task = ctx.model.task;
  };

  for (const item of items) item.dirty = true;
  let pending = new Set();
  const refresh = (state) => {
    showTab(layout, state.tab);
    for (const item of items) {
      if (!item.dirty) continue;
      if (item.tab !== state.tab && !item.always) continue;
      item.dirty = false;
      if (!ctx.run) item.panel.empty(`Model “${state.model}” has no runs yet: ingest one with evalql ingest.`);
      else if (!ctx.split) item.panel.empty(`Run “${state.run}” has no splits yet.`);
      else item.load(state);
    }
  };

  const onChange = (state, changed) => {
    for (const key of changed) pending.add(key);
    const fixed = normalize(state, catalog);
    if (JSON.stringify(fixed) !== JSON.stringify(state)) {
      store.replace(fixed); // comes back here with the rest of the changes
      return;
    }
    const keys = pending;
    pending = new Set();
    if (["model", "run", "split"].some((k) => keys.has(k))) select(state);
    nav.update(state, keys);
    toolbar.update(state, keys);
    for (const item of items) {
      if (item.deps.some((k) => keys.has(k))) item.dirty = true;
      item.onState?.(state, keys);
    }
    refresh(state);
    rows.update(state, keys);
  };
  store.subscribe(onChange);

  const first = normalize(store.state, catalog);
  select(first);
  store.replace(first, { notify: false });
  const all = new Set(Object.keys(first));
  nav.update(store.state, all);
  toolbar.update(store.state, all);
  for (const item of items) item.onState?.(store.state, all);
  refresh(store.state);
  rows.update(store.state, all);
  document.body.dataset.ready = "true";
}

start();
