/**
 * Cost and energy settings, spread into OPTIONS (cli/options.ts): the run summary and the
 * `report` command read them with the usual precedence (flag > env > TOML > default).
 */
import { atLeast, type OptionDef } from "../base/option.ts";

const nonNegative = atLeast(0);

function vcpuWatts(v: unknown): string {
  const parts = String(v).split(/[,:]/).map((x) => Number(x.trim()));
  if (
    parts.length !== 2 || !parts.every((x) => Number.isFinite(x) && x >= 0 && x <= 1000) ||
    parts[0]! > parts[1]!
  ) {
    throw new Error(`expected IDLE,BUSY watts per vCPU such as 0.74,3.5, got ${JSON.stringify(v)}`);
  }
  return parts.join(",");
}

export const REPORT_OPTIONS: readonly OptionDef[] = [
  {
    name: "price-per-hour",
    type: "number",
    env: "TRACKER_PRICE_PER_HOUR",
    toml: ["cost.price_per_hour"],
    metavar: "PRICE",
    help:
      "What the machine costs per hour, for the run's cost and the saving at the recommended size.",
    check: nonNegative,
  },
  {
    name: "price-table",
    type: "string",
    env: "TRACKER_PRICE_TABLE",
    toml: ["cost.price_table"],
    metavar: "FILE",
    help:
      "CSV/JSON price table (vendor, instance_type, price_per_hour, vcpus, memory_gib, gpus) matched with the detected cloud and instance type.",
  },
  {
    name: "currency",
    type: "string",
    env: "TRACKER_CURRENCY",
    toml: ["cost.currency"],
    default: "USD",
    metavar: "CODE",
    help: "Currency the prices are in (a label only).",
  },
  {
    name: "price-per-kwh",
    type: "number",
    env: "TRACKER_PRICE_PER_KWH",
    toml: ["energy.price_per_kwh"],
    metavar: "PRICE",
    help: "Electricity price per kWh, for the energy cost.",
    check: nonNegative,
  },
  {
    name: "grid-intensity",
    type: "number",
    env: "TRACKER_GRID_INTENSITY",
    toml: ["energy.grid_intensity"],
    default: 475,
    metavar: "G_PER_KWH",
    help: "Grid carbon intensity in g CO2e per kWh (default: world average).",
    check: nonNegative,
  },
  {
    name: "vcpu-watts",
    type: "string",
    env: "TRACKER_VCPU_WATTS",
    toml: ["energy.vcpu_watts"],
    default: "0.74,3.5",
    metavar: "IDLE,BUSY",
    help: "Watts per vCPU idle and busy, for the energy estimate where no counter is readable.",
    check: vcpuWatts,
  },
];
