/**
 * What the Python tracker's `recommend_resources()` would say for the same run (docs/COMPATIBILITY.md B8), so a
 * report of one of its CSV files can show both: cpu = max(1, round(mean cores)); memory =
 * round_memory(peak MiB × 1.2 / 1024) — a MiB figure divided by 1024 again, so most jobs get
 * 128 MiB.
 */
export function pythonRoundMemory(v: number): number {
  for (const s of [128, 256, 512, 1024, 2048]) if (v <= s) return s;
  return Math.ceil(v / 1024) * 1024;
}

export function pythonRecommendation(meanCores: number, peakMib: number): {
  vcpus: number;
  memoryMib: number;
} {
  return {
    vcpus: Math.max(1, Math.round(Number.isFinite(meanCores) ? meanCores : 0)),
    memoryMib: pythonRoundMemory((Number.isFinite(peakMib) ? peakMib : 0) * 1.2 / 1024),
  };
}
