/**
 * The race alone, with probes written in the test: no network, no fetch, no DMI. Timing bounds
 * are loose (a loaded 2-core machine); what is checked is the outcome and that the deadline holds.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { race, type RaceEntry } from "./race.ts";
import type { CloudInfo, CloudProbe, ProbeContext } from "./types.ts";
import { EMPTY_CLOUD } from "./types.ts";
import { forbiddenFetch } from "../tests/fakes/clouds/env.ts";

/** Generous on a loaded 2-core machine. */
const MARGIN_MS = 700;

function probe(id: string, lookup: (ctx: ProbeContext) => Promise<CloudInfo | undefined>) {
  const p: CloudProbe = {
    id,
    name: id,
    defaultBaseUrl: "http://127.0.0.1:9",
    race: true,
    dmi: () => undefined,
    lookup,
  };
  return { probe: p, baseUrl: p.defaultBaseUrl } satisfies RaceEntry;
}

/** Settles only when its signal aborts, with the signal's reason. */
function untilAborted(ctx: ProbeContext): Promise<never> {
  return new Promise((_, reject) => {
    if (ctx.signal.aborted) return reject(ctx.signal.reason);
    ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason), { once: true });
  });
}

const answer = (region: string): CloudInfo => ({ ...EMPTY_CLOUD, cloud_region_id: region });

function options(deadlineMs: number, providerTimeoutMs = 10_000) {
  return {
    fetch: forbiddenFetch,
    deadlineAt: performance.now() + deadlineMs,
    requestTimeoutMs: 1000,
    providerTimeoutMs,
  };
}

Deno.test("race: the first answer wins, the others are aborted, errors are dropped", async () => {
  const aborted: string[] = [];
  const slow = (id: string) =>
    probe(id, (ctx) =>
      untilAborted(ctx).catch((e) => {
        aborted.push(id);
        throw e;
      }));
  const started = performance.now();
  const r = await race([
    slow("a"),
    probe("b", () => Promise.reject(new Error("broken\nsecond line"))),
    probe("c", () => Promise.resolve(answer("r1"))),
    slow("d"),
  ], options(5000));
  ok(performance.now() - started < MARGIN_MS, "waited for the slow probes' deadline");
  deepStrictEqual(r, {
    winner: { probe: r.winner?.probe, info: { ...answer("r1"), cloud_vendor_id: "c" } },
    errors: [],
  });
  deepStrictEqual(r.winner?.probe.id, "c");
  deepStrictEqual(aborted.sort(), ["a", "d"]);
});

Deno.test("race: no answer gives one short line per broken probe", async () => {
  const r = await race([
    probe("a", () => Promise.resolve(undefined)),
    probe("b", () => Promise.reject(new Error(`broken: ${"x".repeat(300)}\nsecond line`))),
    probe("c", () => Promise.reject("plain string")),
  ], options(5000));
  deepStrictEqual(r.winner, undefined);
  deepStrictEqual(r.errors, [`b: broken: ${"x".repeat(149)}...`, "c: plain string"]);
});

Deno.test("race: a probe past its own limit is aborted and reported", async () => {
  const r = await race([probe("a", untilAborted)], options(5000, 100));
  deepStrictEqual(r, { errors: ["a: no complete answer within 100 ms"] });
});

Deno.test("race: resolves by the deadline even when a probe ignores its signal", async () => {
  const started = performance.now();
  const r = await race([
    probe("a", () => new Promise(() => {})),
    probe("b", untilAborted),
  ], options(300));
  const took = performance.now() - started;
  ok(took >= 200 && took < 300 + MARGIN_MS, `took ${took} ms`);
  deepStrictEqual(r, { errors: ["deadline reached; no answer yet from a, b"] });
});

Deno.test("race: nothing to run resolves at once", async () => {
  const started = performance.now();
  deepStrictEqual(await race([], options(5000)), { errors: [] });
  ok(performance.now() - started < MARGIN_MS, "waited for the deadline");
});

Deno.test("race: its limits do not hold the process open once it has resolved", async () => {
  // A child process: a winner at once, and a request through the real transport (wire.ts) to a
  // listener that never answers, aborted by the win. The 30 s limits are platform timers
  // (AbortSignal.timeout) that cannot be cleared: the child must still exit at once.
  const race = new URL("./race.ts", import.meta.url).href;
  const http = new URL("./http.ts", import.meta.url).href;
  const code = `
    const { race } = await import(${JSON.stringify(race)});
    const { metadataFetch, request } = await import(${JSON.stringify(http)});
    const hole = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = hole.accept();
    const probe = (id, lookup) => ({ probe: { id, lookup }, baseUrl: "http://127.0.0.1:" + hole.addr.port });
    const r = await race([
      probe("hang", (ctx) => request(ctx, "/")),
      probe("win", async () => { await accepted; return {}; }),
    ], { fetch: metadataFetch, deadlineAt: performance.now() + 30000, requestTimeoutMs: 30000, providerTimeoutMs: 30000 });
    (await accepted).close();
    hole.close();
    console.log(r.winner.probe.id);`;
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const took = performance.now() - started;
  deepStrictEqual(
    new TextDecoder().decode(out.stdout).trim(),
    "win",
    new TextDecoder().decode(out.stderr),
  );
  ok(took < 15_000, `the child lived ${Math.round(took)} ms: a 30 s timer held it`);
});
