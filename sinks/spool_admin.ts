/**
 * `flush --list` and `flush --drop`: what the spool holds, and removing what will never be
 * accepted (a batch a receiver refused with a 4xx stays until someone decides).
 */
import { SPOOLED, spoolKind } from "./registry.ts";
import { type BatchError, findJobs, type FoundJob, type JobMeta, type SpoolFs } from "./spool.ts";

export interface SpoolRow {
  /** `JOB/SEQ` for a batch, `JOB` for a job without batches (a run waiting to be finished). */
  id: string;
  job: string;
  sink: string;
  run: string;
  batch: number | null;
  samples: number;
  /** Milliseconds since the batch (or job) was written; null when unknown. */
  ageMs: number | null;
  error: BatchError | null;
}

/** Where a job's batches go, printable (no secrets): as its kind describes it. */
export function sinkOf(meta: JobMeta): { sink: string; run: string } {
  return spoolKind(meta.kind)?.spool?.describe(meta) ?? { sink: String(meta.kind), run: "" };
}

async function mtimeMs(path: string): Promise<number | null> {
  try {
    return (await Deno.lstat(path)).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

export async function listSpool(
  root: string,
  fs: SpoolFs,
  now = Date.now(),
): Promise<SpoolRow[]> {
  const rows: SpoolRow[] = [];
  for (const { job, batches } of await findJobs(root, SPOOLED, fs)) {
    const meta = job.meta;
    const { sink, run } = sinkOf(meta);
    if (batches.length === 0) {
      const t = await mtimeMs(`${job.dir}/job.json`);
      rows.push({
        id: job.id,
        job: job.id,
        sink,
        run,
        batch: null,
        samples: 0,
        ageMs: t === null ? null : now - t,
        error: meta.lastError ?? null,
      });
      continue;
    }
    for (const b of batches) {
      const t = await mtimeMs(b.path);
      rows.push({
        id: `${job.id}/${b.seq}`,
        job: job.id,
        sink,
        run,
        batch: b.seq,
        samples: b.samples,
        ageMs: t === null ? null : now - t,
        error: meta.errors?.[b.seq] ?? meta.lastError ?? null,
      });
    }
  }
  return rows;
}

/** `3d4h`, `5m12s`, `42s`. */
export function formatAge(ms: number | null): string {
  if (ms === null) return "?";
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  s %= 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** The `--list` table: one line per batch, columns separated by two spaces. */
export function formatRows(rows: readonly SpoolRow[]): string[] {
  const table = [
    ["ID", "SINK", "RUN", "BATCH", "SAMPLES", "AGE", "LAST ERROR"],
    ...rows.map((r) => [
      r.id,
      r.sink,
      r.run,
      r.batch === null ? "-" : String(r.batch),
      String(r.samples),
      formatAge(r.ageMs),
      r.error === null ? "-" : `${r.error.rejected ? "[rejected] " : ""}${r.error.reason}`,
    ]),
  ];
  const widths = table[0]!.map((_, i) =>
    i === table[0]!.length - 1 ? 0 : Math.max(...table.map((row) => row[i]!.length))
  );
  return table.map((row) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
}

export interface DropResult {
  /** One line per removed item. */
  removed: string[];
  /** IDs that matched nothing. */
  unknown: string[];
}

/**
 * Removes jobs (`JOB`), batches (`JOB/SEQ`) and, with `allRejected`, every batch a receiver
 * refused for good. A job left without batches is removed too unless it is a Sentinel run that
 * still has to be finished.
 */
export async function dropFromSpool(
  root: string,
  fs: SpoolFs,
  ids: readonly string[],
  allRejected: boolean,
): Promise<DropResult> {
  const jobs = await findJobs(root, SPOOLED, fs);
  const byId = new Map(jobs.map((j) => [j.job.id, j]));
  const removed: string[] = [];
  const unknown: string[] = [];
  const touched = new Set<FoundJob>();
  for (const id of ids) {
    const [jobId = "", seqText] = id.split("/", 2);
    const found = byId.get(jobId);
    if (!found) {
      unknown.push(id);
      continue;
    }
    if (seqText === undefined) {
      await fs.remove(found.job.dir);
      byId.delete(jobId);
      removed.push(`${jobId} (${found.batches.length} batches)`);
      continue;
    }
    const b = found.batches.find((x) => String(x.seq) === seqText.replace(/^0+(?=\d)/, ""));
    if (!b) {
      unknown.push(id);
      continue;
    }
    await found.job.drop(b.seq, b.path);
    found.batches = found.batches.filter((x) => x !== b);
    touched.add(found);
    removed.push(`${jobId}/${b.seq} (${b.samples} samples)`);
  }
  if (allRejected) {
    for (const found of byId.values()) {
      for (const b of [...found.batches]) {
        if (found.job.meta.errors?.[b.seq]?.rejected !== true) continue;
        await found.job.drop(b.seq, b.path);
        found.batches = found.batches.filter((x) => x !== b);
        touched.add(found);
        removed.push(`${found.job.id}/${b.seq} (${b.samples} samples, rejected)`);
      }
    }
  }
  for (const found of touched) {
    if (!byId.has(found.job.id)) continue;
    const m = found.job.meta;
    const unfinished = m.kind === "sentinel" && (m.finish !== null || m.registration);
    if (found.batches.length === 0 && !unfinished) await fs.remove(found.job.dir);
    else await found.job.saveMeta(m);
  }
  return { removed, unknown };
}
