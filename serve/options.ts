/** Options of the live views (`--listen`, `--live`), spread into OPTIONS (cli/options.ts). */
import type { OptionDef } from "../base/option.ts";

export const LISTEN_TOKEN_ENV = "TRACKER_LISTEN_TOKEN";

export interface ListenAddress {
  hostname: string;
  port: number;
  loopback: boolean;
}

/** `PORT`, `:PORT`, `HOST:PORT` or `[IPv6]:PORT`; no host means 127.0.0.1. */
export function parseListen(v: unknown): ListenAddress {
  const s = String(v).trim();
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]*):)?(\d{1,5})$/.exec(s);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new Error(
      `expected [HOST:]PORT such as 127.0.0.1:9464 or :9464, got ${JSON.stringify(v)}`,
    );
  }
  const host = (m[1] ?? "").replace(/^\[|\]$/g, "") || "127.0.0.1";
  const loopback = host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
  return { hostname: host, port, loopback };
}

export const LIVE_OPTIONS: readonly OptionDef[] = [
  {
    name: "listen",
    type: "string",
    env: "TRACKER_LISTEN",
    toml: ["tracker.listen"],
    metavar: "ADDR",
    help:
      `Serve /metrics (Prometheus), a live dashboard at / and /api/* on [HOST:]PORT (loopback unless HOST is given; beyond loopback $${LISTEN_TOKEN_ENV} must hold a bearer token).`,
    check: (v) => {
      parseListen(v);
      return String(v).trim();
    },
  },
  {
    name: "live",
    type: "boolean",
    env: "TRACKER_LIVE",
    toml: ["tracker.live"],
    default: false,
    help:
      "Show a compact view on the terminal, redrawn each interval; samples then go only to --output/--sink.",
  },
];
