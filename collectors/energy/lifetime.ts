/**
 * A host's lifetime joules per device, kept across tracker runs and restarts so they can be
 * exposed as monotonic counters. Each run adds what it measured (never a negative amount). The
 * file is replaced atomically (a private temporary file, fsync, rename), created 0600, never
 * written through a symlink, and bounded to MAX_DEVICES entries. A file that does not parse is
 * set aside (renamed `.bad`) rather than trusted or silently zeroed.
 */
import { openPrivateFile } from "../../base/safe_open.ts";

export const MAX_DEVICES = 64;

export interface Lifetime {
  version: 1;
  /** Joules per device since the file was created. */
  devices: Record<string, number>;
  updated_at: string;
}

export function defaultLifetimePath(env: (n: string) => string | undefined): string {
  const base = env("XDG_STATE_HOME") || `${env("HOME") ?? "/tmp"}/.local/state`;
  return `${base}/resource-tracker/energy-lifetime.json`;
}

/** The totals file was not ours to read: renamed to `.bad`, counting starts again. */
class UnparsableLifetime extends Error {
  override name = "UnparsableLifetime";
}

export function readLifetime(path: string): Lifetime {
  let text: string;
  try {
    if (isSymlink(path)) throw new Error(`${path} is a symbolic link; refusing`);
    text = Deno.readTextFileSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { version: 1, devices: {}, updated_at: "" };
    throw err;
  }
  try {
    const v = JSON.parse(text);
    if (v?.version !== 1 || typeof v.devices !== "object" || v.devices === null) throw new Error();
    const devices: Record<string, number> = {};
    for (const [k, j] of Object.entries(v.devices)) {
      if (typeof j === "number" && Number.isFinite(j) && j >= 0) devices[k] = j;
    }
    return { version: 1, devices, updated_at: String(v.updated_at ?? "") };
  } catch {
    Deno.renameSync(path, `${path}.bad`);
    throw new UnparsableLifetime(
      `${path} did not parse; kept as ${path}.bad, counting starts again`,
    );
  }
}

/** Adds a run's joules per device; returns the new totals. */
export function addLifetime(path: string, run: Record<string, number>): Lifetime {
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
  let cur: Lifetime;
  try {
    cur = readLifetime(path);
  } catch (err) {
    if (err instanceof UnparsableLifetime) {
      cur = { version: 1, devices: {}, updated_at: "" };
    } else throw err;
  }
  const devices = { ...cur.devices };
  for (const [k, j] of Object.entries(run)) {
    if (!(Number.isFinite(j) && j >= 0)) continue; // monotonic: nothing negative, nothing NaN
    if (!(k in devices) && Object.keys(devices).length >= MAX_DEVICES) continue;
    devices[k] = (devices[k] ?? 0) + j;
  }
  const next: Lifetime = { version: 1, devices, updated_at: new Date().toISOString() };
  const tmp = `${path}.tmp-${Deno.pid}`;
  const f = openPrivateFile(tmp);
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(next) + "\n");
    let off = 0;
    while (off < bytes.length) off += f.writeSync(bytes.subarray(off));
    f.syncSync();
  } finally {
    f.close();
  }
  if (isSymlink(path)) {
    Deno.removeSync(tmp);
    throw new Error(`${path} is a symbolic link; refusing`);
  }
  Deno.renameSync(tmp, path);
  return next;
}

function isSymlink(path: string): boolean {
  try {
    return Deno.lstatSync(path).isSymlink;
  } catch {
    return false;
  }
}
