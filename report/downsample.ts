/**
 * Thins series for drawing only (the numbers in tables come from every sample): runs of samples
 * become two points, the minimum and the maximum of each series, so spikes stay visible.
 */
export interface Thinned {
  x: number[];
  ys: (number | null)[][];
}

export function thin(
  x: readonly number[],
  ys: readonly (readonly number[])[],
  maxPoints: number,
): Thinned {
  const clean = (v: number) => (Number.isFinite(v) ? v : null);
  if (x.length <= maxPoints) return { x: [...x], ys: ys.map((y) => y.map(clean)) };
  const buckets = Math.floor(maxPoints / 2);
  const size = x.length / buckets;
  const outX: number[] = [];
  const outY: (number | null)[][] = ys.map(() => []);
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor(b * size), to = Math.min(x.length, Math.floor((b + 1) * size));
    if (to <= from) continue;
    outX.push(x[from]!, x[Math.floor((from + to - 1) / 2)]! + (to - from > 1 ? 0 : 1e-3));
    ys.forEach((y, k) => {
      let lo = Infinity, hi = -Infinity;
      for (let i = from; i < to; i++) {
        const v = y[i]!;
        if (!Number.isFinite(v)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      outY[k]!.push(lo === Infinity ? null : lo, hi === -Infinity ? null : hi);
    });
  }
  return { x: outX, ys: outY };
}
