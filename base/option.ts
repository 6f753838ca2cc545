/**
 * The option type and the value checks every option slice shares. Each folder owns its slice
 * (`sinks/options.ts`, `serve/options.ts`, `report/options.ts`); `cli/options.ts` joins them into
 * one registry that drives the parser, `--help` and the README table (docs/ARCHITECTURE.md).
 */

/**
 * `list` = KEY=VALUE pairs merged per key across sources (tags); `strings` = a repeatable plain
 * value whose highest-precedence source wins whole (CLI list, else env comma list, else TOML array).
 */
export type OptionType = "string" | "boolean" | "number" | "integer" | "list" | "strings";

export interface OptionDef {
  /** Key in the resolved settings object and long flag name (`--${name}`). */
  readonly name: string;
  readonly short?: string;
  readonly type: OptionType;
  readonly env?: string;
  /** TOML keys, first is canonical; later ones are accepted aliases (R's `tracker.interval_secs`). */
  readonly toml?: readonly string[];
  readonly default?: string | number | boolean;
  readonly metavar?: string;
  readonly help: string;
  /** Validates and normalises a value; throws a plain message, the caller adds where it came from. */
  readonly check?: (value: unknown) => unknown;
  /** Options only read from the command line (e.g. `--config` itself). */
  readonly cliOnly?: boolean;
}

/** Longest interval or timeout: one day, well inside a timer's 2^31-1 ms (about 24.8 days). */
export const MAX_SECONDS = 86_400;

function number(v: unknown): number {
  return String(v).trim() === "" ? NaN : typeof v === "number" ? v : Number(String(v).trim());
}

/** Seconds in [min, MAX_SECONDS]. */
export function seconds(min: number): (v: unknown) => number {
  return (v) => {
    const n = number(v);
    if (!Number.isFinite(n) || n < min) {
      throw new Error(`expected seconds >= ${min}, got ${JSON.stringify(v)}`);
    }
    if (n > MAX_SECONDS) {
      throw new Error(`expected seconds <= ${MAX_SECONDS}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

/** A finite number >= min. */
export function atLeast(min: number, what = "a number"): (v: unknown) => number {
  return (v) => {
    const n = number(v);
    if (!Number.isFinite(n) || n < min) {
      throw new Error(`expected ${what} >= ${min}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

/** A whole number in [min, max], described as `what` in the error. */
export function wholeNumber(min: number, max: number, what: string): (v: unknown) => number {
  return (v) => {
    const n = number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`expected ${what}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

/** One of `values`, case-insensitive, returned in lower case. */
export function oneOf(values: readonly string[]): (v: unknown) => string {
  return (v) => {
    const s = String(v).trim().toLowerCase();
    if (!values.includes(s)) {
      throw new Error(`expected one of ${values.join(", ")}, got ${JSON.stringify(v)}`);
    }
    return s;
  };
}

/** A variable name (`[A-Za-z_][A-Za-z0-9_]*`). */
export function envName(v: unknown): string {
  const s = String(v).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) {
    throw new Error(`expected an environment variable name, got ${JSON.stringify(v)}`);
  }
  return s;
}

const BINARY = " KMGT";

/**
 * Bytes with an optional binary suffix (`1048576`, `512K`, `10M`, `1G`, `2T`; a trailing `B` or
 * `iB` is allowed), at least `min` bytes; `examples` goes into the error.
 */
export function size(min: number, examples: string): (v: unknown) => number {
  return (v) => {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?\s*$/i.exec(String(v));
    const n = m ? Number(m[1]) * 1024 ** BINARY.indexOf((m[2] || " ").toUpperCase()) : NaN;
    if (!Number.isFinite(n) || n < min) {
      throw new Error(`expected a size of at least ${examples}, got ${JSON.stringify(v)}`);
    }
    return Math.floor(n);
  };
}
