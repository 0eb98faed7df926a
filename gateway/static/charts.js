// Tiny inline-SVG charts (bar and line) so the UI needs no chart library.
const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

function empty() {
  const p = document.createElement("p");
  p.className = "empty";
  p.textContent = "No data yet — screen some candidates and refresh the warehouse.";
  return p;
}

// data: [{label, value}]; horizontal bars suit long labels (funnel stages).
export function barChart(data, { horizontal = false, suffix = "", max, alt = false } = {}) {
  if (!data.length) return empty();
  const top = max ?? Math.max(1, ...data.map((d) => d.value));
  const root = svg("svg", { role: "img", "aria-label": "bar chart" });
  if (horizontal) {
    const rowH = 30, labelW = 110, width = 520;
    root.setAttribute("viewBox", `0 0 ${width} ${data.length * rowH + 10}`);
    data.forEach((d, i) => {
      const w = Math.max(2, (d.value / top) * (width - labelW - 60));
      root.append(svg("text", { x: 0, y: i * rowH + 20 }, d.label));
      root.append(svg("rect", { x: labelW, y: i * rowH + 6, width: w, height: rowH - 12, rx: 4, class: `bar-fill${alt ? " alt" : ""}` }));
      root.append(svg("text", { x: labelW + w + 6, y: i * rowH + 20 }, `${d.value}${suffix}`));
    });
    return root;
  }
  const width = 520, height = 220, pad = 28, bw = (width - pad * 2) / data.length;
  root.setAttribute("viewBox", `0 0 ${width} ${height}`);
  root.append(svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: "axis" }));
  data.forEach((d, i) => {
    const bh = Math.max(1, (d.value / top) * (height - pad * 2));
    const x = pad + i * bw + bw * 0.15;
    root.append(svg("rect", { x, y: height - pad - bh, width: bw * 0.7, height: bh, rx: 3, class: `bar-fill${alt ? " alt" : ""}` }));
    root.append(svg("text", { x: x + bw * 0.35, y: height - pad - bh - 4, "text-anchor": "middle" }, `${d.value}${suffix}`));
    if (data.length <= 16 || i % Math.ceil(data.length / 8) === 0) {
      root.append(svg("text", { x: x + bw * 0.35, y: height - 10, "text-anchor": "middle" }, d.label));
    }
  });
  return root;
}

// data: [{label, value}] in order; y axis from 0 to max.
export function lineChart(data, { max } = {}) {
  if (!data.length) return empty();
  const width = 520, height = 220, pad = 32;
  const top = max ?? Math.max(1, ...data.map((d) => d.value));
  const x = (i) => pad + (data.length === 1 ? (width - pad * 2) / 2 : (i / (data.length - 1)) * (width - pad * 2));
  const y = (v) => height - pad - (v / top) * (height - pad * 2);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "line chart" });
  for (const tick of [0, top / 2, top]) {
    root.append(svg("line", { x1: pad, y1: y(tick), x2: width - pad, y2: y(tick), class: "axis" }));
    root.append(svg("text", { x: 2, y: y(tick) + 4 }, Math.round(tick)));
  }
  root.append(svg("polyline", { points: data.map((d, i) => `${x(i)},${y(d.value)}`).join(" "), class: "line" }));
  data.forEach((d, i) => {
    const dot = svg("circle", { cx: x(i), cy: y(d.value), r: 3.5, class: "dot" });
    dot.append(svg("title", {}, `${d.label}: ${d.value.toFixed(1)}`));
    root.append(dot);
    if (data.length <= 12 || i % Math.ceil(data.length / 8) === 0) {
      root.append(svg("text", { x: x(i), y: height - 10, "text-anchor": "middle" }, d.label));
    }
  });
  return root;
}
