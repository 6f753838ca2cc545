/**
 * Run cost without any network: a price per hour the user gives (flag, env, TOML), or a price
 * table file matched with the detected cloud vendor and instance type. The cost at the
 * recommended size comes from the cheapest table row that fits it (vCPUs, memory, GPUs), else
 * pro rata from the current price (labelled an estimate).
 *
 * Price table: CSV with a header naming at least `instance_type` and `price_per_hour`, optional
 * `vendor`, `vcpus`, `memory_gib`, `gpus`; or a JSON array of objects with those keys.
 */
import { UsageError } from "../base/errors.ts";
import type { Recommendation } from "./recommend.ts";

export interface PriceRow {
  vendor: string | null;
  instanceType: string;
  pricePerHour: number;
  vcpus: number | null;
  memoryGib: number | null;
  gpus: number | null;
}

export function parsePriceTable(text: string, name: string): PriceRow[] {
  const bad = (why: string) => new UsageError(`--price-table ${name}: ${why}`);
  let objs: Record<string, unknown>[];
  const t = text.trim();
  if (t.startsWith("[")) {
    try {
      objs = JSON.parse(t);
    } catch (err) {
      throw bad(`not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(objs)) throw bad("expected a JSON array of objects");
  } else {
    const lines = t.split(/\r?\n/).filter((l) => l.trim() !== "" && !l.startsWith("#"));
    const head = (lines[0] ?? "").split(",").map((h) => h.trim().replace(/^"|"$/g, ""));
    objs = lines.slice(1).map((l) => {
      const f = l.split(",").map((x) => x.trim().replace(/^"|"$/g, ""));
      return Object.fromEntries(head.map((h, i) => [h, f[i] ?? ""]));
    });
  }
  return objs.map((o, i) => {
    const where = `row ${i + 1}`;
    const type = String(o.instance_type ?? "").trim();
    const price = Number(o.price_per_hour);
    if (!type) throw bad(`${where}: instance_type is missing`);
    if (!Number.isFinite(price) || price < 0) {
      throw bad(`${where}: price_per_hour ${JSON.stringify(o.price_per_hour)} is not a price`);
    }
    const num = (v: unknown) => {
      const x = Number(v);
      return v === undefined || v === "" || !Number.isFinite(x) ? null : x;
    };
    return {
      vendor: o.vendor ? String(o.vendor).trim().toLowerCase() : null,
      instanceType: type,
      pricePerHour: price,
      vcpus: num(o.vcpus),
      memoryGib: num(o.memory_gib),
      gpus: num(o.gpus),
    };
  });
}

export interface CostInput {
  durationSecs: number;
  /** Given directly (flag, env, TOML); wins over the table. */
  pricePerHour: number | null;
  table: PriceRow[] | null;
  vendor: string | null;
  instanceType: string | null;
  host: { vcpus: number | null; memoryMib: number | null };
  rec: Recommendation;
  currency: string;
}

export interface CostResult {
  currency: string;
  pricePerHour: number | null;
  /** Where the price came from, in words. */
  priceSource: string;
  runCost: number | null;
  recommended: {
    instanceType: string | null;
    pricePerHour: number;
    runCost: number;
    basis: string;
  } | null;
  /** Positive: cheaper at the recommended size. */
  saving: number | null;
  savingPct: number | null;
}

export function runCost(i: CostInput): CostResult {
  const hours = i.durationSecs / 3600;
  let price = i.pricePerHour, source = price !== null ? "given price per hour" : "";
  const vendor = i.vendor?.toLowerCase() ?? null;
  if (price === null && i.table && i.instanceType) {
    const row = i.table.find((r) =>
      r.instanceType === i.instanceType &&
      (r.vendor === null || vendor === null || r.vendor === vendor)
    );
    if (row) {
      price = row.pricePerHour;
      source = `price table: ${row.vendor ? row.vendor + " " : ""}${row.instanceType}`;
    }
  }
  if (price === null) {
    source = i.table && !i.instanceType
      ? "no price: the instance type is unknown (no cloud detected), so the table cannot be matched"
      : i.table
      ? `no price: ${i.instanceType} is not in the price table`
      : "no price given (--price-per-hour or --price-table)";
  }
  const r = i.rec;
  let recommended: CostResult["recommended"] = null;
  const fits = (row: PriceRow) =>
    row.vcpus !== null && row.memoryGib !== null && row.vcpus >= r.vcpus &&
    row.memoryGib * 1024 >= r.memoryMib && (row.gpus ?? 0) >= r.gpus &&
    (vendor === null || row.vendor === null || row.vendor === vendor);
  const best = i.table?.filter(fits).sort((a, b) => a.pricePerHour - b.pricePerHour)[0];
  if (best) {
    recommended = {
      instanceType: best.instanceType,
      pricePerHour: best.pricePerHour,
      runCost: best.pricePerHour * hours,
      basis: `cheapest row of the price table with ≥ ${r.vcpus} vCPUs and ≥ ${+(r.memoryMib / 1024)
        .toFixed(1)} GiB`,
    };
  } else if (price !== null && i.host.vcpus && i.host.memoryMib) {
    const ratio = Math.max(r.vcpus / i.host.vcpus, r.memoryMib / i.host.memoryMib);
    recommended = {
      instanceType: null,
      pricePerHour: price * ratio,
      runCost: price * ratio * hours,
      basis: `estimate: the current price scaled by the larger of the vCPU and memory ratios (×${
        ratio.toFixed(2)
      })`,
    };
  }
  const cost = price !== null ? price * hours : null;
  const saving = cost !== null && recommended ? cost - recommended.runCost : null;
  return {
    currency: i.currency,
    pricePerHour: price,
    priceSource: source,
    runCost: cost,
    recommended,
    saving,
    savingPct: saving !== null && cost ? saving / cost : null,
  };
}

export function fmtMoney(x: number | null, currency: string): string {
  if (x === null || !Number.isFinite(x)) return "unknown";
  const digits = Math.abs(x) >= 100 ? 2 : Math.abs(x) >= 1 ? 3 : 5;
  return `${x.toFixed(digits)} ${currency}`;
}
