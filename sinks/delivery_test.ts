import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import { DEFAULT_TUNING, Delivery, type Outcome, retryDelay } from "./delivery.ts";

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

Deno.test("retryDelay: exponential from the base, capped, half of it jitter", () => {
  const t = { retryBaseMs: 1_000, retryMaxMs: 60_000 };
  const at = (random: number) => [1, 2, 3, 6, 7, 8, 100].map((n) => retryDelay(n, t, () => random));
  deepStrictEqual(at(0), [500, 1_000, 2_000, 16_000, 30_000, 30_000, 30_000]);
  deepStrictEqual(at(1), [1_000, 2_000, 4_000, 32_000, 60_000, 60_000, 60_000]);
  deepStrictEqual(at(0.5), [750, 1_500, 3_000, 24_000, 45_000, 45_000, 45_000]);
  strictEqual(retryDelay(5_000, t, () => 1), 60_000, "no overflow after many failures");
});

Deno.test("delivery: drain returns as soon as the queue is empty, not at the deadline", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const d = new Delivery({
    transport: { name: "fake", send: () => gate.then(() => ({ ok: true })) },
    header: "",
    tuning: { ...DEFAULT_TUNING, intervalMs: 60_000 },
    spool: null,
    warn: () => {},
  });
  d.push("a\n");
  const drained = d.drain(Date.now() + 60_000);
  setTimeout(release, 50);
  const t0 = Date.now();
  ok(await drained);
  ok(Date.now() - t0 < 30_000, "woken by the delivery, not by the deadline");
  await d.stop();
});

Deno.test("delivery: drain stops waiting when the next try would come after the deadline", async () => {
  let tries = 0;
  const d = new Delivery({
    transport: {
      name: "fake",
      send: () => (tries++, Promise.resolve({ ok: false, reason: "HTTP 503" })),
    },
    header: "",
    tuning: { ...DEFAULT_TUNING, intervalMs: 60_000, retryBaseMs: 120_000, retryMaxMs: 120_000 },
    spool: null,
    warn: () => {},
  });
  d.push("a\n");
  const t0 = Date.now();
  strictEqual(await d.drain(Date.now() + 60_000), false);
  ok(Date.now() - t0 < 30_000, "did not sit out the deadline");
  // One try when the batch is cut, one when drain starts (it retries at once, then gives up).
  ok(tries <= 2, `${tries} tries`);
  await d.stop();
});

Deno.test("delivery: the deadline or the signal cuts the request in flight short", async () => {
  for (const how of ["deadline", "signal"] as const) {
    const seen: AbortSignal[] = [];
    const d = new Delivery({
      transport: {
        name: "fake",
        send: (_seq, _body, signal) => {
          seen.push(signal);
          return new Promise((_, reject) =>
            signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true })
          );
        },
      },
      header: "",
      tuning: { ...DEFAULT_TUNING, intervalMs: 60_000 },
      spool: null,
      warn: () => {},
    });
    d.push("a\n");
    const ctl = new AbortController();
    const drained = how === "deadline"
      ? d.drain(Date.now() + 100)
      : d.drain(Date.now() + 60_000, ctl.signal);
    if (how === "signal") setTimeout(() => ctl.abort(), 100);
    strictEqual(await drained, false, how);
    ok(seen[0]?.aborted, `${how}: the request was aborted`);
    await d.stop();
  }
});
