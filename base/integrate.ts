/**
 * Energy from power readings and from wrapping energy counters: the rules every energy figure
 * follows, so that one bad reading cannot poison a total.
 * - A power reading is valid when finite, ≥ 0 and ≤ 100 kW; invalid ones contribute nothing
 *   (the trapezoids on both sides of it are dropped).
 * - Trapezoidal integration; a gap longer than `maxGapSecs` between two valid readings is not
 *   bridged (counted as uncovered time, never guessed).
 */
export const MAX_WATTS = 100_000;

export const validWatts = (w: number): boolean => Number.isFinite(w) && w >= 0 && w <= MAX_WATTS;

export interface Integrated {
  joules: number;
  /** Seconds covered by valid trapezoids. */
  coveredSecs: number;
  /** Seconds between the first and last reading not covered (gaps, invalid readings). */
  uncoveredSecs: number;
}

/** ∫ P dt over readings (tSecs ascending, watts). */
export function integratePower(
  tSecs: readonly number[],
  watts: readonly number[],
  maxGapSecs: number,
): Integrated {
  let joules = 0, covered = 0, uncovered = 0;
  for (let i = 1; i < tSecs.length; i++) {
    const dt = tSecs[i]! - tSecs[i - 1]!;
    if (!(dt > 0)) continue;
    if (dt > maxGapSecs || !validWatts(watts[i]!) || !validWatts(watts[i - 1]!)) {
      uncovered += dt;
      continue;
    }
    joules += (watts[i]! + watts[i - 1]!) / 2 * dt;
    covered += dt;
  }
  return { joules, coveredSecs: covered, uncoveredSecs: uncovered };
}

/**
 * Δ of a counter that wraps at `range` (RAPL's max_energy_range_uj): when the new value is below
 * the old one the counter passed its range once. Null when the result is impossible.
 */
export function counterDelta(prev: number, cur: number, range: number | null): number | null {
  if (!Number.isFinite(prev) || !Number.isFinite(cur)) return null;
  if (cur >= prev) return cur - prev;
  if (range !== null && range > 0 && prev <= range) return cur + range - prev;
  return null;
}

export const JOULES_PER_KWH = 3_600_000;
