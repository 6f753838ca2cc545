/**
 * The report as one self-contained HTML file: uPlot (bundled from npm, inlined), the data for
 * the charts (thinned for drawing), and the tables. Nothing is fetched at view time.
 */
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import type { CostResult } from "./cost.ts";
import { fmtMoney } from "./cost.ts";
import { thin } from "./downsample.ts";
import type { RunEnergy } from "./energy.ts";
import { fmtBytes, fmtMib, type Recommendation } from "./recommend.ts";
import type { Recording } from "./series.ts";
import type { RunStats } from "./stats.ts";

/** Points per chart; each thinned bucket draws its minimum and maximum. */
export const MAX_POINTS = 3000;

export interface ReportParts {
  rec: Recording;
  stats: RunStats;
  recommendation: Recommendation;
  cost: CostResult;
  energy: RunEnergy;
  version: string;
  pythonNote?: string | null;
}

interface Chart {
  id: string;
  title: string;
  unit: string;
  series: { label: string; data: number[] }[];
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Bytes per second in the unit that suits the largest value. */
function rateUnit(...xs: number[][]): { unit: string; k: number } {
  let peak = 0;
  for (const x of xs) for (const v of x) if (v > peak) peak = v;
  const [unit, k] = peak >= 1e9
    ? ["GB/s", 1e9]
    : peak >= 1e6
    ? ["MB/s", 1e6]
    : peak >= 1e3
    ? ["kB/s", 1e3]
    : ["B/s", 1];
  return { unit: unit as string, k: k as number };
}

function charts(p: ReportParts): Chart[] {
  const c = p.rec.cols;
  const any = (xs: number[]) => xs.some((x) => Number.isFinite(x) && x !== 0);
  const out: Chart[] = [];
  const cpu = [{ label: "host", data: c.hostCores }];
  if (p.rec.tracked) cpu.push({ label: "process tree", data: c.procCores });
  out.push({ id: "cpu", title: "CPU", unit: "cores", series: cpu });
  const limit = p.rec.run?.memory_limit_mib;
  const flat = (v: number) => c.t.map(() => v);
  if (p.rec.tracked) {
    const job = [{ label: "tree PSS", data: c.procPssMib }];
    if (c.procRssMib.some(Number.isFinite)) job.push({ label: "tree RSS", data: c.procRssMib });
    if (typeof limit === "number" && limit > 0) job.push({ label: "limit", data: flat(limit) });
    out.push({ id: "memory", title: "Memory of the job", unit: "MiB", series: job });
  }
  const host = [{ label: "host used", data: c.hostMemUsedMib }];
  if (p.rec.host.memoryMib) host.push({ label: "host total", data: flat(p.rec.host.memoryMib) });
  if (!p.rec.tracked && typeof limit === "number" && limit > 0) {
    host.push({ label: "limit", data: flat(limit) });
  }
  out.push({ id: "hostmemory", title: "Memory of the host", unit: "MiB", series: host });
  const procIo = any(c.procReadBps) || any(c.procWriteBps);
  const d = rateUnit(
    c.diskReadBps,
    c.diskWriteBps,
    procIo ? c.procReadBps : [],
    procIo ? c.procWriteBps : [],
  );
  const disk = [
    { label: "host read", data: c.diskReadBps.map((x) => x / d.k) },
    { label: "host write", data: c.diskWriteBps.map((x) => x / d.k) },
  ];
  if (procIo) {
    disk.push({ label: "tree read", data: c.procReadBps.map((x) => x / d.k) });
    disk.push({ label: "tree write", data: c.procWriteBps.map((x) => x / d.k) });
  }
  out.push({ id: "disk", title: "Disk I/O", unit: d.unit, series: disk });
  const nu = rateUnit(c.netRxBps, c.netTxBps);
  out.push({
    id: "network",
    title: "Network (host)",
    unit: nu.unit,
    series: [
      { label: "received", data: c.netRxBps.map((x) => x / nu.k) },
      { label: "sent", data: c.netTxBps.map((x) => x / nu.k) },
    ],
  });
  if (p.stats.gpu) {
    const g = [{ label: "host GPUs busy", data: c.gpuUsage }];
    if (any(c.procGpuUsage)) g.push({ label: "tree GPUs busy", data: c.procGpuUsage });
    out.push({ id: "gpu", title: "GPU use", unit: "GPUs", series: g });
    const v = [{ label: "host VRAM", data: c.gpuVramMib }];
    if (any(c.procGpuVramMib)) v.push({ label: "tree VRAM", data: c.procGpuVramMib });
    out.push({ id: "vram", title: "GPU memory", unit: "MiB", series: v });
    if (any(c.gpuWatts)) {
      out.push({
        id: "gpupower",
        title: "GPU power",
        unit: "W",
        series: [{ label: "boards", data: c.gpuWatts }],
      });
    }
  }
  out.push({
    id: "energy",
    title: `Power (${p.energy.method})`,
    unit: "W",
    series: [{ label: p.energy.method, data: p.energy.watts }],
  });
  return out;
}

function table(rows: [string, unknown][]): string {
  return `<table>${
    rows.filter(([, v]) => v !== null && v !== undefined && v !== "")
      .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")
  }</table>`;
}

const secs = (s: number) => {
  if (s < 120) return `${s.toFixed(1)} s`;
  if (s < 7200) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(2)} h`;
};
const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "–");

export function renderHtml(p: ReportParts): string {
  const { rec, stats: s, recommendation: r, cost, energy: e } = p;
  const cs = charts(p);
  const x = rec.cols.t.map((t) => t / 1000);
  const data = cs.map((ch) => {
    const th = thin(x, ch.series.map((se) => se.data), MAX_POINTS);
    return {
      id: ch.id,
      title: ch.title,
      unit: ch.unit,
      labels: ch.series.map((se) => se.label),
      x: th.x,
      ys: th.ys,
    };
  });
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  const run = rec.run;
  const cmd = run?.command ? run.command.join(" ") : null;
  const host = run?.host ?? {};
  const cloud = run?.cloud ?? {};
  const title = run?.metadata?.job_name ?? cmd ?? rec.files[0] ?? "run";
  const meta: [string, unknown][] = [
    ["command", cmd],
    ["exit code", run?.exit_code],
    ["started", iso(s.startMs)],
    ["ended", iso(s.endMs)],
    ["duration", secs(s.durationSecs)],
    ["samples", s.samples],
    ["recorded by", run?.version ? `resource-tracker ${run.version}` : null],
    ["source", `${rec.files.join(", ")} (${rec.format})`],
    ...Object.entries(run?.metadata ?? {}).map(([k, v]): [string, unknown] => [k, v]),
    ...Object.entries(run?.tags ?? {}).map(([k, v]): [string, unknown] => [`tag ${k}`, v]),
  ];
  const hostRows: [string, unknown][] = [
    ["vCPUs", rec.host.vcpus ?? "unknown"],
    ["CPU model", rec.host.cpuModel],
    [
      "memory",
      rec.host.memoryMib
        ? `${fmtMib(rec.host.memoryMib)}${
          rec.host.memorySource === "estimated" ? " (estimated from free+used+buffers+cached)" : ""
        }`
        : "unknown",
    ],
    ["memory limit", run?.memory_limit_mib ? fmtMib(run.memory_limit_mib) : null],
    ["GPUs", rec.host.gpuCount ? `${rec.host.gpuCount} × ${rec.host.gpuModel ?? "GPU"}` : null],
    ["GPU memory", rec.host.gpuMemoryMib ? fmtMib(rec.host.gpuMemoryMib) : null],
    ["hostname", host.host_hostname],
    ["storage", host.host_storage_gb ? `${Number(host.host_storage_gb).toFixed(0)} GB` : null],
    ["cloud", cloud.cloud_vendor_id],
    ["instance type", cloud.cloud_instance_type],
    ["region", cloud.cloud_region_id],
    ["zone", cloud.cloud_zone_id],
  ];
  const summary: [string, unknown][] = [
    [
      `CPU (${s.subject})`,
      `mean ${f2(s.cores.mean)}, p95 ${f2(s.cores.p95)}, peak ${f2(s.cores.max)} cores; ${
        s.cpuSecs.toFixed(1)
      } CPU-s`,
    ],
    [
      "CPU (host)",
      `mean ${f2(s.hostCores.mean)}, p95 ${f2(s.hostCores.p95)}, peak ${f2(s.hostCores.max)} cores`,
    ],
    [
      `memory (${s.subject})`,
      `p50 ${fmtMib(s.memoryMib.p50)}, p95 ${fmtMib(s.memoryMib.p95)}, peak ${
        fmtMib(s.memoryMib.max)
      }`,
    ],
    ["memory (host used)", `peak ${fmtMib(s.hostMemUsedMib.max)}`],
    ["disk (host)", `read ${fmtBytes(s.diskReadBytes)}, written ${fmtBytes(s.diskWriteBytes)}`],
    [
      "disk (tree)",
      rec.tracked
        ? `read ${fmtBytes(s.procReadBytes)}, written ${fmtBytes(s.procWriteBytes)}`
        : null,
    ],
    ["network (host)", `received ${fmtBytes(s.netRxBytes)}, sent ${fmtBytes(s.netTxBytes)}`],
    [
      "GPU",
      s.gpu
        ? `mean ${f2(s.gpu.usage.mean)}, peak ${f2(s.gpu.usage.max)} GPUs; VRAM peak ${
          fmtMib(s.gpu.vramMib.max)
        }`
        : null,
    ],
  ];
  const energyRows: [string, unknown][] = [
    ["method", `${e.method} (±${Math.round(e.uncertainty * 100)} %)`],
    ["basis", e.basis],
    ["energy", `${e.kwh.toFixed(e.kwh < 0.01 ? 6 : 4)} kWh (${e.joules.toFixed(0)} J)`],
    ["mean power", `${f2(e.meanWatts)} W`],
    ["cost", e.cost !== null ? fmtMoney(e.cost, cost.currency) : "no price per kWh given"],
    ["CO₂e", `${e.co2Grams.toFixed(e.co2Grams < 10 ? 3 : 1)} g`],
    ["not covered", e.uncoveredSecs > 0 ? secs(e.uncoveredSecs) : null],
  ];
  const costRows: [string, unknown][] = [
    [
      "price",
      cost.pricePerHour !== null
        ? `${fmtMoney(cost.pricePerHour, cost.currency)} per hour (${cost.priceSource})`
        : cost.priceSource,
    ],
    ["run cost", cost.runCost !== null ? fmtMoney(cost.runCost, cost.currency) : null],
    [
      "at the recommended size",
      cost.recommended
        ? `${fmtMoney(cost.recommended.runCost, cost.currency)}${
          cost.recommended.instanceType ? ` on ${cost.recommended.instanceType}` : ""
        } (${cost.recommended.basis})`
        : null,
    ],
    [
      cost.saving !== null && cost.saving < 0 ? "extra cost" : "saving",
      cost.saving !== null
        ? `${fmtMoney(Math.abs(cost.saving), cost.currency)} (${
          Math.round(Math.abs(cost.savingPct ?? 0) * 100)
        } %)`
        : null,
    ],
  ];
  const gpuText = r.gpus > 0
    ? `${r.gpus} GPU${r.gpus === 1 ? "" : "s"} with ≥ ${fmtMib(r.gpuVramMib)} VRAM`
    : "no GPU";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>resource-tracker report: ${esc(title)}</title>
<style>${uplotCss}
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:24px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:4px 0}th{text-align:left;padding:2px 12px 2px 0;color:#555;font-weight:500;vertical-align:top}td{padding:2px 0}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:8px 24px}.rec{background:#f3f7ff;border:1px solid #c8d8f8;padding:8px 12px;border-radius:6px}
.rec b{font-size:16px}.verdict{display:inline-block;background:#fff3cd;border-radius:4px;padding:0 6px;margin-right:4px}
.chart{margin:8px 0}.chart h3{font-size:14px;margin:4px 0}ul{margin:4px 0}.note{color:#666;font-size:12px}
</style></head><body>
<h1>${esc(title)}</h1>
<div class="rec"><b>Recommended: ${r.vcpus} vCPU${r.vcpus === 1 ? "" : "s"}, ${
    esc(fmtMib(r.memoryMib))
  } memory, ${esc(gpuText)}</b>
${
    r.verdicts.length
      ? `<div>${r.verdicts.map((v) => `<span class="verdict">${esc(v)}</span>`).join("")}</div>`
      : ""
  }
<ul>${r.evidence.map((l) => `<li>${esc(l)}</li>`).join("")}</ul>
<div class="note">Rule: ${esc(r.rule)}. Figures are for ${esc(r.subject)}.${
    p.pythonNote ? ` For comparison, ${esc(p.pythonNote)}.` : ""
  }</div></div>
<div class="grid"><div><h2>Run</h2>${table(meta)}</div><div><h2>Host and cloud</h2>${
    table(hostRows)
  }</div></div>
<div class="grid"><div><h2>Summary</h2>${table(summary)}</div><div><h2>Cost</h2>${
    table(costRows)
  }<h2>Energy</h2>${table(energyRows)}</div></div>
<h2>Charts</h2>
<div id="charts"></div>
${
    rec.notes.length
      ? `<h2>Notes</h2><ul>${rec.notes.map((l) => `<li>${esc(l)}</li>`).join("")}</ul>`
      : ""
  }
<p class="note">resource-tracker ${
    esc(p.version)
  } report. Charts thin long runs to ${MAX_POINTS} points (minimum and maximum of each stretch); every figure in the tables uses all ${s.samples} samples.</p>
<script>${uplotJs.replace(/<\/script/gi, "<\\/script")}</script>
<script id="data" type="application/json">${json}</script>
<script>
(function(){
  var charts = JSON.parse(document.getElementById("data").textContent);
  var colors = ["#1f77b4","#d62728","#2ca02c","#9467bd","#ff7f0e","#8c564b"];
  var root = document.getElementById("charts");
  var width = Math.min(1060, root.clientWidth || 1060);
  charts.forEach(function(c){
    var box = document.createElement("div"); box.className = "chart"; box.id = "chart-" + c.id;
    var h = document.createElement("h3"); h.textContent = c.title + " (" + c.unit + ")"; box.appendChild(h);
    root.appendChild(box);
    var series = [{}].concat(c.labels.map(function(l, i){
      return {label: l, stroke: colors[i % colors.length], width: 1.5, spanGaps: false,
        value: function(u, v){ return v == null ? "–" : (+v).toFixed(2) + " " + c.unit; }};
    }));
    new uPlot({width: width, height: 220, series: series, scales: {x: {time: true}},
      axes: [{}, {size: 70, values: function(u, vs){
        var step = vs.length > 1 ? Math.abs(vs[1] - vs[0]) : 1;
        var digits = step > 0 ? Math.min(6, Math.max(0, -Math.floor(Math.log10(step)))) : 0;
        return vs.map(function(v){ return v == null ? "" : v.toFixed(digits); }); }}]},
      [c.x].concat(c.ys), box);
  });
})();
</script>
</body></html>
`;
}
