// A panel: a titled card that sends one GraphQL query, shows it in a
// "query" disclosure, and has loading, empty and error states.
//
// data-state on the section is "loading", "ready", "empty" or "error", so a
// test (or a user's script) can wait for a panel without guessing.

import { graphql } from "./api.js";
import { clear, h } from "./dom.js";

export const STALE = Symbol("stale");

export class Panel {
  constructor(id, title, { description = "", wide = false } = {}) {
    this.id = id;
    this.titleEl = h("h2", { id: `${id}-title` }, title);
    this.controls = h("div", { class: "panel-controls" });
    this.status = h("div", { class: "panel-status", role: "status", "aria-live": "polite" });
    this.body = h("div", { class: "panel-body" });
    this.queryText = h("code");
    this.variablesText = h("code");
    const copy = h("button", { type: "button", class: "small", onclick: () => this.copy(copy) }, "Copy query");
    this.queryBox = h(
      "details",
      { class: "query" },
      h("summary", {}, "query"),
      h(
        "div",
        { class: "query-content" },
        h("div", { class: "query-actions" }, copy),
        h("pre", { class: "query-doc", "aria-label": "GraphQL query" }, this.queryText),
        h("p", { class: "query-label" }, "variables"),
        h("pre", { class: "query-vars", "aria-label": "Variables" }, this.variablesText),
      ),
    );
    this.el = h(
      "section",
      { class: `panel${wide ? " wide" : ""}`, id, "aria-labelledby": `${id}-title`, "data-state": "idle" },
      h(
        "header",
        { class: "panel-head" },
        h("div", { class: "panel-title" }, this.titleEl, description ? h("p", { class: "panel-desc" }, description) : null),
        this.controls,
      ),
      this.status,
      this.body,
      this.queryBox,
    );
    this.seq = 0;
    this.controller = null;
    this.slowTimer = null;
  }

  setTitle(text) {
    this.titleEl.textContent = text;
  }

  showQuery(query, variables) {
    this.queryText.textContent = query;
    this.variablesText.textContent = JSON.stringify(variables, null, 2);
  }

  async copy(button) {
    const text = `${this.queryText.textContent}\n\n# variables\n# ${JSON.stringify(JSON.parse(this.variablesText.textContent || "{}"))}`;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy";
    }
    setTimeout(() => {
      button.textContent = "Copy query";
    }, 1500);
  }

  setState(state) {
    this.el.dataset.state = state;
    this.el.setAttribute("aria-busy", state === "loading" ? "true" : "false");
  }

  /**
   * Send `query`; resolve to its data, or STALE when a newer request of this
   * panel superseded it or it failed (the error is shown in the panel).
   */
  async fetch(query, variables) {
    const seq = ++this.seq;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.showQuery(query, variables);
    this.setState("loading");
    this.body.classList.add("stale");
    clearTimeout(this.slowTimer);
    // A spinner only when it takes a while, so the slider does not flicker.
    this.slowTimer = setTimeout(() => {
      if (seq === this.seq) this.status.replaceChildren(h("span", { class: "loading" }, "Loading…"));
    }, 250);
    try {
      const data = await graphql(query, variables, { signal: controller.signal });
      if (seq !== this.seq) return STALE;
      this.done();
      return data;
    } catch (error) {
      if (seq !== this.seq || error.name === "AbortError") return STALE;
      this.error(error);
      return STALE;
    }
  }

  done() {
    clearTimeout(this.slowTimer);
    clear(this.status);
    this.body.classList.remove("stale");
  }

  /** Mark the panel ready once its body shows this data. */
  ready(attrs = {}) {
    for (const [k, v] of Object.entries(attrs)) this.el.setAttribute(k, v);
    this.setState("ready");
  }

  error(error) {
    clearTimeout(this.slowTimer);
    this.body.classList.remove("stale");
    clear(this.body);
    const code = error.code ? h("span", { class: "error-code" }, error.code) : null;
    this.status.replaceChildren(
      h("div", { class: "error", role: "alert" }, h("strong", {}, "The API answered with an error"), code, h("pre", {}, error.message)),
    );
    this.setState("error");
  }

  empty(message, ...extra) {
    this.done();
    this.body.replaceChildren(h("div", { class: "empty" }, h("p", {}, message), ...extra));
    this.setState("empty");
  }

  /** Cancel anything in flight (the panel's view went away). */
  cancel() {
    this.seq += 1;
    this.controller?.abort();
    clearTimeout(this.slowTimer);
  }
}
