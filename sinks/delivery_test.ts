import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DEFAULT_TUNING, Delivery, type Outcome } from "./delivery.ts";

Deno.test("delivery: retries keep the sequence number and bytes; order is strict", async () => {
  const seen: [number, string][] = [];
  const script: Outcome[] = [{ ok: false, reason: "HTTP 503" }, { ok: false, reason: "HTTP 503" }];
  const warnings: string[] = [];
  const d = new Delivery({
    transport: {
      name: "fake",
      send: (seq, body) => {
        seen.push([seq, new TextDecoder().decode(body.subarray(0, 4))]);
        return Promise.resolve(script.shift() ?? { ok: true });
      },
    },
    header: "",
    tuning: { ...DEFAULT_TUNING, intervalMs: 60_000, retryBaseMs: 20, retryMaxMs: 40 },
    spool: null,
    warn: (l) => warnings.push(l),
    random: () => 1,
  });
  d.push("a\n");
  await d.cut();
  d.push("b\n");
  await d.cut();
  ok(await d.drain(Date.now() + 3_000));
  await d.stop();
  deepStrictEqual(seen.map(([s]) => s), [1, 1, 1, 2]);
  strictEqual(new Set(seen.filter(([s]) => s === 1).map(([, b]) => b)).size, 1, "same bytes");
  strictEqual(d.delivered, 2);
  deepStrictEqual(warnings, ["fake: upload failed (HTTP 503); retrying (attempt 1)"]);
});

Deno.test("delivery: permanent failures are kept and reported once", async () => {
  const warnings: string[] = [];
  const d = new Delivery({
    transport: {
      name: "fake",
      send: () => Promise.resolve({ ok: false, permanent: true, reason: "HTTP 404" }),
    },
    header: "h\n",
    tuning: { ...DEFAULT_TUNING, intervalMs: 60_000 },
    spool: null,
    warn: (l) => warnings.push(l),
  });
  for (const r of ["a\n", "b\n"]) {
    d.push(r);
    await d.cut();
  }
  strictEqual(await d.drain(Date.now() + 1_000), false);
  await d.stop();
  strictEqual(d.undelivered().length, 2);
  strictEqual(await d.text(d.undelivered()[1]!), "b\n");
  const kept = await d.keep();
  deepStrictEqual([kept.samples, kept.lost], [0, 2]);
  deepStrictEqual(warnings, ["fake: HTTP 404; not retrying, batch kept"]);
});
