/**
 * Reads one recorded run into columns: JSON Lines or CSV (ours or the Python tracker's combined
 * 32-column file), plain or `.gz`/`.zst`, one file or the pieces of a rotated output in any
 * order. Pieces are put in time order and samples with a timestamp already seen are dropped, so
 * naming a piece twice cannot double a total.
 */
import { RuntimeError, UsageError } from "../base/errors.ts";
import { type Columns, emptyColumns, n, type Recording, type RunRecord } from "./series.ts";
import { MIB } from "../base/units.ts";
import { CSV_COLUMNS } from "../formats/csv.ts";

type Row = Partial<Record<keyof Columns, number>>;

interface Piece {
  file: string;
  format: Recording["format"];
  rows: Row[];
  vcpus: number | null;
  memTotal: number | null;
  gpu: { count: number; model: string | null; vramMib: number } | null;
  tracked: boolean;
  skipped: number;
}

async function decompress(file: string, data: Uint8Array): Promise<Uint8Array> {
  const gz = data[0] === 0x1f && data[1] === 0x8b;
  const zst = data[0] === 0x28 && data[1] === 0xb5 && data[2] === 0x2f && data[3] === 0xfd;
  if (!gz && !zst) return data;
  const z = await import("node:zlib");
  try {
    // Rotated .gz outputs are concatenated members: gunzipSync reads them all.
    return new Uint8Array(gz ? z.gunzipSync(data) : z.zstdDecompressSync(data));
  } catch (err) {
    // A run cut short leaves a truncated last member: keep what decodes.
    const partial = gz ? tryPartialGunzip(z, data) : null;
    if (partial) return partial;
    throw new UsageError(`${file}: cannot decompress (${(err as Error).message})`);
  }
}

function tryPartialGunzip(z: typeof import("node:zlib"), data: Uint8Array): Uint8Array | null {
  try {
    return new Uint8Array(z.gunzipSync(data, { finishFlush: z.constants.Z_SYNC_FLUSH }));
  } catch {
    return null;
  }
}

/** Splits a CSV line: plain fields or Python's double-quoted ones ("" inside quotes = "). */
export function splitCsv(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = "";
      i++;
      while (i < line.length) {
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += line[i++];
      }
      out.push(v);
      i++; // the comma
    } else {
      const j = line.indexOf(",", i);
      const end = j < 0 ? line.length : j;
      out.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return out;
}

/**
 * The lines of a recording, decoded one at a time from its bytes: a 100 MB day of JSON Lines
 * never becomes one 200 MB string plus an array of its copies. A trailing `\r` is dropped.
 */
export function* lines(data: Uint8Array): Generator<string> {
  const dec = new TextDecoder();
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(10, start);
    if (end < 0) end = data.length;
    const stop = end > start && data[end - 1] === 13 ? end - 1 : end;
    yield dec.decode(data.subarray(start, stop));
    start = end + 1;
  }
}

function parseJsonLines(file: string, text: Iterable<string>): Piece {
  const rows: Row[] = [];
  let vcpus: number | null = null, memTotal: number | null = null, skipped = 0;
  let gpu: Piece["gpu"] = null, tracked = false;
  for (const line of text) {
    if (line.trim() === "") continue;
    // deno-lint-ignore no-explicit-any
    let s: Record<string, any>;
    try {
      s = JSON.parse(line);
    } catch {
      skipped++; // a half-written last line of a killed run
      continue;
    }
    if (typeof s !== "object" || s === null || !s.cpu || !s.memory) {
      skipped++;
      continue;
    }
    const c = s.cpu, m = s.memory;
    const t = Number.isFinite(s.timestamp_ms) ? s.timestamp_ms : n(s.timestamp_secs) * 1000;
    let dr = 0, dw = 0, rx = 0, tx = 0, gu = 0, gv = 0, gw = 0;
    for (const d of s.disk ?? []) {
      if (d.virtual === true) continue;
      // R's JSON has no `virtual` flag: skip the stacked kinds by name as our CSV does.
      if (d.virtual === undefined && /^(dm-|md|zram|zfs:)/.test(String(d.device))) continue;
      dr += n(d.read_bytes_per_sec) || 0;
      dw += n(d.write_bytes_per_sec) || 0;
    }
    for (const i of s.network ?? []) {
      rx += n(i.rx_bytes_per_sec) || 0;
      tx += n(i.tx_bytes_per_sec) || 0;
    }
    const gpus = Array.isArray(s.gpu) ? s.gpu : [];
    for (const g of gpus) {
      gu += (n(g.utilization_pct) || 0) / 100;
      gv += (n(g.vram_used_bytes) || 0) / MIB;
      gw += n(g.power_watts) || 0;
    }
    if (gpus.length > 0) {
      gpu = {
        count: gpus.length,
        model: typeof gpus[0].name === "string" ? gpus[0].name : null,
        vramMib: gpus.reduce(
          (a: number, g: { vram_total_bytes?: unknown }) =>
            a + Math.floor((n(g.vram_total_bytes) || 0) / MIB),
          0,
        ),
      };
    }
    if (Array.isArray(c.per_core_pct) && c.per_core_pct.length > 0) vcpus = c.per_core_pct.length;
    if (Number.isFinite(m.total_mib) && m.total_mib > 0) memTotal = m.total_mib;
    if (s.tracked_pid !== null && s.tracked_pid !== undefined) tracked = true;
    const e = s.energy;
    rows.push({
      t,
      dt: Number.isFinite(s.actual_interval_ms) ? s.actual_interval_ms / 1000 : NaN,
      hostCores: n(c.utilization_pct),
      procCores: n(c.process_cores_used),
      procPssMib: n(c.process_pss_mib),
      procRssMib: n(c.process_rss_mib),
      hostMemUsedMib: n(m.used_mib),
      hostMemTotalMib: n(m.total_mib),
      swapUsedMib: n(m.swap_used_mib),
      diskReadBps: dr,
      diskWriteBps: dw,
      // per-interval bytes; turned into rates once dt is known
      procReadBps: n(c.process_disk_read_bytes),
      procWriteBps: n(c.process_disk_write_bytes),
      netRxBps: rx,
      netTxBps: tx,
      gpuUsage: gpus.length ? gu : NaN,
      gpuVramMib: gpus.length ? gv : NaN,
      procGpuUsage: n(c.process_gpu_usage),
      procGpuVramMib: n(c.process_gpu_vram_mib),
      procGpuUtilized: n(c.process_gpu_utilized),
      gpuWatts: gpus.length ? gw : NaN,
      energyWatts: e ? n(e.watts) : NaN,
      energyJoules: e ? n(e.joules) : NaN,
    });
  }
  return { file, format: "jsonl", rows, vcpus, memTotal, gpu, tracked, skipped };
}

function parseCsv(file: string, text: Iterable<string>): Piece {
  const it = text[Symbol.iterator]();
  const first = it.next();
  const headLine = first.done ? "" : first.value;
  const header = splitCsv(headLine).map((h) => h.trim());
  const python = headLine.startsWith('"');
  // The Python SystemTracker alone writes the names without the `system_` prefix.
  const idx = (name: string) => {
    let i = header.indexOf(name);
    if (i < 0 && name.startsWith("system_")) i = header.indexOf(name.slice(7));
    return i;
  };
  if (idx("timestamp") < 0 || idx("system_cpu_usage") < 0) {
    throw new UsageError(
      `${file}: not a resource-tracker CSV (expected the timestamp and system_cpu_usage columns)`,
    );
  }
  // Our CSV and the Python tracker's share these column names (docs/COMPATIBILITY.md §2.1, §2.2).
  const col = Object.fromEntries(CSV_COLUMNS.map((k) => [k, idx(k)])) as Record<string, number>;
  const rows: Row[] = [];
  let tracked = false, skipped = 0, memTotal: number | null = null, gpuSeen = false;
  for (let r = it.next(); !r.done; r = it.next()) {
    const line = r.value;
    if (line.trim() === "") continue;
    const f = splitCsv(line);
    const get = (k: string) => {
      const v = f[col[k]!];
      // Number("") is 0: empty fields (None) must stay unknown.
      return v === undefined || v === "" ? NaN : +v;
    };
    const ts = get("timestamp");
    if (!Number.isFinite(ts) || f.length < header.length) {
      skipped++;
      continue;
    }
    if (Number.isFinite(get("process_pid"))) tracked = true;
    const used = get("system_memory_used_mib");
    // used = total − available and available ≈ free + buffers + cached: the host's size.
    const approxTotal = used + get("system_memory_free_mib") + get("system_memory_buffers_mib") +
      get("system_memory_cached_mib");
    if (Number.isFinite(approxTotal)) memTotal = Math.max(memTotal ?? 0, approxTotal);
    const gpuUsage = get("system_gpu_usage");
    if (gpuUsage > 0 || get("system_gpu_vram_mib") > 0) gpuSeen = true;
    rows.push({
      t: ts * 1000,
      dt: NaN,
      hostCores: get("system_cpu_usage"),
      procCores: get("process_cpu_usage"),
      procPssMib: get("process_memory_mib"),
      procRssMib: NaN,
      hostMemUsedMib: used,
      hostMemTotalMib: NaN,
      swapUsedMib: NaN,
      // CSV holds bytes per interval: rates once dt is known
      diskReadBps: get("system_disk_read_bytes"),
      diskWriteBps: get("system_disk_write_bytes"),
      procReadBps: get("process_disk_read_bytes"),
      procWriteBps: get("process_disk_write_bytes"),
      netRxBps: get("system_net_recv_bytes"),
      netTxBps: get("system_net_sent_bytes"),
      gpuUsage,
      gpuVramMib: get("system_gpu_vram_mib"),
      procGpuUsage: get("process_gpu_usage"),
      procGpuVramMib: get("process_gpu_vram_mib"),
      procGpuUtilized: get("process_gpu_utilized"),
      gpuWatts: NaN,
      energyWatts: NaN,
      energyJoules: NaN,
    });
  }
  return {
    file,
    format: python ? "python-csv" : "csv",
    rows,
    vcpus: null,
    memTotal,
    gpu: gpuSeen ? { count: 0, model: null, vramMib: 0 } : null,
    tracked,
    skipped,
  };
}

/** Sidecar names to try for a piece: `out.jsonl.run.json`, also for `out.3.jsonl.gz`. */
export function sidecarCandidates(file: string): string[] {
  const base = file.replace(/\.(gz|zst)$/i, "");
  const unrotated = base.replace(/\.\d+(\.(jsonl|ndjson|json|csv))$/i, "$1");
  return [...new Set([`${file}.run.json`, `${base}.run.json`, `${unrotated}.run.json`])];
}

async function readSidecar(files: string[]): Promise<RunRecord | null> {
  for (const f of files.flatMap(sidecarCandidates)) {
    let text: string;
    try {
      text = await Deno.readTextFile(f);
    } catch {
      continue;
    }
    try {
      const r = JSON.parse(text);
      if (r && r.resource_tracker_run === 1) return r as RunRecord;
    } catch { /* not ours */ }
  }
  return null;
}

/** A recording's bytes, decompressed when gzip or zstd (told by the first bytes, not the name). */
export async function readRecordingBytes(file: string): Promise<Uint8Array> {
  let data: Uint8Array;
  try {
    data = await Deno.readFile(file);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (err as Error).message;
    throw new UsageError(`${file}: ${why}`);
  }
  return await decompress(file, data);
}

export async function readPiece(file: string): Promise<Piece> {
  const bytes = await readRecordingBytes(file);
  let i = 0;
  while (i < bytes.length && (bytes[i] === 32 || bytes[i] === 10 || bytes[i] === 13)) i++;
  if (i >= bytes.length) throw new UsageError(`${file}: empty recording`);
  return bytes[i] === 0x7b ? parseJsonLines(file, lines(bytes)) : parseCsv(file, lines(bytes));
}

/** Median of the positive finite values (0 when none). */
function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x) && x > 0).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)]! : 0;
}

export async function readRecording(files: readonly string[]): Promise<Recording> {
  if (files.length === 0) throw new UsageError("report: name at least one recording FILE");
  const pieces = await Promise.all(files.map(readPiece));
  const formats = new Set(pieces.map((p) => p.format === "python-csv" ? "csv" : p.format));
  if (formats.size > 1) {
    throw new UsageError("report: the files mix JSON Lines and CSV; name the pieces of one run");
  }
  const firstT = (p: Piece) => p.rows[0]?.t ?? Infinity;
  pieces.sort((a, b) => firstT(a) - firstT(b));
  const notes: string[] = [];
  const rows: Row[] = [];
  let dup = 0, last = -Infinity, outOfOrder = 0;
  const seen = new Set<number>();
  for (const p of pieces) {
    if (p.skipped) notes.push(`${p.file}: ${p.skipped} unreadable line(s) skipped`);
    for (const r of p.rows) {
      if (seen.has(r.t!)) {
        dup++;
        continue;
      }
      seen.add(r.t!);
      if (r.t! < last) outOfOrder++;
      rows.push(r);
      last = Math.max(last, r.t!);
    }
  }
  if (outOfOrder) rows.sort((a, b) => a.t! - b.t!);
  if (dup) notes.push(`${dup} sample(s) with a timestamp already read were dropped (overlap)`);
  if (rows.length === 0) throw new RuntimeError(`report: no samples in ${files.join(", ")}`);

  const format = pieces[0]!.format;
  const run = await readSidecar(pieces.map((p) => p.file));
  // Intervals: measured where the JSON says; otherwise the time since the previous sample; the
  // first sample of a CSV gets the run's typical interval.
  const gaps = rows.map((r, i) => (i > 0 ? (r.t! - rows[i - 1]!.t!) / 1000 : NaN));
  const typical = run?.interval_secs ?? (median(gaps) || 1);
  const cols = emptyColumns();
  const keys = Object.keys(cols) as (keyof Columns)[];
  const rateKeys = format !== "jsonl"
    ? [
      "diskReadBps",
      "diskWriteBps",
      "netRxBps",
      "netTxBps",
      "procReadBps",
      "procWriteBps",
    ] as const
    : ["procReadBps", "procWriteBps"] as const;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    let dt = r.dt!;
    if (!(dt > 0)) dt = gaps[i]! > 0 ? gaps[i]! : typical;
    r.dt = dt;
    // CSV holds bytes per interval (and JSON the tree's): rates over the sample's interval.
    for (const k of rateKeys) r[k] = r[k]! / dt;
    for (const k of keys) cols[k].push(r[k] ?? NaN);
  }
  const host = run?.host ?? {};
  const vcpus = pieces.find((p) => p.vcpus)?.vcpus ?? (n(host.host_vcpus) || null);
  const sampleMem = pieces.find((p) => p.format === "jsonl" && p.memTotal)?.memTotal ?? null;
  const sideMem = n(host.host_memory_mib) || null;
  const estMem = pieces.find((p) => p.memTotal)?.memTotal ?? null;
  const gpu = pieces.find((p) => p.gpu)?.gpu ?? null;
  return {
    files: pieces.map((p) => p.file),
    format,
    cols,
    run,
    tracked: pieces.some((p) => p.tracked),
    host: {
      vcpus,
      memoryMib: sampleMem ?? sideMem ?? estMem,
      memorySource: sampleMem ? "samples" : sideMem ? "sidecar" : estMem ? "estimated" : null,
      gpuCount: (n(host.host_gpu_count) || gpu?.count) ?? null,
      gpuModel: (host.host_gpu_model as string | undefined) ?? gpu?.model ?? null,
      gpuMemoryMib: (n(host.host_gpu_memory_mib) || gpu?.vramMib) ?? null,
      cpuModel: (host.host_cpu_model as string | undefined) ?? null,
    },
    notes,
  };
}
