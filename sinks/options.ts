/** The sink options, spread into OPTIONS (core/options.ts). */
import type { OptionDef } from "../core/options.ts";

/** Longest interval or timeout: one day, well inside a timer's 2^31-1 ms (about 24.8 days). */
const MAX_SECONDS = 86_400;

function seconds(min: number) {
  return (v: unknown): number => {
    const n = typeof v === "number" ? v : Number(String(v).trim());
    if (String(v).trim() === "" || !Number.isFinite(n) || n < min) {
      throw new Error(`expected seconds >= ${min}, got ${JSON.stringify(v)}`);
    }
    if (n > MAX_SECONDS) {
      throw new Error(`expected seconds <= ${MAX_SECONDS}, got ${JSON.stringify(v)}`);
    }
    return n;
  };
}

const UNITS: Record<string, number> = { "": 1, k: 1 << 10, m: 1 << 20, g: 1 << 30 };

/** `1048576`, `512K`, `10M`, `1G` (binary units; a trailing `B`/`iB` is allowed) → bytes. */
export function parseSize(v: unknown): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(String(v));
  const n = m ? Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!Number.isFinite(n) || n < 4096) {
    throw new Error(`expected a size of at least 4K such as 10M or 1G, got ${JSON.stringify(v)}`);
  }
  return n;
}

function count(v: unknown): number {
  const n = typeof v === "number" ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < 0 || n > 1000) {
    throw new Error(`expected a whole number 0-1000, got ${JSON.stringify(v)}`);
  }
  return n;
}

function envName(v: unknown): string {
  const s = String(v).trim();
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) {
    throw new Error(`expected an environment variable name, got ${JSON.stringify(v)}`);
  }
  return s;
}

export const SINK_OPTIONS: readonly OptionDef[] = [
  {
    name: "sink",
    type: "strings",
    env: "TRACKER_SINKS",
    toml: ["tracker.sinks", "sinks"],
    metavar: "URI",
    help:
      "Also send samples to URI; repeatable: stdout, stderr, a file (.jsonl/.csv, +.gz/.zst), s3://BUCKET/PREFIX, http(s)://URL, otlp+http(s)://HOST:4318 or prometheus+remote-write://HOST:PORT/api/v1/write. The variable takes a comma-separated list.",
  },
  {
    name: "max-size",
    type: "string",
    env: "TRACKER_MAX_SIZE",
    toml: ["tracker.max_size"],
    metavar: "SIZE",
    help: "Rotate output files before they pass SIZE (e.g. 100M).",
    check: parseSize,
  },
  {
    name: "max-files",
    type: "integer",
    env: "TRACKER_MAX_FILES",
    toml: ["tracker.max_files"],
    default: 5,
    metavar: "N",
    help: "Rotated files to keep besides the current one.",
    check: count,
  },
  {
    name: "upload-interval",
    type: "number",
    env: "TRACKER_UPLOAD_INTERVAL",
    toml: ["tracker.upload_interval"],
    default: 60,
    metavar: "SECS",
    help: "Seconds between batch uploads (S3, HTTP, Sentinel).",
    check: seconds(0.1),
  },
  {
    name: "spool-dir",
    type: "string",
    env: "TRACKER_SPOOL_DIR",
    toml: ["tracker.spool_dir"],
    metavar: "DIR",
    help:
      "Where undelivered batches are kept (default ${XDG_STATE_HOME:-~/.local/state}/resource-tracker/spool).",
  },
  {
    name: "flush-timeout",
    type: "number",
    env: "TRACKER_FLUSH_TIMEOUT",
    toml: ["tracker.flush_timeout"],
    default: 10,
    metavar: "SECS",
    help: "At exit, seconds to deliver pending batches before keeping them in the spool.",
    check: seconds(0),
  },
  {
    name: "http-token-env",
    type: "string",
    env: "TRACKER_HTTP_TOKEN_ENV",
    toml: ["tracker.http_token_env"],
    default: "TRACKER_HTTP_TOKEN",
    metavar: "NAME",
    help: "Environment variable holding the bearer token for http(s) sinks.",
    check: envName,
  },
  {
    name: "list",
    type: "boolean",
    help:
      "With `flush`: list what the spool holds (run, sink, batch, samples, age, last error) and exit.",
    cliOnly: true,
  },
  {
    name: "drop",
    type: "strings",
    metavar: "ID",
    help:
      "With `flush`: remove a spooled job (`JOB`) or one batch (`JOB/SEQ`) as `--list` shows it; repeatable.",
    cliOnly: true,
  },
  {
    name: "all-rejected",
    type: "boolean",
    help: "With `flush`: remove every batch the receiver rejected for good (a 4xx answer).",
    cliOnly: true,
  },
];
