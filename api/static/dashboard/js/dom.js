// Small DOM helpers: h() builds HTML elements, s() SVG elements, and the
// formatters every panel shares (percentages with one decimal, counts with
// thousands separators). No framework: each panel redraws its own subtree.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  let value;
  for (const [key, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (key === "text") el.textContent = v;
    else if (key === "value") value = v;
    else if (key === "style" && typeof v === "object") {
      for (const [name, sv] of Object.entries(v)) {
        if (name.startsWith("--")) el.style.setProperty(name, sv);
        else el.style[name] = sv;
      }
    }
    else if (key.startsWith("on") && typeof v === "function") el.addEventListener(key.slice(2), v);
    else el.setAttribute(key, v === true ? "" : String(v));
  }
  return value;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** h("button", {class: "x", onclick}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  const value = apply(el, attrs);
  append(el, children);
  if (value !== undefined) el.value = value; // after the options exist
  return el;
}

/** s("path", {d: "M0 0"}) — an SVG element. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** The raw value of a number for a data-value attribute: "" for null. */
export function raw(v) {
  return v === null || v === undefined ? "" : String(v);
}

/** 0.8424 → "84.2%"; null (0/0, undefined) → "—". */
export function pct(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  return `${(v * 100).toFixed(1)}%`;
}

/** 12345 → "12,345". */
export function count(v) {
  if (v === null || v === undefined) return "—";
  return Number(v).toLocaleString("en-US");
}

/** A threshold as a short decimal: 0.5 → "0.50", 0.8112844 → "0.8113". */
export function thr(v) {
  if (v === null || v === undefined) return "—";
  const short = Number(v.toFixed(4));
  return short === Number(v.toFixed(2)) ? v.toFixed(2) : String(short);
}

/** A signed difference in percentage points, one decimal: "+1.2 pt". */
export function delta(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const points = (v * 100).toFixed(1);
  return `${v > 0 ? "+" : v < 0 ? "" : "±"}${points === "-0.0" ? "0.0" : points} pt`;
}

/** A label for display: null is None. */
export function labelName(v) {
  return v === null || v === undefined ? "None" : v;
}

/** An element stating a number, carrying its name and raw value. */
export function numberEl(tag, metric, value, text, extra = {}) {
  return h(tag, { "data-metric": metric, "data-value": raw(value), ...extra }, text);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function debounce(fn, ms) {
  let timer;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.flush = (...args) => {
    clearTimeout(timer);
    fn(...args);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

let uid = 0;
export function nextId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** Seconds since the epoch → "2026-08-03". */
export function day(seconds) {
  return new Date(seconds * 1000).toISOString().slice(0, 10);
}
