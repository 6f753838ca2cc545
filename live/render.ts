/**
 * The `--live` screen as plain lines: a pure function of the latest sample, the running
 * totals and the run's facts, cut to the terminal's size.
 */
import type { Sample } from "../base/sample.ts";
import { formatBytes } from "../report/summary.ts";
import { MIB } from "../base/units.ts";

export interface LiveState {
  version: string;
  jobName: string | null;
  elapsedSecs: number;
  samples: number;
  intervalSecs: number;
  /** Tree totals since the start. */
  treeUserSecs: number;
  treeSystemSecs: number;
  treeReadBytes: number;
  treeWriteBytes: number;
  destinations: string[];
}

function clock(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${
    String(s % 60).padStart(2, "0")
  }`;
}

const rate = (bytesPerSec: number) => `${formatBytes(Math.round(bytesPerSec))}/s`;
const mib = (n: number) => formatBytes(n * MIB);

function bar(ratio: number, width: number): string {
  const r = Math.min(1, Math.max(0, ratio));
  const full = Math.round(r * width);
  return `[${"#".repeat(full)}${".".repeat(width - full)}]`;
}

export function renderLive(s: Sample | null, st: LiveState, cols: number, rows: number): string[] {
  const lines: string[] = [];
  const job = st.jobName ? `  job ${st.jobName}` : "";
  lines.push(
    `resource-tracker ${st.version}${job}  elapsed ${
      clock(st.elapsedSecs)
    }  every ${st.intervalSecs} s  samples ${st.samples}`,
  );
  if (!s) {
    lines.push("", "waiting for the first sample…");
  } else {
    const c = s.cpu, m = s.memory;
    // Per-interval byte counts become rates over the measured interval.
    const secs = (s.actual_interval_ms ?? st.intervalSecs * 1000) / 1000 || 1;
    const cores = c.per_core_pct.length;
    const ratio = cores ? c.utilization_pct / cores : 0;
    const readRate = s.disk.filter((d) => !d.virtual).reduce((n, d) => n + d.read_bytes_per_sec, 0);
    const writeRate = s.disk.filter((d) => !d.virtual).reduce(
      (n, d) => n + d.write_bytes_per_sec,
      0,
    );
    const rx = s.network.reduce((n, x) => n + x.rx_bytes_per_sec, 0);
    const tx = s.network.reduce((n, x) => n + x.tx_bytes_per_sec, 0);
    lines.push(
      "",
      `Host  CPU  ${c.utilization_pct.toFixed(2)} of ${cores} cores ${bar(ratio, 20)} ${
        (ratio * 100).toFixed(0)
      }%  procs ${c.process_count}`,
      `      Mem  ${mib(m.used_mib)} of ${mib(m.total_mib)} used (${m.used_pct.toFixed(0)}%), ${
        mib(m.available_mib)
      } available` +
        (m.swap_total_mib > 0 ? `, swap ${mib(m.swap_used_mib)}` : ""),
      `      Disk read ${rate(readRate)}, write ${rate(writeRate)}`,
      `      Net  in ${rate(rx)}, out ${rate(tx)}`,
    );
    if (c.cgroup_utilization_pct !== null) {
      lines.push(`      cgroup CPU ${c.cgroup_utilization_pct.toFixed(2)} cores`);
    }
    lines.push("");
    if (s.tracked_pid !== null && c.process_cores_used !== null) {
      lines.push(
        `Tree  PID ${s.tracked_pid}, ${c.process_child_count ?? 0} descendants`,
        `      CPU  ${c.process_cores_used.toFixed(2)} cores now; ${
          st.treeUserSecs.toFixed(1)
        } s user + ${st.treeSystemSecs.toFixed(1)} s system`,
        `      Mem  PSS ${mib(c.process_pss_mib ?? 0)}, RSS ${mib(c.process_rss_mib ?? 0)}`,
        `      I/O  read ${formatBytes(st.treeReadBytes)}, written ${
          formatBytes(st.treeWriteBytes)
        } (${rate((c.process_disk_read_bytes ?? 0) / secs)} / ${
          rate((c.process_disk_write_bytes ?? 0) / secs)
        } now)`,
      );
      if (c.process_gpu_usage !== null) {
        lines.push(
          `      GPU  ${c.process_gpu_usage.toFixed(2)} GPUs busy, ${
            mib(c.process_gpu_vram_mib ?? 0)
          } VRAM on ${c.process_gpu_utilized ?? 0} GPUs`,
        );
      }
    } else {
      lines.push("Tree  (no process tracked: system-wide only)");
    }
    lines.push("");
    if (s.gpu.length === 0) lines.push("GPU   none found");
    s.gpu.forEach((g, i) =>
      lines.push(
        `GPU ${i} ${g.utilization_pct.toFixed(0)}%  ${formatBytes(g.vram_used_bytes)} of ${
          formatBytes(g.vram_total_bytes)
        }  ${g.temperature_celsius.toFixed(0)} C  ${g.power_watts.toFixed(0)} W  ${g.name}`,
      )
    );
  }
  lines.push(
    "",
    `Out   ${st.destinations.length ? st.destinations.join(", ") : "(samples not saved)"}`,
  );
  // Keep the last line (destinations) visible when rows are short: cut from the middle.
  let out = lines;
  if (out.length > rows) out = [...lines.slice(0, rows - 1), lines[lines.length - 1]!];
  return out.map((l) => [...l].slice(0, cols).join(""));
}
