/**
 * The run record written beside each sample file (`FILE.run.json`, 0600, never through a
 * symlink): what `report` and `replay` need that samples do not carry — the command, metadata,
 * host and cloud facts, the cgroup memory limit, the exit code. A separate file keeps the JSON
 * Lines stream one sample per line and the CSV at exactly its 32 columns (CONTRACT §1, §2).
 */
import type { Config } from "../core/config.ts";
import { writeAllSync } from "../core/log.ts";
import { openPrivateFile } from "../sinks/safe_open.ts";
import type { RunRecord } from "./series.ts";

/** Local files the run writes samples to: `--output FILE` and file `--sink`s. */
export function sampleFiles(config: Config): string[] {
  const out: string[] = [];
  if (!config.quiet && config.output !== null && config.output !== "-") out.push(config.output);
  for (const uri of (config.values.get("sink") as string[] | undefined) ?? []) {
    const target = uri.replace(/#format=\w+$/i, "").trim();
    if (["stdout", "stderr", "-", ""].includes(target)) continue;
    if (/^file:\/\//i.test(target)) out.push(decodeURIComponent(new URL(target).pathname));
    else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) out.push(target);
  }
  return out;
}

/** The memory limit of our cgroup in MiB; null when unlimited or unreadable. */
export function memoryLimitMib(sys: string): number | null {
  for (
    const f of [`${sys}/fs/cgroup/memory.max`, `${sys}/fs/cgroup/memory/memory.limit_in_bytes`]
  ) {
    try {
      const v = Deno.readTextFileSync(f).trim();
      if (v === "max") return null;
      const b = Number(v);
      // v1 reports "unlimited" as a huge page-aligned number.
      if (Number.isFinite(b) && b > 0 && b < 2 ** 60) return Math.floor(b / 1048576);
      return null;
    } catch { /* next */ }
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
      warn(`run record ${f}.run.json not written: ${err instanceof Error ? err.message : err}`);
    }
  }
}
