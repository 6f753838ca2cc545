import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { thin } from "./downsample.ts";

Deno.test("thinning for drawing keeps every spike and dip, stays under the point budget", () => {
  const n = 86_400;
  const x = Array.from({ length: n }, (_, i) => i);
  const y = x.map((i) => (i === 12_345 ? 99 : i === 54_321 ? -7 : Math.sin(i / 100)));
  const withGap = x.map((i) => (i % 2 ? NaN : 1));
  const t = thin(x, [y, withGap], 3000);
  ok(t.x.length <= 3000, `${t.x.length} points`);
  strictEqual(Math.max(...t.ys[0]!.map((v) => v ?? -Infinity)), 99);
  strictEqual(Math.min(...t.ys[0]!.map((v) => v ?? Infinity)), -7);
  ok(t.x.every((v, i) => i === 0 || v >= t.x[i - 1]!), "x ascending");
  ok(t.ys[1]!.every((v) => v === 1), "NaN never drawn as a value");
  // Short series pass through; NaN becomes a gap (null).
  deepStrictEqual(thin([1, 2, 3], [[1, NaN, 3]], 3000), { x: [1, 2, 3], ys: [[1, null, 3]] });
});
