/**
 * The spool: batches that could not be delivered yet, kept on disk so nothing is lost when
 * memory gets tight or the tracker exits. Layout:
 *
 *   <root>/<job id>/job.json        where the batches go (never a secret: tokens come from the
 *                                   environment again at `flush` time)
 *   <root>/<job id>/000042.csv.gz   one ready-to-send body per batch, named by its sequence
 *   <root>/<job id>/owner           pid of the tracker still writing this job
 *
 * Directories are 0700 and files 0600; files are written to a fresh name (O_EXCL, so a planted
 * symlink is never followed) and renamed into place, so a reader never sees half a batch.
 */
/** POSIX path join (not node:path: loading any node: module costs 15–20 ms of start-up). */
const join = (...parts: string[]) => parts.join("/").replace(/\/{2,}/g, "/");

/** The file operations the spool uses; tests inject failures (ENOSPC) here. */
export interface SpoolFs {
  mkdir(path: string): Promise<void>;
  /** Creates a new file (fails if the path exists, even as a symlink), mode 0600. */
  writeNew(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  remove(path: string): Promise<void>;
  readDir(path: string): Promise<string[]>;
  isSymlink(path: string): Promise<boolean>;
}

export const DENO_FS: SpoolFs = {
  async mkdir(path) {
    await Deno.mkdir(path, { recursive: true, mode: 0o700 });
    await Deno.chmod(path, 0o700);
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
  readFile: (path) => Deno.readFile(path),
  remove: (path) => Deno.remove(path, { recursive: true }),
  async readDir(path) {
    const out: string[] = [];
    for await (const e of Deno.readDir(path)) out.push(e.name);
    return out;
  },
  async isSymlink(path) {
    try {
      return (await Deno.lstat(path)).isSymlink;
    } catch {
      return false;
    }
  },
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

/** One sink's spool directory, created lazily on the first write. */
export class SpoolJob {
  readonly dir: string;
  #created = false;
  #meta: JobMeta;

  constructor(
    readonly root: string,
    readonly id: string,
    meta: JobMeta,
    private readonly fs: SpoolFs = DENO_FS,
    existing = false,
  ) {
    this.dir = join(root, id);
    this.#meta = meta;
    this.#created = existing;
  }

  get meta(): JobMeta {
    return this.#meta;
  }

  /** Creates the job directory (done by the first `put`). */
  async create(): Promise<void> {
    if (this.#created) return;
    if (await this.fs.isSymlink(this.root)) {
      throw new Error(`spool directory "${this.root}" is a symbolic link; refusing to use it`);
    }
    await this.fs.mkdir(this.root);
    await this.fs.mkdir(this.dir);
    await this.#writeAtomic("owner", new TextEncoder().encode(`${Deno.pid}\n`));
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

  /** Writes one batch body; returns its path. */
  async put(seq: number, body: Uint8Array, samples: number): Promise<string> {
    await this.create();
    const path = await this.#writeAtomic(batchName(seq, this.#meta.ext), body);
    this.#meta = { ...this.#meta, counts: { ...this.#meta.counts, [seq]: samples } };
    await this.saveMeta(this.#meta);
    return path;
  }

  read(path: string): Promise<Uint8Array> {
    return this.fs.readFile(path);
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
    if (!this.#created) return;
    if (keep) {
      await this.saveMeta(this.#meta).catch(() => {});
      await this.fs.remove(join(this.dir, "owner")).catch(() => {});
    } else {
      await this.fs.remove(this.dir).catch(() => {});
      this.#created = false;
    }
  }

  /** Batches on disk, by sequence number. */
  async batches(): Promise<SpooledBatch[]> {
    if (!this.#created) return [];
    const out: SpooledBatch[] = [];
    for (const name of await this.fs.readDir(this.dir)) {
      const m = BATCH_RE.exec(name);
      if (!m) continue;
      const seq = Number(m[1]);
      out.push({ seq, path: join(this.dir, name), samples: this.#meta.counts?.[seq] ?? 0 });
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

/** Whether a pid still runs (its /proc entry exists). */
function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

export interface FoundJob {
  job: SpoolJob;
  batches: SpooledBatch[];
}

/** Jobs left in the spool by earlier runs (skips those a live tracker still owns). */
export async function findJobs(root: string, fs: SpoolFs = DENO_FS): Promise<FoundJob[]> {
  let names: string[];
  try {
    names = await fs.readDir(root);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  const out: FoundJob[] = [];
  for (const id of names.sort()) {
    const dir = join(root, id);
    let meta: JobMeta;
    try {
      meta = JSON.parse(new TextDecoder().decode(await fs.readFile(join(dir, "job.json"))));
    } catch {
      continue; // not ours, or half written
    }
    try {
      const owner = Number(new TextDecoder().decode(await fs.readFile(join(dir, "owner"))));
      if (Number.isInteger(owner) && owner !== Deno.pid && alive(owner)) continue;
    } catch { /* no owner: free to take */ }
    const job = new SpoolJob(root, id, meta, fs, true);
    out.push({ job, batches: await job.batches() });
  }
  return out;
}
