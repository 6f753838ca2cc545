/**
 * NVIDIA through `nvidia-smi` when NVML cannot be loaded: pure parsers for its CSV and `pmon`
 * output, a runner with a hard timeout that kills the whole process group, and `SmiSource`,
 * which refreshes in the background (one child at a time) and backs off when it keeps failing.
 */
import { SPAWNED } from "../../base/spawned.ts";
import type { GpuSample } from "../../base/sample.ts";
import { MIB, type NvidiaSnapshot, usedPct } from "./process_gpu.ts";
import { errorText } from "../../base/errors.ts";

export const QUERY_GPU_FIELDS =
  "index,uuid,name,utilization.gpu,memory.total,memory.used,temperature.gpu,power.draw,clocks.gr,driver_version,pci.bus_id";
export const QUERY_GPU_ARGS = [`--query-gpu=${QUERY_GPU_FIELDS}`, "--format=csv,noheader,nounits"];
export const QUERY_APPS_ARGS = [
  "--query-compute-apps=pid,gpu_uuid,used_memory",
  "--format=csv,noheader,nounits",
];
/** One utilisation sample (`-s u`): columns gpu, pid, type, sm, mem, enc, dec, … command. */
export const PMON_ARGS = ["pmon", "-c", "1", "-s", "u"];

/** `[N/A]`, `[Not Supported]`, `N/A`, `-`, empty: no value. */
function missing(field: string): boolean {
  return field === "" || field === "-" || field.startsWith("[") || field === "N/A";
}

function num(field: string | undefined): number | undefined {
  if (field === undefined || missing(field)) return undefined;
  if (!/^-?\d+(\.\d+)?$/.test(field)) return undefined;
  const n = Number(field);
  return Number.isFinite(n) ? n : undefined;
}

function text(field: string | undefined): string | undefined {
  return field === undefined || missing(field) ? undefined : field;
}

/** Lines of `--query-gpu` output as samples; malformed lines are skipped. */
export function parseQueryGpu(out: string): GpuSample[] {
  const devices: GpuSample[] = [];
  for (const line of out.split("\n")) {
    const f = line.split(",").map((s) => s.trim());
    if (f.length !== 11) continue;
    const [index, uuid, name, util, total, used, temp, power, clock, driver, bus] = f;
    if (index === undefined || !/^\d+$/.test(index)) continue;
    const detail: Record<string, string> = {};
    const driverVersion = text(driver);
    const busId = text(bus);
    if (driverVersion !== undefined) detail.driver_version = driverVersion;
    if (busId !== undefined) detail.pci_bus_id = busId;
    const totalBytes = Math.trunc((num(total) ?? 0) * MIB);
    const usedBytes = Math.trunc((num(used) ?? 0) * MIB);
    devices.push({
      uuid: text(uuid) ?? `nvidia-${index}`,
      name: text(name) ?? "NVIDIA GPU",
      device_type: "GPU",
      host_id: index,
      detail,
      utilization_pct: num(util) ?? 0,
      vram_total_bytes: totalBytes,
      vram_used_bytes: usedBytes,
      vram_used_pct: usedPct(usedBytes, totalBytes),
      temperature_celsius: Math.trunc(num(temp) ?? 0),
      power_watts: num(power) ?? 0,
      frequency_mhz: Math.trunc(num(clock) ?? 0),
      core_count: null,
    });
  }
  return devices;
}

export interface SmiApp {
  pid: number;
  uuid: string;
  /** Bytes, null when nvidia-smi prints `[N/A]` (no permission, some containers). */
  usedBytes: number | null;
}

/** Lines of `--query-compute-apps=pid,gpu_uuid,used_memory` output. */
export function parseComputeApps(out: string): SmiApp[] {
  const apps: SmiApp[] = [];
  for (const line of out.split("\n")) {
    const f = line.split(",").map((s) => s.trim());
    if (f.length !== 3) continue;
    const [pid, uuid, used] = f;
    if (pid === undefined || !/^\d+$/.test(pid) || uuid === undefined || missing(uuid)) continue;
    if (!Number.isSafeInteger(Number(pid))) continue;
    const mib = num(used);
    apps.push({ pid: Number(pid), uuid, usedBytes: mib === undefined ? null : mib * MIB });
  }
  return apps;
}

export interface PmonRow {
  gpu: number;
  pid: number;
  sm: number;
}

/** `pmon -s u` rows with a numeric SM percent; header (`#`) and idle (`-`) rows are skipped. */
export function parsePmon(out: string): PmonRow[] {
  const rows: PmonRow[] = [];
  for (const line of out.split("\n")) {
    if (line.trimStart().startsWith("#")) continue;
    const f = line.trim().split(/\s+/);
    const [gpu, pid, , sm] = f;
    if (gpu === undefined || pid === undefined || sm === undefined) continue;
    if (!/^\d+$/.test(gpu) || !/^\d+$/.test(pid) || !/^\d+(\.\d+)?$/.test(sm)) continue;
    const row = { gpu: Number(gpu), pid: Number(pid), sm: Number(sm) };
    if (Number.isSafeInteger(row.gpu) && Number.isSafeInteger(row.pid) && Number.isFinite(row.sm)) {
      rows.push(row);
    }
  }
  return rows;
}

/** Joins the three outputs: apps by GPU UUID, pmon rows by GPU index. */
export function smiSnapshot(
  devices: GpuSample[],
  apps: SmiApp[],
  pmon: PmonRow[],
): NvidiaSnapshot {
  return {
    devices: devices.map((sample) => {
      const byPid = new Map<number, number | null>();
      for (const a of apps) {
        if (a.uuid !== sample.uuid) continue;
        const prev = byPid.get(a.pid);
        if (prev === undefined || prev === null) byPid.set(a.pid, a.usedBytes);
        else if (a.usedBytes !== null) byPid.set(a.pid, prev + a.usedBytes);
      }
      const sm = new Map<number, number>();
      for (const r of pmon) if (String(r.gpu) === sample.host_id) sm.set(r.pid, r.sm);
      return {
        sample,
        processes: [...byPid].map(([pid, usedBytes]) => ({ pid, usedBytes })),
        sm,
      };
    }),
  };
}

export type RunResult =
  | { ok: true; stdout: string }
  | { ok: false; reason: string; notFound?: boolean };

/** The most output one nvidia-smi call may give (a few KiB normally, per GPU and process). */
export const MAX_OUTPUT_BYTES = 4 << 20;

/** Reads a stream up to MAX_OUTPUT_BYTES; past that calls `over` and drops the rest. */
async function readCapped(s: ReadableStream<Uint8Array>, over: () => void): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of s) {
    if (size + c.byteLength > MAX_OUTPUT_BYTES) {
      over();
      continue; // keep draining so the child is not blocked on a full pipe before it dies
    }
    chunks.push(c);
    size += c.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** `child.output()` with a ceiling on what is kept of stdout and stderr. */
async function collect(child: Deno.ChildProcess, over: () => void) {
  const [stdout, stderr, status] = await Promise.all([
    readCapped(child.stdout, over),
    readCapped(child.stderr, over),
    child.status,
  ]);
  return { success: status.success, code: status.code, stdout, stderr };
}

/**
 * Runs a command with a hard timeout. The child gets its own process group (`detached`) so
 * that the timeout kills it and anything it started; stdin is closed, LC_ALL=C for '.' decimals.
 */
export async function runCommand(
  cmd: string,
  args: string[],
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RunResult> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { LC_ALL: "C" },
      detached: true,
    }).spawn();
    SPAWNED.add(child.pid);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { ok: false, reason: "not found", notFound: true };
    }
    return { ok: false, reason: errorText(e) };
  }
  const pid = child.pid;
  let killed: string | undefined;
  const output = collect(child, () => kill(`output over ${MAX_OUTPUT_BYTES} bytes`))
    .finally(() => SPAWNED.delete(pid));
  // A grandchild that left our process group could hold the pipes open: stop waiting then.
  let abandon = () => {};
  const abandoned = new Promise<undefined>((resolve) => (abandon = () => resolve(undefined)));
  let grace: ReturnType<typeof setTimeout> | undefined;
  const kill = (why: string) => {
    if (killed !== undefined) return;
    killed = why;
    grace = setTimeout(abandon, 1000);
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  };
  const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms`), timeoutMs);
  const onAbort = () => kill("stopped");
  signal?.addEventListener("abort", onAbort);
  if (signal?.aborted) onAbort();
  try {
    const out = await Promise.race([output, abandoned]);
    if (out === undefined) {
      output.catch(() => {});
      return { ok: false, reason: `${killed}; its output stayed open` };
    }
    if (killed !== undefined) return { ok: false, reason: killed };
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? "";
      const stdout = new TextDecoder().decode(out.stdout).trim().split("\n")[0] ?? "";
      const msg = (err || stdout).slice(0, 200);
      return { ok: false, reason: `exited with code ${out.code}${msg ? `: ${msg}` : ""}` };
    }
    return { ok: true, stdout: new TextDecoder().decode(out.stdout) };
  } catch (e) {
    return { ok: false, reason: errorText(e) };
  } finally {
    clearTimeout(timer);
    clearTimeout(grace);
    signal?.removeEventListener("abort", onAbort);
  }
}

export interface SmiSourceOptions {
  command: string;
  timeoutMs: number;
  warn: (line: string) => void;
  /** Also run `pmon` for per-process SM% (default true; turned off after it fails twice). */
  pmon?: boolean;
  /** Consecutive failures before nvidia-smi is given up (default 5). */
  maxFailures?: number;
  /** First back-off delay; doubles per consecutive failure up to `backoffMaxMs`. */
  backoffMs?: number;
  backoffMaxMs?: number;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
  /** Test seam: how a command is run. */
  run?: typeof runCommand;
}

/** Background nvidia-smi refreshes; `kick()` never waits, at most one child runs at a time. */
export class SmiSource {
  #o: SmiSourceOptions;
  #now: () => number;
  #run: typeof runCommand;
  #snapshot: NvidiaSnapshot | null = null;
  #inflight: Promise<void> | null = null;
  #abort = new AbortController();
  #failures = 0;
  #notBefore = 0;
  #pmonFailures = 0;
  #off = false;
  #closed = false;
  #present = false;
  #warned = false;
  /** Number of refreshes started (for tests and debugging). */
  runs = 0;

  constructor(opts: SmiSourceOptions) {
    this.#o = opts;
    this.#now = opts.now ?? (() => performance.now());
    this.#run = opts.run ?? runCommand;
  }

  /** One query succeeded at least once. */
  get present(): boolean {
    return this.#present;
  }

  /** Given up after repeated failures (or the command does not exist). */
  get off(): boolean {
    return this.#off;
  }

  snapshot(): NvidiaSnapshot | null {
    return this.#snapshot;
  }

  kick(): void {
    if (this.#off || this.#closed || this.#inflight !== null) return;
    if (this.#now() < this.#notBefore) return;
    this.runs++;
    this.#inflight = this.#refreshOnce().finally(() => {
      this.#inflight = null;
    });
  }

  async refresh(): Promise<void> {
    this.kick();
    if (this.#inflight !== null) await this.#inflight;
  }

  #fail(reason: string, giveUp: boolean): void {
    if (this.#closed) return;
    this.#failures++;
    // One failure may be a blip: keep the last good result; two in a row: it is gone.
    if (this.#failures >= 2) this.#snapshot = null;
    const max = this.#o.maxFailures ?? 5;
    if (giveUp || this.#failures >= max) {
      this.#off = true;
      this.#snapshot = null;
      if (!this.#warned) {
        this.#warned = true;
        this.#o.warn(
          giveUp
            ? `Cannot run "${this.#o.command}": ${reason}; NVIDIA GPU metrics are off for this run`
            : `"${this.#o.command}" failed ${this.#failures} times in a row (${reason}); NVIDIA GPU metrics are off for this run`,
        );
      }
      return;
    }
    const base = this.#o.backoffMs ?? 1000;
    const delay = Math.min(base * 2 ** (this.#failures - 1), this.#o.backoffMaxMs ?? 60_000);
    this.#notBefore = this.#now() + delay;
  }

  async #refreshOnce(): Promise<void> {
    const { command, timeoutMs } = this.#o;
    const signal = this.#abort.signal;
    const gpus = await this.#run(command, QUERY_GPU_ARGS, timeoutMs, signal);
    if (!gpus.ok) return this.#fail(gpus.reason, gpus.notFound === true);
    const devices = parseQueryGpu(gpus.stdout);
    if (devices.length === 0 && gpus.stdout.trim() !== "") {
      return this.#fail("unexpected output", false);
    }
    const apps = await this.#run(command, QUERY_APPS_ARGS, timeoutMs, signal);
    if (!apps.ok) return this.#fail(apps.reason, false);
    let pmon: PmonRow[] = [];
    if ((this.#o.pmon ?? true) && this.#pmonFailures < 2 && devices.length > 0) {
      const p = await this.#run(command, PMON_ARGS, timeoutMs, signal);
      if (p.ok) {
        pmon = parsePmon(p.stdout);
        this.#pmonFailures = 0;
      } else this.#pmonFailures++;
    }
    if (this.#closed) return;
    this.#snapshot = smiSnapshot(devices, parseComputeApps(apps.stdout), pmon);
    this.#failures = 0;
    this.#notBefore = 0;
    this.#present = true;
  }

  /** Kills a running child and waits for it to be reaped. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#abort.abort();
    if (this.#inflight !== null) await this.#inflight;
  }
}
