/** `report --compare A B`: two runs side by side, with B's change against A in percent. */
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import type { Analysis } from "./analyze.ts";
import { fmtMoney } from "./cost.ts";
import { thin } from "./downsample.ts";
import { fmtBytes, fmtMib } from "./recommend.ts";

interface Row {
  what: string;
  a: number | null;
  b: number | null;
  fmt: (x: number) => string;
}

function rows(x: Analysis, y: Analysis): Row[] {
  const s = (an: Analysis) => an.stats;
  const num = (
    v: number | null | undefined,
  ) => (v === null || v === undefined || !Number.isFinite(v) ? null : v);
  const cores = (v: number) => `${v.toFixed(2)} cores`;
  const cur = x.cost.currency;
  return [
    {
      what: "duration",
      a: s(x).durationSecs,
      b: s(y).durationSecs,
      fmt: (v) => `${v.toFixed(1)} s`,
    },
    { what: "CPU mean", a: s(x).cores.mean, b: s(y).cores.mean, fmt: cores },
    { what: "CPU p95", a: s(x).cores.p95, b: s(y).cores.p95, fmt: cores },
    { what: "CPU peak", a: s(x).cores.max, b: s(y).cores.max, fmt: cores },
    { what: "CPU time", a: s(x).cpuSecs, b: s(y).cpuSecs, fmt: (v) => `${v.toFixed(1)} CPU-s` },
    { what: "memory peak", a: num(s(x).memoryMib.max), b: num(s(y).memoryMib.max), fmt: fmtMib },
    { what: "disk read", a: s(x).diskReadBytes, b: s(y).diskReadBytes, fmt: fmtBytes },
    { what: "disk written", a: s(x).diskWriteBytes, b: s(y).diskWriteBytes, fmt: fmtBytes },
    { what: "network received", a: s(x).netRxBytes, b: s(y).netRxBytes, fmt: fmtBytes },
    { what: "network sent", a: s(x).netTxBytes, b: s(y).netTxBytes, fmt: fmtBytes },
    {
      what: "GPU peak",
      a: num(s(x).gpu?.usage.max),
      b: num(s(y).gpu?.usage.max),
      fmt: (v) => `${v.toFixed(2)} GPUs`,
    },
    {
      what: `energy (${x.energy.method}/${y.energy.method})`,
      a: x.energy.kwh,
      b: y.energy.kwh,
      fmt: (v) => `${v.toFixed(6)} kWh`,
    },
    { what: "cost", a: x.cost.runCost, b: y.cost.runCost, fmt: (v) => fmtMoney(v, cur) },
    {
      what: "recommended vCPUs",
      a: x.recommendation.vcpus,
      b: y.recommendation.vcpus,
      fmt: String,
    },
    {
      what: "recommended memory",
      a: x.recommendation.memoryMib,
      b: y.recommendation.memoryMib,
      fmt: fmtMib,
    },
  ];
}

/** B against A: "+30 %", "−12 %", "same", or "" when it cannot be said. */
export function change(a: number | null, b: number | null): string {
  if (a === null || b === null) return "";
  if (a === b) return "same";
  if (a === 0) return "new";
  const p = (b - a) / Math.abs(a) * 100;
  const r = Math.abs(p) >= 10 ? Math.round(p) : +p.toFixed(1);
  return `${r > 0 ? "+" : "−"}${Math.abs(r)} %`;
}

export function compareLines(x: Analysis, y: Analysis): string[] {
  const w = Math.max(...rows(x, y).map((r) => r.what.length));
  return [
    `A: ${x.rec.files.join(", ")}`,
    `B: ${y.rec.files.join(", ")}`,
    ...rows(x, y).map((r) =>
      `  ${r.what.padEnd(w)}  ${r.a === null ? "–" : r.fmt(r.a)} → ${
        r.b === null ? "–" : r.fmt(r.b)
      }${change(r.a, r.b) ? `  (${change(r.a, r.b)})` : ""}`
    ),
  ];
}

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderCompareHtml(x: Analysis, y: Analysis, version: string): string {
  // Both runs on one axis: seconds since each run's start.
  const since = (an: Analysis) => an.rec.cols.t.map((t) => (t - an.stats.startMs) / 1000);
  const series = (an: Analysis, k: "cores" | "mem") => {
    const c = an.rec.cols;
    const proc = an.stats.subject === "process tree";
    return k === "cores"
      ? (proc ? c.procCores : c.hostCores)
      : (proc ? c.procPssMib : c.hostMemUsedMib);
  };
  const charts = (["cores", "mem"] as const).map((k) => {
    const a = thin(since(x), [series(x, k)], 1500), b = thin(since(y), [series(y, k)], 1500);
    // uPlot wants one x array: merge the two time bases, null where a run has no point.
    const xs = [...new Set([...a.x, ...b.x])].sort((p, q) => p - q);
    const pick = (t: { x: number[]; ys: (number | null)[][] }) => {
      const m = new Map(t.x.map((v, i) => [v, t.ys[0]![i]!]));
      return xs.map((v) => m.get(v) ?? null);
    };
    return { title: k === "cores" ? "CPU (cores)" : "Memory (MiB)", x: xs, ys: [pick(a), pick(b)] };
  });
  const table = rows(x, y).map((r) =>
    `<tr><th>${esc(r.what)}</th><td>${r.a === null ? "–" : esc(r.fmt(r.a))}</td><td>${
      r.b === null ? "–" : esc(r.fmt(r.b))
    }</td><td>${esc(change(r.a, r.b))}</td></tr>`
  ).join("");
  const json = JSON.stringify(charts).replace(/</g, "\\u003c");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
<title>resource-tracker comparison</title><style>${uplotCss}
body{font:14px/1.4 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:16px}
table{border-collapse:collapse}th,td{text-align:left;padding:2px 14px 2px 0}th{color:#555;font-weight:500}
</style></head><body><h1>Run comparison</h1>
<p>A: ${esc(x.rec.files.join(", "))}<br>B: ${esc(y.rec.files.join(", "))}</p>
<table><tr><th></th><th>A</th><th>B</th><th>B vs A</th></tr>${table}</table>
<div id="charts"></div>
<p style="color:#666;font-size:12px">resource-tracker ${
    esc(version)
  }; x axis: seconds since each run started.</p>
<script>${uplotJs.replace(/<\/script/gi, "<\\/script")}</script>
<script id="data" type="application/json">${json}</script>
<script>(function(){var cs=JSON.parse(document.getElementById("data").textContent);
var root=document.getElementById("charts");cs.forEach(function(c){var d=document.createElement("div");
var h=document.createElement("h3");h.textContent=c.title;d.appendChild(h);root.appendChild(d);
new uPlot({width:1000,height:220,scales:{x:{time:false}},series:[{label:"s"},{label:"A",stroke:"#1f77b4",spanGaps:true},{label:"B",stroke:"#d62728",spanGaps:true}]},[c.x].concat(c.ys),d);});})();
</script></body></html>
`;
}
