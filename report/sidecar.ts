/**
 * The run record written beside each sample file (`FILE.run.json`, 0600, never through a
 * symlink): what `report` and `replay` need that samples do not carry — the command, metadata,
 * host and cloud facts, the cgroup memory limit, the exit code. A separate file keeps the JSON
 * Lines stream one sample per line and the CSV at exactly its 32 columns (docs/COMPATIBILITY.md §1, §2).
 */
import { writeAllSync } from "../base/log.ts";
import { openPrivateFile } from "../base/safe_open.ts";
import type { RunRecord } from "./series.ts";
import { errorText } from "../base/errors.ts";
import { MIB } from "../base/units.ts";

/** Where a run writes samples: the part of the sinks' settings (sinks/settings.ts) read here. */
export interface SampleOutputs {
  /** `--output`: a path, `-` for stdout, or null for stderr. */
  readonly output: string | null;
  readonly quiet: boolean;
  /** `--sink` URIs. */
  readonly uris: readonly string[];
}

/** Local files the run writes samples to: `--output FILE` and file `--sink`s. */
export function sampleFiles(o: SampleOutputs): string[] {
  const out: string[] = [];
  if (!o.quiet && o.output !== null && o.output !== "-") out.push(o.output);
  for (const uri of o.uris) {
    const target = uri.replace(/#format=\w+$/i, "").trim();
    if (["stdout", "stderr", "-", ""].includes(target)) continue;
    if (/^file:\/\//i.test(target)) out.push(decodeURIComponent(new URL(target).pathname));
    else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) out.push(target);
  }
  return out;
}

/**
 * The memory limit of the cgroup this process runs in, MiB; null when unlimited or unreadable.
 * The cgroup path comes from /proc/self/cgroup (v2 `0::/path`, v1 `N:memory:/path`).
 */
export function memoryLimitMib(sys: string, proc = "/proc"): number | null {
  let v2 = "", v1 = "";
  try {
    for (const line of Deno.readTextFileSync(`${proc}/self/cgroup`).split("\n")) {
      const [, ctl, path] = line.split(/:(.*?):/);
      if (line.startsWith("0::")) v2 = line.slice(3);
      else if (ctl?.split(",").includes("memory")) v1 = path ?? "";
    }
  } catch { /* no cgroup info: root files only */ }
  const files = [
    ...(v1 ? [`${sys}/fs/cgroup/memory${v1}/memory.limit_in_bytes`] : []),
    ...(v2 ? [`${sys}/fs/cgroup${v2}/memory.max`] : []),
    `${sys}/fs/cgroup/memory.max`,
    `${sys}/fs/cgroup/memory/memory.limit_in_bytes`,
  ];
  for (const f of files) {
    let v: string;
    try {
      v = Deno.readTextFileSync(f).trim();
    } catch {
      continue;
    }
    if (v === "max") return null;
    const b = Number(v);
    // v1 reports "unlimited" as a huge page-aligned number.
    return Number.isFinite(b) && b > 0 && b < 2 ** 60 ? Math.floor(b / MIB) : null;
  }
  return null;
}

export function writeRunRecords(
  files: readonly string[],
  record: RunRecord,
  warn: (l: string) => void,
): void {
  const text = JSON.stringify(record, null, 2) + "\n";
  for (const f of files) {
    try {
      const fd = openPrivateFile(`${f}.run.json`);
      try {
        writeAllSync(fd, text);
      } finally {
        fd.close();
      }
    } catch (err) {
      warn(`run record ${f}.run.json not written: ${errorText(err)}`);
    }
  }
}
