/**
 * The live dashboard at `/`: one self-contained page (uPlot inlined from npm, no external
 * request at view time). It loads the kept window from `/api/samples`, then follows
 * `/api/events` (SSE); the running summary and the run's facts come from `/api/summary`.
 */
import { UPLOT_CSS, UPLOT_JS } from "./assets/uplot.ts";

const STYLE = `
:root { color-scheme: light dark; --fg: #1d2330; --muted: #667085; --bg: #f6f7f9; --card: #fff;
  --line: #e4e7ec; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8ec; --muted: #98a2b3; --bg: #12151b;
  --card: #1b2029; --line: #2a303b; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: var(--bg); color: var(--fg); }
header { display: flex; gap: 16px; align-items: baseline; padding: 12px 20px;
  border-bottom: 1px solid var(--line); background: var(--card); }
header h1 { font-size: 18px; margin: 0; }
#status { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #fde2e1;
  color: #912018; }
#status.live { background: #d1fadf; color: #05603a; }
main { display: grid; grid-template-columns: minmax(0, 1fr) 320px; gap: 16px; padding: 16px 20px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(380px, 1fr)); gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.card h2 { font-size: 13px; margin: 0 0 8px; color: var(--muted); font-weight: 600;
  text-transform: uppercase; letter-spacing: .04em; }
.chart { min-height: 220px; }
.empty { color: var(--muted); padding: 80px 0; text-align: center; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 0; }
dt { color: var(--muted); } dd { margin: 0; overflow-wrap: anywhere; }
aside { display: grid; gap: 16px; align-content: start; }
.u-legend { font-size: 12px; }
@media (max-width: 900px) { main { grid-template-columns: 1fr; } }
`;

const SCRIPT = `
"use strict";
const KEEP = 600, MiB = 1048576, GiB = 1073741824;
const state = { samples: 0, lastMs: 0, charts: {} };
window.rtState = state;
const $ = (id) => document.getElementById(id);
const sum = (xs, f) => xs.reduce((n, x) => n + f(x), 0);
const fmtBytes = (n) => {
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return i ? n.toFixed(1) + " " + u[i] : n + " B";
};
const css = getComputedStyle(document.documentElement);
const COLORS = ["#2e90fa", "#f79009", "#12b76a", "#f04438", "#7a5af8", "#ee46bc", "#06aed4"];

const CHARTS = [
  { id: "cpu", unit: "cores", series: [
    ["host busy", (s) => s.cpu.utilization_pct],
    ["tracked tree", (s) => s.cpu.process_cores_used],
    ["cgroup", (s) => s.cpu.cgroup_utilization_pct]] },
  { id: "mem", unit: "GiB", series: [
    ["host used", (s) => s.memory.used_mib / 1024],
    ["tree PSS", (s) => s.cpu.process_pss_mib === null ? null : s.cpu.process_pss_mib / 1024],
    ["tree RSS", (s) => s.cpu.process_rss_mib === null ? null : s.cpu.process_rss_mib / 1024]] },
  { id: "disk", unit: "MiB/s", series: [
    ["host read", (s) => sum(s.disk.filter((d) => !d.virtual), (d) => d.read_bytes_per_sec) / MiB],
    ["host write", (s) => sum(s.disk.filter((d) => !d.virtual), (d) => d.write_bytes_per_sec) / MiB],
    ["tree read", (s) => perSec(s, s.cpu.process_disk_read_bytes)],
    ["tree write", (s) => perSec(s, s.cpu.process_disk_write_bytes)]] },
  { id: "net", unit: "MiB/s", series: [
    ["received", (s) => sum(s.network, (n) => n.rx_bytes_per_sec) / MiB],
    ["sent", (s) => sum(s.network, (n) => n.tx_bytes_per_sec) / MiB]] },
];
function perSec(s, bytes) {
  if (bytes === null || !s.actual_interval_ms) return null;
  return bytes / (s.actual_interval_ms / 1000) / MiB;
}
// GPU series follow the devices the first GPU sample shows.
function gpuChart(s) {
  const series = s.gpu.map((g, i) => ["GPU " + i + " %", (x) => x.gpu[i] ? x.gpu[i].utilization_pct : null]);
  series.push(["tree GPUs x100", (x) => x.cpu.process_gpu_usage === null ? null : x.cpu.process_gpu_usage * 100]);
  return { id: "gpu", unit: "%", series };
}

function makeChart(def) {
  const el = $(def.id);
  el.textContent = "";
  const width = Math.max(300, el.clientWidth || 440);
  const opts = {
    width, height: 200,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max || 0, 0.01) * 1.1] } },
    axes: [
      { stroke: css.getPropertyValue("--muted"), grid: { stroke: css.getPropertyValue("--line") } },
      { stroke: css.getPropertyValue("--muted"), grid: { stroke: css.getPropertyValue("--line") },
        label: def.unit, size: 56 },
    ],
    series: [{}].concat(def.series.map(([label], i) => ({
      label, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: false,
      value: (u, v) => v === null || v === undefined ? "-" : v.toFixed(2),
    }))),
  };
  const data = [[]].concat(def.series.map(() => []));
  const plot = new uPlot(opts, data, el);
  state.charts[def.id] = { def, data, plot };
}

function push(s) {
  if (s.timestamp_ms <= state.lastMs) return;
  state.lastMs = s.timestamp_ms;
  state.samples++;
  if (!state.charts.gpu && s.gpu.length > 0) {
    $("gpu-card").hidden = false; $("no-gpu").hidden = true; makeChart(gpuChart(s));
  }
  for (const c of Object.values(state.charts)) {
    c.data[0].push(s.timestamp_ms / 1000);
    c.def.series.forEach(([, f], i) => { const v = f(s); c.data[i + 1].push(v === undefined ? null : v); });
    if (c.data[0].length > KEEP) c.data.forEach((col) => col.shift());
  }
}
function redraw() {
  for (const c of Object.values(state.charts)) c.plot.setData(c.data);
  $("samples").textContent = String(state.samples);
  document.body.dataset.samples = String(state.samples);
}

function facts(el, rows) {
  el.textContent = "";
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === "") continue;
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = String(v);
    el.append(dt, dd);
  }
}
async function refreshSummary() {
  try {
    const r = await fetch("api/summary", { cache: "no-store" });
    if (!r.ok) return;
    const { run, summary: s } = await r.json();
    const m = run.metadata || {}, h = run.host || {}, c = run.cloud || {};
    $("title").textContent = m.job_name ? "resource-tracker: " + m.job_name : "resource-tracker";
    facts($("meta"), [
      ["job", m.job_name], ["project", m.project_name], ["stage", m.stage_name],
      ["task", m.task_name], ["team", m.team], ["env", m.env],
      ...Object.entries(run.tags || {}).map(([k, v]) => ["tag " + k, v]),
      ["command", run.command ? run.command.join(" ") : "system-wide"],
      ["host", h.host_hostname], ["CPU", h.host_cpu_model && (h.host_vcpus + " x " + h.host_cpu_model)],
      ["memory", h.host_memory_mib && fmtBytes(h.host_memory_mib * MiB)],
      ["GPUs", h.host_gpu_count && (h.host_gpu_count + " x " + h.host_gpu_model)],
      ["cloud", [c.cloud_vendor_id, c.cloud_instance_type, c.cloud_region_id].filter(Boolean).join(" ")],
      ["interval", run.interval_secs + " s"], ["version", run.version],
    ]);
    facts($("summary"), [
      ["running", s.duration_secs.toFixed(0) + " s"], ["samples", s.samples],
      ["tree CPU", s.cpu.total_secs.toFixed(2) + " s (" + s.cpu.user_secs.toFixed(2) + " user)"],
      ["avg / peak", s.cpu.avg_cores.toFixed(2) + " / " + s.cpu.peak_cores.toFixed(2) + " cores"],
      ["peak PSS", fmtBytes(s.memory.peak_pss_mib * MiB)], ["peak RSS", fmtBytes(s.memory.peak_rss_mib * MiB)],
      ["tree disk", fmtBytes(s.disk.read_bytes) + " read, " + fmtBytes(s.disk.write_bytes) + " written"],
      ["host net", fmtBytes(s.network.recv_bytes) + " in, " + fmtBytes(s.network.sent_bytes) + " out"],
      ["GPU", s.gpu && (s.gpu.avg_usage.toFixed(2) + " avg, " + s.gpu.peak_usage.toFixed(2) + " peak")],
    ]);
  } catch (_) { /* the next refresh tries again */ }
}

async function backfill() {
  const r = await fetch("api/samples" + (state.lastMs ? "?since=" + state.lastMs : ""), { cache: "no-store" });
  if (r.ok) { for (const s of await r.json()) push(s); redraw(); }
}

function connect() {
  const es = new EventSource("api/events");
  es.addEventListener("open", () => { $("status").textContent = "live"; $("status").className = "live"; backfill(); });
  es.addEventListener("sample", (e) => { push(JSON.parse(e.data)); redraw(); });
  es.addEventListener("error", () => { $("status").textContent = "reconnecting"; $("status").className = ""; });
}

CHARTS.forEach(makeChart);
backfill().then(connect, connect);
refreshSummary();
setInterval(refreshSummary, 5000);
`;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>resource-tracker</title>
<link rel="icon" href="data:,">
<style>${UPLOT_CSS}</style>
<style>${STYLE}</style>
</head>
<body>
<header><h1 id="title">resource-tracker</h1><span id="status">connecting</span>
<span>samples: <b id="samples">0</b></span></header>
<main>
<section class="charts">
<div class="card"><h2>CPU (cores)</h2><div class="chart" id="cpu"></div></div>
<div class="card"><h2>Memory (GiB)</h2><div class="chart" id="mem"></div></div>
<div class="card"><h2>Disk (MiB/s)</h2><div class="chart" id="disk"></div></div>
<div class="card"><h2>Network (MiB/s)</h2><div class="chart" id="net"></div></div>
<div class="card" id="gpu-card" hidden><h2>GPU (%)</h2><div class="chart" id="gpu"></div></div>
<div class="card" id="no-gpu"><h2>GPU</h2><div class="empty">no GPU seen yet</div></div>
</section>
<aside>
<div class="card"><h2>Run</h2><dl id="meta"></dl></div>
<div class="card"><h2>Running summary</h2><dl id="summary"></dl></div>
</aside>
</main>
<script>${UPLOT_JS}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
