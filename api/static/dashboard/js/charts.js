// Small SVG charts written for this page: a gauge and a line chart.
// Colours follow Okabe & Ito's colour-blind-safe palette.

import { h, pct, raw, s } from "./dom.js";

export const COLORS = {
  coverage: "#6b6b6b",
  accuracy: "#0072B2",
  precision: "#E69F00",
  recall: "#009E73",
  f1: "#CC79A7",
  selectiveAccuracy: "#56B4E9",
};

function arcPoint(cx, cy, r, fraction) {
  const angle = Math.PI * (1 - fraction);
  return [cx + r * Math.cos(angle), cy - r * Math.sin(angle)];
}

/** A half-circle gauge for a rate in [0, 1]; the number carries data-metric/data-value. */
export function gauge({ metric, label, value, hint = "", extra = {} }) {
  const cx = 60;
  const cy = 58;
  const r = 46;
  const [x0, y0] = arcPoint(cx, cy, r, 0);
  const [x1, y1] = arcPoint(cx, cy, r, 1);
  const track = s("path", { d: `M ${x0} ${y0} A ${r} ${r} 0 0 1 ${x1} ${y1}`, class: "gauge-track" });
  const parts = [track];
  if (value !== null && value !== undefined) {
    const f = Math.max(0, Math.min(1, value));
    const [x, y] = arcPoint(cx, cy, r, f);
    if (f > 0) parts.push(s("path", { d: `M ${x0} ${y0} A ${r} ${r} 0 0 1 ${x} ${y}`, class: `gauge-fill gauge-${metric}` }));
  }
  return h(
    "figure",
    { class: "gauge", title: hint },
    s("svg", { viewBox: "0 0 120 64", "aria-hidden": "true", focusable: "false" }, ...parts),
    h("output", { class: "gauge-value", "data-metric": metric, "data-value": raw(value), ...extra }, pct(value)),
    h("figcaption", {}, label),
  );
}

/**
 * A line chart over x in [0, 1] (or xDomain) and y in [0, 1].
 * series: [{name, key, color, points: [[x, y|null], ...], dash}]
 * markers: [{x, label, className}] vertical lines.
 */
export function lineChart({
  series,
  markers = [],
  width = 640,
  height = 260,
  xDomain = [0, 1],
  yDomain = [0, 1],
  xTicks = [0, 0.2, 0.4, 0.6, 0.8, 1],
  yTicks = null,
  xFormat = (v) => v.toFixed(1),
  yFormat = (v) => `${Math.round(v * 100)}%`,
  xLabel = "",
  yLabel = "",
  title = "",
  dots = false,
  highlight = null,
}) {
  const m = { left: 44, right: 14, top: 12, bottom: xLabel ? 38 : 24 };
  const w = width - m.left - m.right;
  const hgt = height - m.top - m.bottom;
  const [x0, x1] = xDomain;
  const [y0, y1] = yDomain;
  const X = (v) => m.left + ((v - x0) / (x1 - x0 || 1)) * w;
  const Y = (v) => m.top + (1 - (v - y0) / (y1 - y0 || 1)) * hgt;
  const svg = s("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart",
    role: "img",
    "aria-label": title,
    preserveAspectRatio: "xMidYMid meet",
  });
  // grid and axes
  const ys = yTicks ?? [0, 1, 2, 3, 4].map((i) => y0 + ((y1 - y0) * i) / 4);
  ys.forEach((v, i) => {
    svg.append(
      s("line", { x1: m.left, x2: m.left + w, y1: Y(v), y2: Y(v), class: i === 0 ? "axis" : "grid" }),
      s("text", { x: m.left - 6, y: Y(v) + 4, class: "tick", "text-anchor": "end" }, yFormat(v)),
    );
  });
  for (const v of xTicks) {
    svg.append(
      s("line", { x1: X(v), x2: X(v), y1: m.top + hgt, y2: m.top + hgt + 4, class: "axis" }),
      s("text", { x: X(v), y: m.top + hgt + 16, class: "tick", "text-anchor": "middle" }, xFormat(v)),
    );
  }
  if (xLabel) svg.append(s("text", { x: m.left + w / 2, y: height - 4, class: "axis-label", "text-anchor": "middle" }, xLabel));
  if (yLabel) {
    svg.append(
      s("text", { x: 10, y: m.top + hgt / 2, class: "axis-label", "text-anchor": "middle", transform: `rotate(-90 10 ${m.top + hgt / 2})` }, yLabel),
    );
  }
  for (const marker of markers) {
    if (marker.x === null || marker.x === undefined) continue;
    const x = X(marker.x);
    svg.append(
      s("line", { x1: x, x2: x, y1: m.top, y2: m.top + hgt, class: `marker ${marker.className ?? ""}` }),
      s("text", { x: x + 4, y: m.top + 10, class: `marker-label ${marker.className ?? ""}` }, marker.label),
    );
  }
  for (const line of series) {
    let d = "";
    let pen = false;
    for (const [x, y] of line.points) {
      if (y === null || y === undefined) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${X(x).toFixed(1)} ${Y(y).toFixed(1)} `;
      pen = true;
    }
    svg.append(
      s("path", {
        d,
        fill: "none",
        stroke: line.color,
        "stroke-width": 2,
        "stroke-dasharray": line.dash ?? null,
        class: "series",
        "data-series": line.key ?? line.name,
      }),
    );
    if (dots) {
      line.points.forEach(([x, y], i) => {
        if (y === null || y === undefined) return;
        const isHigh = highlight && highlight.series === (line.key ?? line.name) && highlight.index === i;
        svg.append(
          s(
            "circle",
            { cx: X(x), cy: Y(y), r: isHigh ? 5.5 : 3, fill: isHigh ? "#D55E00" : line.color, class: isHigh ? "dot worst" : "dot" },
            s("title", {}, `${line.name}: ${pct(y)}`),
          ),
        );
      });
    }
  }
  return svg;
}

/** A legend for a line chart. */
export function legend(series) {
  return h(
    "ul",
    { class: "legend" },
    series.map((line) =>
      h(
        "li",
        {},
        h("span", { class: `swatch${line.dash ? " dashed" : ""}`, style: { borderColor: line.color, background: line.dash ? "none" : line.color } }),
        line.name,
      ),
    ),
  );
}
