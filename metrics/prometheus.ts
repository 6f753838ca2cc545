/**
 * Prometheus text exposition (format 0.0.4) and OpenMetrics 1.0 of one frame: `HELP`/`TYPE`
 * per family, every series with the run's identity labels plus its own attributes.
 */
import { type Frame, type MetricDef, METRICS, promLabel, promName } from "./model.ts";

export const TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
export const OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** True when the `Accept` header prefers OpenMetrics (what Prometheus sends first). */
export function wantsOpenMetrics(accept: string | null | undefined): boolean {
  return !!accept && /application\/openmetrics-text/i.test(accept);
}

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabel(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(",")}}` : "";
}

// Scrapes repeat the same names: derive each once (a scrape every second stays cheap).
const NAMES = new Map<MetricDef, string>();
const LABELS = new Map<string, string>();
const nameOf = (def: MetricDef) => {
  let n = NAMES.get(def);
  if (n === undefined) NAMES.set(def, n = promName(def));
  return n;
};
const labelOf = (attr: string) => {
  let n = LABELS.get(attr);
  if (n === undefined) LABELS.set(attr, n = promLabel(attr));
  return n;
};

export interface ExpositionOptions {
  openMetrics: boolean;
  /** Identity labels added to every series. */
  labels: Record<string, string>;
  /** Extra constant `resource_tracker_info` labels (version). */
  info: Record<string, string>;
}

/** The whole exposition; with no frame yet only the info series is there. */
export function exposition(frame: Frame | null, o: ExpositionOptions): string {
  const families = new Map<MetricDef, string[]>();
  const identity = labelText(o.labels).slice(1, -1);
  for (const pt of frame?.p ?? []) {
    const def = METRICS[pt.k];
    let text = identity;
    if (pt.a) {
      for (const k in pt.a) {
        text += `${text ? "," : ""}${labelOf(k)}="${escapeLabel(pt.a[k]!)}"`;
      }
    }
    let lines = families.get(def);
    if (!lines) families.set(def, lines = []);
    lines.push(`${nameOf(def)}${text ? `{${text}}` : ""} ${formatValue(pt.v)}`);
  }
  const out: string[] = [];
  const family = (name: string, type: string, help: string, lines: string[]) => {
    // OpenMetrics names a counter family without its `_total` sample suffix.
    const fam = o.openMetrics && type === "counter" ? name.replace(/_total$/, "") : name;
    out.push(`# HELP ${fam} ${escapeHelp(help)}`, `# TYPE ${fam} ${type}`, ...lines);
  };
  family(
    "resource_tracker_info",
    "gauge",
    "The tracker's version and the run's identity (value is always 1).",
    [`resource_tracker_info${labelText({ ...o.labels, ...o.info })} 1`],
  );
  for (const [def, lines] of families) {
    family(promName(def), def.type === "counter" ? "counter" : "gauge", def.help, lines);
  }
  if (o.openMetrics) out.push("# EOF");
  return out.join("\n") + "\n";
}
