/**
 * A local file sink: created 0600 and never through a symlink (safe_open.ts), format from the
 * extension (`.jsonl`, `.csv`), compression from `.gz` / `.zst`, optional size-based rotation
 * (`out.csv` → `out.1.csv` → `out.2.csv` …, keeping `maxFiles` old files).
 */
import type { Format } from "../formats/mod.ts";
import { createEncoder } from "../formats/mod.ts";
import { type Compression, LineSink } from "./lines.ts";
import { openPrivateFile } from "../base/safe_open.ts";
import type { Sink } from "./sink.ts";

const EXT_RE = /\.(jsonl|ndjson|json|csv)(\.gz|\.zst)?$|(\.gz|\.zst)$/i;

/** Format and compression told by a file name; format null when the name does not say. */
export function fileKind(path: string): { format: Format | null; compression: Compression } {
  const m = EXT_RE.exec(path);
  const comp = (m?.[2] ?? m?.[3] ?? "").toLowerCase();
  const ext = m?.[1]?.toLowerCase();
  return {
    format: ext === undefined ? null : ext === "csv" ? "csv" : "json",
    compression: comp === ".gz" ? "gzip" : comp === ".zst" ? "zstd" : "none",
  };
}

/** `dir/out.csv.gz`, 2 → `dir/out.2.csv.gz`; names without a known extension get `.2` appended. */
export function rotatedName(path: string, n: number): string {
  // By hand, not node:path: loading any node: module costs 15–20 ms of start-up.
  const dir = path.slice(0, path.lastIndexOf("/") + 1);
  const base = path.slice(dir.length);
  const m = EXT_RE.exec(base);
  const name = m && m.index > 0
    ? `${base.slice(0, m.index)}.${n}${base.slice(m.index)}`
    : `${base}.${n}`;
  return dir + name;
}

export interface FileSinkOptions {
  path: string;
  format: Format;
  compression: Compression;
  intervalSecs: number;
  warn: (line: string) => void;
  /** Rotate before a write would pass this many bytes (null: never). */
  maxSize?: number | null;
  /** Rotated files to keep besides the current one. */
  maxFiles?: number;
  blockMs?: number;
}

export function createFileSink(o: FileSinkOptions): Sink {
  let file = openPrivateFile(o.path);
  let id = identity(file);
  let size = 0;
  const maxFiles = o.maxFiles ?? 5;
  let checkedAt = 0;
  /**
   * True when the path no longer names the file we write (deleted, renamed, replaced). One
   * lstat at most every second: at -i 0.1 the check stays off the per-sample cost.
   */
  const moved = () => {
    if (id === null) return false; // a device: nothing to follow
    const now = performance.now();
    if (now - checkedAt < 1_000) return false;
    checkedAt = now;
    try {
      const now = Deno.lstatSync(o.path);
      return now.ino !== id.ino || now.dev !== id.dev;
    } catch {
      return true;
    }
  };
  const reopen = () => {
    file.close();
    file = openPrivateFile(o.path);
    id = identity(file);
    size = 0;
  };
  const rotate = async () => {
    file.close();
    await Deno.remove(rotatedName(o.path, maxFiles)).catch(() => {});
    for (let i = maxFiles - 1; i >= 1; i--) {
      await Deno.rename(rotatedName(o.path, i), rotatedName(o.path, i + 1)).catch(() => {});
    }
    if (maxFiles > 0) await Deno.rename(o.path, rotatedName(o.path, 1));
    file = openPrivateFile(o.path);
    id = identity(file);
    size = 0;
  };
  return new LineSink({
    name: `file:${o.path}`,
    encoder: createEncoder(o.format, o.intervalSecs),
    compression: o.compression,
    warn: o.warn,
    ...(o.blockMs !== undefined ? { blockMs: o.blockMs } : {}),
    output: {
      get size() {
        return size;
      },
      async write(chunk) {
        let rest = chunk;
        try {
          while (rest.length > 0) rest = rest.subarray(await file.write(rest));
        } catch (err) {
          if (rest.length < chunk.length) {
            // A full disk must not leave half a line (or half a gzip member): cut the file back
            // to the last whole chunk and write from there next time.
            await file.truncate(size).then(() => file.seek(size, Deno.SeekMode.Start)).catch(
              () => {},
            );
          }
          throw err;
        }
        size += chunk.length;
      },
      async maybeRotate(next) {
        if (moved()) {
          // logrotate without copytruncate, or an accidental rm: write a new file there.
          o.warn(`file:${o.path}: the file was removed or replaced; writing a new one`);
          reopen();
          return true;
        }
        if (!o.maxSize || size + next <= o.maxSize) return false;
        await rotate();
        return true;
      },
      close() {
        try {
          file.close();
        } catch { /* already closed */ }
      },
    },
  });
}

/** Device and inode of a regular file we write; null for devices such as /dev/null. */
function identity(file: Deno.FsFile): { dev: number; ino: number | null } | null {
  const st = file.statSync();
  return st.isFile ? { dev: st.dev, ino: st.ino } : null;
}
