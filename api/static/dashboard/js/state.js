// The view lives in the URL, so a view can be shared and reloaded:
//
//   ?model=support-intent&run=v2&split=validation&t=0.5
//    &label=Resolved&label=Partially+Resolved            class filter, in order
//    &where=[{"column":"channel","in":["email"]}]        row filter (RowFilter list)
//    &tab=metrics&avg=MICRO&drill={"k":"cell","a":"Resolved","p":null}
//
// Every parameter left out takes its default below.

export const DEFAULTS = Object.freeze({
  model: "",
  run: "",
  split: "",
  t: 0.5, // threshold
  labels: [], // class filter (empty = every label)
  where: [], // row filter: GraphQL RowFilter objects, ANDed
  avg: "MACRO", // precision / recall / F1 average
  tab: "metrics",
  drill: null, // the rows dialog: {k: "cell"|"label"|"outcome", ...}
  rlabel: "", // recommended threshold: label (default: the most frequent)
  rprec: 0.9, // ... and minimum precision
  clabel: "", // per-label curves: label (default: the recommended one)
  col: "", // slices: column
  bins: 13, // slices: bins of a number or time column
  smetric: "accuracy", // slices: metric
  base: "", // compare: baseline run
  chg: "REGRESSED", // compare: which rows to list
  sort: "", // per-label table: column
  dir: "desc",
});

const NUMBERS = new Set(["t", "rprec", "bins"]);
const JSON_KEYS = new Set(["where", "drill"]);

export function parse(search) {
  const params = new URLSearchParams(search);
  const state = { ...DEFAULTS, labels: params.getAll("label") };
  for (const key of Object.keys(DEFAULTS)) {
    if (key === "labels" || !params.has(key)) continue;
    const text = params.get(key);
    if (NUMBERS.has(key)) {
      const n = Number(text);
      if (text !== "" && Number.isFinite(n)) state[key] = n;
    } else if (JSON_KEYS.has(key)) {
      try {
        const value = JSON.parse(text);
        if (key === "where" ? Array.isArray(value) : value && typeof value === "object") state[key] = value;
      } catch {
        /* a garbled parameter is ignored, as if absent */
      }
    } else {
      state[key] = text;
    }
  }
  state.t = Math.min(1, Math.max(0, state.t));
  return state;
}

export function serialize(state) {
  const params = new URLSearchParams();
  for (const key of Object.keys(DEFAULTS)) {
    const value = state[key];
    if (key === "labels") {
      for (const label of value) params.append("label", label);
    } else if (JSON_KEYS.has(key)) {
      if (key === "where" ? value.length : value) params.set(key, JSON.stringify(value));
    } else if (value !== DEFAULTS[key] && value !== "" && value !== null) {
      params.set(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : location.pathname;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The current state, the URL and the listeners told which keys changed. */
export class Store {
  constructor() {
    this.state = parse(location.search);
    this.listeners = [];
    window.addEventListener("popstate", () => this.replace(parse(location.search), { url: false }));
  }

  subscribe(fn) {
    this.listeners.push(fn);
  }

  /** Merge `patch`; push a history entry (navigation) or replace it (slider). */
  set(patch, { push = false } = {}) {
    this.replace({ ...this.state, ...patch }, { push });
  }

  replace(next, { push = false, url = true, notify = true } = {}) {
    const changed = new Set(Object.keys(DEFAULTS).filter((k) => !same(this.state[k], next[k])));
    this.state = next;
    if (url) {
      const target = serialize(next);
      if (target !== location.search && !(target === location.pathname && !location.search)) {
        history[push ? "pushState" : "replaceState"](null, "", target);
      }
    }
    if (notify && changed.size) for (const fn of this.listeners) fn(this.state, changed);
  }

  /** A link to this view with `patch` applied (for insights and sharing). */
  href(patch) {
    return serialize({ ...this.state, ...patch });
  }
}
