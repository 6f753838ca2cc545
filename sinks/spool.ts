/**
 * The spool: batches that could not be delivered yet, kept on disk so nothing is lost when
 * memory gets tight, the endpoint is down, or the tracker dies. Layout:
 *
 *   <root>/<job id>/job.json        where the batches go (never a secret: tokens come from the
 *                                   caller's environment and options at `flush` time)
 *   <root>/<job id>/000042.csv.gz   one ready-to-send body per batch, named by its sequence
 *   <root>/<job id>/owner           pid and start time of the tracker that wrote this job
 *   <root>/<job id>/lock            flock(2)ed by whoever works on the job (tracker or flush)
 *
 * Trust: the root and every job directory must be owned by the caller and writable by no one
 * else, and every file is read without following symlinks, owned by the caller, regular and
 * bounded (core/safe_fs.ts). Nothing in a spool another user could write is ever used.
 * Directories are 0700 and files 0600; files are written to a fresh name (O_EXCL), fsynced and
 * renamed into place, so a reader never sees half a batch.
 */
import { readOwnedFile, tryLock, unlock, untrustedDir } from "../base/safe_fs.ts";
import { join } from "../base/path.ts";
import { errorText } from "../base/errors.ts";

/** POSIX path join (not node:path: loading any node: module costs 15–20 ms of start-up). */

/** Largest batch file read back (bodies are cut at 4 MiB of raw text, compressed). */
export const MAX_BATCH_FILE_BYTES = 64 << 20;
/** Largest job.json / owner file read back. */
export const MAX_META_BYTES = 1 << 20;
/** Disk one job may use; past it new batches stay in memory (bounded there too). */
export const MAX_JOB_BYTES = 1 << 30;

/** The file operations the spool uses; tests inject failures (ENOSPC) here. */
export interface SpoolFs {
  /** Creates the directory (0700) if absent; throws unless it is then one the caller can trust. */
  mkdir(path: string): Promise<void>;
  /** Creates a new file (fails if the path exists, even as a symlink), mode 0600, fsynced. */
  writeNew(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** A regular file owned by the caller, not through a symlink, at most `maxBytes`. */
  readFile(path: string, maxBytes?: number): Promise<Uint8Array>;
  remove(path: string): Promise<void>;
  readDir(path: string): Promise<string[]>;
  /** lstat, or null when the path does not exist. */
  lstat(path: string): Promise<Deno.FileInfo | null>;
  /** An exclusive non-blocking lock: a handle, or null when someone else holds it. */
  lock(path: string): number | null;
  unlock(handle: number): void;
}

/** Throws one line naming the directory when the caller cannot trust it. */
function checkDir(path: string, info: Deno.FileInfo): void {
  const why = untrustedDir(info);
  if (why) throw new Error(`spool directory "${path}" refused, ${why}`);
}

export const DENO_FS: SpoolFs = {
  async mkdir(path) {
    let info = await DENO_FS.lstat(path);
    if (info === null) {
      // Only what we create is given our mode: an existing directory is checked, never chmod'ed.
      await Deno.mkdir(path, { recursive: true, mode: 0o700 });
      info = await Deno.lstat(path);
    }
    checkDir(path, info);
  },
  async writeNew(path, data) {
    const f = await Deno.open(path, { write: true, createNew: true, mode: 0o600 });
    try {
      let rest = data;
      while (rest.length > 0) rest = rest.subarray(await f.write(rest));
      await f.sync();
    } finally {
      f.close();
    }
  },
  rename: (from, to) => Deno.rename(from, to),
  readFile(path, maxBytes = MAX_BATCH_FILE_BYTES) {
    try {
      return Promise.resolve(readOwnedFile(path, maxBytes));
    } catch (err) {
      return Promise.reject(err);
    }
  },
  remove: (path) => Deno.remove(path, { recursive: true }),
  async readDir(path) {
    const out: string[] = [];
    for await (const e of Deno.readDir(path)) out.push(e.name);
    return out;
  },
  async lstat(path) {
    try {
      return await Deno.lstat(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  },
  lock: (path) => tryLock(path),
  unlock: (h) => unlock(h),
};

/** `$TRACKER_SPOOL_DIR`, else `${XDG_STATE_HOME:-~/.local/state}/resource-tracker/spool`. */
export function defaultSpoolDir(env: (name: string) => string | undefined): string {
  const state = env("XDG_STATE_HOME") || join(env("HOME") || "/tmp", ".local", "state");
  return join(state, "resource-tracker", "spool");
}

const BATCH_RE = /^(\d{6,})\.([a-z.]+)$/;

export interface SpooledBatch {
  seq: number;
  path: string;
  /** Samples in the batch, from job.json (0 if unknown). */
  samples: number;
}

export interface JobMeta {
  version: 1;
  kind: string;
  /** File extension of the batch bodies (`csv.gz`, `jsonl.gz`). */
  ext: string;
  /** Sample counts by sequence number, for reports. */
  counts?: Record<string, number>;
  /** Why each kept batch is not delivered yet (`flush --list`). */
  errors?: Record<string, BatchError>;
  /** Why the job as a whole is kept (e.g. its run is not registered yet). */
  lastError?: BatchError;
  [key: string]: unknown;
}

export interface BatchError {
  reason: string;
  /** Refused for good by the receiver (4xx): `flush --drop --all-rejected` removes it. */
  rejected: boolean;
  /** Unix ms. */
  at: number;
}

/** Start time of a process (clock ticks after boot, /proc/PID/stat field 22), or null. */
export function startTimeOf(pid: number): number | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const t = Number(f[19]);
    return Number.isFinite(t) ? t : null;
  } catch {
    return null;
  }
}

/** One sink's spool directory, created lazily on the first write. */
export class SpoolJob {
  readonly dir: string;
  #created = false;
  #meta: JobMeta;
  #lock: number | null = null;
  #bytes = 0;

  constructor(
    readonly root: string,
    readonly id: string,
    meta: JobMeta,
    private readonly fs: SpoolFs = DENO_FS,
    existing = false,
    lock: number | null = null,
  ) {
    this.dir = join(root, id);
    this.#meta = meta;
    this.#created = existing;
    this.#lock = lock;
  }

  get meta(): JobMeta {
    return this.#meta;
  }

  /** Creates the job directory and takes its lock (done by the first `put`). */
  async create(): Promise<void> {
    if (this.#created) return;
    await this.fs.mkdir(this.root);
    await this.fs.mkdir(this.dir);
    try {
      this.#lock ??= this.fs.lock(join(this.dir, "lock"));
    } catch { /* no flock here: the owner file is the fallback */ }
    const start = startTimeOf(Deno.pid);
    await this.#writeAtomic("owner", new TextEncoder().encode(`${Deno.pid} ${start ?? ""}\n`));
    this.#created = true;
    await this.saveMeta(this.#meta);
  }

  async #writeAtomic(name: string, data: Uint8Array): Promise<string> {
    const final = join(this.dir, name);
    const tmp = join(this.dir, `.${name}.${crypto.randomUUID().slice(0, 8)}.tmp`);
    try {
      await this.fs.writeNew(tmp, data);
      await this.fs.rename(tmp, final);
    } catch (err) {
      await this.fs.remove(tmp).catch(() => {});
      throw err;
    }
    return final;
  }

  async saveMeta(meta: JobMeta): Promise<void> {
    this.#meta = meta;
    if (!this.#created) return; // written with the first batch
    await this.#writeAtomic("job.json", new TextEncoder().encode(JSON.stringify(meta) + "\n"));
  }

  /** Writes one batch body (fsynced); returns its path. */
  async put(seq: number, body: Uint8Array, samples: number): Promise<string> {
    if (this.#bytes + body.length > MAX_JOB_BYTES) {
      throw new Error(`spool limit of ${MAX_JOB_BYTES >> 20} MiB for this job reached`);
    }
    await this.create();
    const path = await this.#writeAtomic(batchName(seq, this.#meta.ext), body);
    this.#bytes += body.length;
    this.#meta = { ...this.#meta, counts: { ...this.#meta.counts, [seq]: samples } };
    await this.saveMeta(this.#meta);
    return path;
  }

  read(path: string): Promise<Uint8Array> {
    return this.fs.readFile(path, MAX_BATCH_FILE_BYTES);
  }

  async drop(seq: number, path: string): Promise<void> {
    await this.fs.remove(path).catch(() => {});
    const counts = { ...this.#meta.counts };
    delete counts[seq];
    const errors = { ...this.#meta.errors };
    delete errors[seq];
    this.#meta = { ...this.#meta, counts, errors };
  }

  /** Records why batches are kept (seq → reason); saved with the job's metadata, once. */
  async noteErrors(notes: readonly [number, string, boolean][]): Promise<void> {
    if (notes.length === 0) return;
    const errors = { ...this.#meta.errors };
    const at = Date.now();
    for (const [seq, reason, rejected] of notes) errors[seq] = { reason, rejected, at };
    await this.saveMeta({ ...this.#meta, errors });
  }

  /** Whether anything of this job is on disk. */
  get exists(): boolean {
    return this.#created;
  }

  /** Releases ownership: removes the whole job when nothing is left, else only `owner`. */
  async release(keep: boolean): Promise<void> {
    if (this.#created) {
      if (keep) {
        await this.saveMeta(this.#meta).catch(() => {});
        await this.fs.remove(join(this.dir, "owner")).catch(() => {});
      } else {
        await this.fs.remove(this.dir).catch(() => {});
        this.#created = false;
      }
    }
    if (this.#lock !== null) this.fs.unlock(this.#lock);
    this.#lock = null;
  }

  /** Batches on disk, by sequence number. */
  async batches(): Promise<SpooledBatch[]> {
    if (!this.#created) return [];
    const out: SpooledBatch[] = [];
    for (const name of await this.fs.readDir(this.dir)) {
      const m = BATCH_RE.exec(name);
      if (!m) continue;
      const seq = Number(m[1]);
      const samples = Number(this.#meta.counts?.[seq] ?? 0);
      out.push({
        seq,
        path: join(this.dir, name),
        samples: Number.isFinite(samples) ? samples : 0,
      });
    }
    return out.sort((a, b) => a.seq - b.seq);
  }
}

export function batchName(seq: number, ext: string): string {
  return `${String(seq).padStart(6, "0")}.${ext}`;
}

/** A new job id: kind, UTC time, pid and randomness; nothing secret. */
export function newJobId(kind: string, nowMs = Date.now()): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${kind}-${stamp}-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface FoundJob {
  job: SpoolJob;
  batches: SpooledBatch[];
}

/** A job directory `flush` cannot send: why, and how many batch files it holds. */
export interface LeftJob {
  id: string;
  dir: string;
  problem: string;
  batches: number;
}

export interface SpoolScan {
  jobs: FoundJob[];
  left: LeftJob[];
}

/**
 * The job kinds a spool may hold and their batch extensions: the registry's `SPOOLED`
 * (sinks/registry.ts), passed in so this file needs no list of its own.
 */
export type SpoolKinds = ReadonlyMap<string, readonly string[]>;

/** Checks the shape of a parsed job.json; a reason when it is not one of ours. */
function badMeta(meta: unknown, kinds: SpoolKinds): string | null {
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) return "not an object";
  const m = meta as Record<string, unknown>;
  if (m.version !== 1) return `unknown version ${JSON.stringify(m.version)}`;
  if (typeof m.kind !== "string" || !kinds.has(m.kind)) {
    return `unknown kind ${JSON.stringify(m.kind)}`;
  }
  const exts = new Set([...kinds.values()].flat());
  if (typeof m.ext !== "string" || !exts.has(m.ext)) return `unknown ext ${JSON.stringify(m.ext)}`;
  if (m.counts !== undefined && (m.counts === null || typeof m.counts !== "object")) {
    return "bad counts";
  }
  return null;
}

/** Whether the owner file names a process that still runs (same pid and start time). */
async function ownerAlive(fs: SpoolFs, dir: string): Promise<number | null> {
  try {
    const text = new TextDecoder().decode(await fs.readFile(join(dir, "owner"), MAX_META_BYTES));
    const [pid, start] = text.trim().split(/\s+/).map(Number);
    if (!Number.isInteger(pid) || pid === Deno.pid) return null;
    const now = startTimeOf(pid!);
    // An owner without a recorded start time (an older tracker) counts as alive while its
    // pid runs; with one, only the very same process does (not a reused pid, not PID 1 of the
    // next container).
    if (now === null || (start !== undefined && Number.isFinite(start) && now !== start)) {
      return null;
    }
    return pid!;
  } catch {
    return null;
  }
}

/**
 * Jobs left in the spool by earlier runs, each locked for the caller (release them), and the
 * job directories that cannot be sent, with why. Throws when the root itself is untrusted.
 */
export async function scanSpool(
  root: string,
  kinds: SpoolKinds,
  fs: SpoolFs = DENO_FS,
): Promise<SpoolScan> {
  const rootInfo = await fs.lstat(root);
  if (rootInfo === null) return { jobs: [], left: [] };
  checkDir(root, rootInfo);
  const jobs: FoundJob[] = [];
  const left: LeftJob[] = [];
  for (const id of (await fs.readDir(root)).sort()) {
    const dir = join(root, id);
    const info = await fs.lstat(dir).catch(() => null);
    if (info === null || id.startsWith(".")) continue;
    const count = async () => {
      try {
        return (await fs.readDir(dir)).filter((n) => BATCH_RE.test(n)).length;
      } catch {
        return 0;
      }
    };
    const leave = async (problem: string) =>
      void left.push({ id, dir, problem, batches: info.isDirectory ? await count() : 0 });
    const why = untrustedDir(info);
    if (why) {
      await leave(`${why}; not touched`);
      continue;
    }
    let lock: number | null = null;
    try {
      lock = fs.lock(join(dir, "lock"));
      if (lock === null) {
        await leave("in use by a running tracker or another `flush`");
        continue;
      }
    } catch (err) {
      if (!/libc is not available/.test(String(err))) {
        await leave(`cannot lock: ${errorText(err)}`);
        continue;
      }
      const pid = await ownerAlive(fs, dir);
      if (pid !== null) {
        await leave(`in use by a running tracker (pid ${pid})`);
        continue;
      }
    }
    let meta: unknown;
    try {
      const raw = await fs.readFile(join(dir, "job.json"), MAX_META_BYTES);
      meta = JSON.parse(new TextDecoder().decode(raw));
    } catch (err) {
      if (lock !== null) fs.unlock(lock);
      const missing = (err as { errno?: number }).errno === 2;
      await leave(
        missing ? "job.json is missing" : `job.json unreadable (${errorText(err)})`,
      );
      continue;
    }
    const bad = badMeta(meta, kinds);
    if (bad) {
      if (lock !== null) fs.unlock(lock);
      await leave(`job.json is not a spool job (${bad})`);
      continue;
    }
    const job = new SpoolJob(root, id, meta as JobMeta, fs, true, lock);
    jobs.push({ job, batches: await job.batches() });
  }
  return { jobs, left };
}

/** The jobs of `scanSpool` that can be used (trusted, parsed, and locked for this process). */
export async function findJobs(
  root: string,
  kinds: SpoolKinds,
  fs: SpoolFs = DENO_FS,
): Promise<FoundJob[]> {
  return (await scanSpool(root, kinds, fs)).jobs;
}
