/**
 * Helpers for the live-view tests: the CLI with `--listen` (its URL read from the line it
 * prints), free loopback ports, a real Prometheus, and skipping when a tool is missing.
 */
import { sleep } from "../../base/time.ts";
import { command } from "../helpers.ts";
import { closedPort } from "./loopback.ts";

/** The path of a Debian tool, or null (the caller skips and says why). */
export function which(tool: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      const p = `${dir}/${tool}`;
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

/** Registers a test that is skipped (with its reason printed) when `tool` is missing. */
export function testWith(
  tools: string[],
  name: string,
  fn: (paths: Record<string, string>) => Promise<void>,
): void {
  const paths: Record<string, string> = {};
  const missing = tools.filter((t) => {
    const p = which(t);
    if (p) paths[t] = p;
    return !p;
  });
  if (missing.length > 0) {
    console.log(`SKIP ${name}: ${missing.join(", ")} not installed (.ci/install_test_tools.sh)`);
  }
  Deno.test({ name, ignore: missing.length > 0, fn: () => fn(paths) });
}

export interface Served {
  url: string;
  child: Deno.ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Stops the tracker (SIGTERM) and returns its exit code and output. */
  stop(signal?: Deno.Signal): Promise<{ code: number; stderr: string; stdout: string }>;
}

/** Starts the CLI with `args` (which include `--listen`) and waits for its "serving" line. */
export async function serveCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 60_000,
): Promise<Served> {
  const child = command(args, { env }).spawn();
  const dec = new TextDecoder();
  let err = "", out = "";
  const errDone = (async () => {
    for await (const chunk of child.stderr) err += dec.decode(chunk, { stream: true });
  })();
  const outDone = (async () => {
    for await (const chunk of child.stdout) out += dec.decode(chunk, { stream: true });
  })();
  const status = child.status;
  let exited = false;
  status.then(() => exited = true);
  const t0 = Date.now();
  let url: string | null = null;
  while (!url) {
    const m = /serving (http:\/\/\S+\/)/.exec(err);
    if (m) url = m[1]!;
    else if (exited || Date.now() - t0 > timeoutMs) {
      await status;
      await errDone;
      throw new Error(`the tracker did not start serving: ${err}`);
    } else await sleep(50);
  }
  return {
    url,
    child,
    stderr: () => err,
    async stop(signal: Deno.Signal = "SIGTERM") {
      if (!exited) {
        try {
          child.kill(signal);
        } catch { /* gone */ }
      }
      const st = await status;
      await errDone;
      await outDone;
      return { code: st.code, stderr: err, stdout: out };
    },
  };
}

/** Polls `fn` until it returns a value other than null/undefined, or throws on timeout. */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | null | undefined>,
  timeoutMs = 60_000,
  stepMs = 250,
): Promise<T> {
  const t0 = Date.now();
  let last: unknown = null;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v !== null && v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(stepMs);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

export interface Prometheus {
  url: string;
  query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

/**
 * A real Prometheus on loopback with temporary storage; `scrape` targets are scraped every
 * second; `remoteWrite` turns on its remote-write receiver.
 */
export async function startPrometheus(
  bin: string,
  o: { scrape?: { target: string; bearer?: string }[]; remoteWrite?: boolean; port?: number },
): Promise<Prometheus> {
  const dir = await Deno.makeTempDir({ prefix: "rt-prom-" });
  const jobs = (o.scrape ?? []).map((s, i) =>
    [
      `  - job_name: tracker${i}`,
      `    scrape_interval: 1s`,
      `    scrape_timeout: 1s`,
      ...(s.bearer ? [`    authorization:`, `      credentials: ${s.bearer}`] : []),
      `    static_configs:`,
      `      - targets: ["${s.target}"]`,
    ].join("\n")
  );
  await Deno.writeTextFile(
    `${dir}/prometheus.yml`,
    `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${
      jobs.join("\n") || "  []"
    }\n`,
  );
  const port = o.port ?? closedPort();
  const child = new Deno.Command(bin, {
    args: [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${port}`,
      ...(o.remoteWrite ? ["--web.enable-remote-write-receiver"] : []),
    ],
    stdout: "null",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let log = "";
  const logDone = (async () => {
    const dec = new TextDecoder();
    for await (const c of child.stderr) log += dec.decode(c, { stream: true });
  })();
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* gone */ }
    await child.status;
    await logDone;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await eventually(
      "Prometheus to be ready",
      async () => {
        const r = await fetch(`${url}/-/ready`);
        await r.body?.cancel();
        return r.ok ? true : null;
      },
      90_000,
      300,
    );
  } catch (err) {
    await stop();
    throw new Error(`${err}\n${log.slice(-2000)}`);
  }
  return {
    url,
    async query(q) {
      const r = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(q)}`);
      const j = await r.json();
      if (j.status !== "success") throw new Error(JSON.stringify(j));
      return j.data.result;
    },
    stop,
  };
}
