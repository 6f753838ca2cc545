import assert from "node:assert/strict";
import { backoff } from "../../base/time.ts";
import { Refresher } from "./refresher.ts";

/** A refresh the test finishes by hand. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, open };
}

Deno.test("backoff: doubles from the base, capped", () => {
  assert.deepEqual([1, 2, 3, 4, 10, 100].map((n) => backoff(n, 1000, 60_000)), [
    1000,
    2000,
    4000,
    8000,
    60_000,
    60_000,
  ]);
  assert.equal(backoff(0, 500, 10_000), 500);
});

Deno.test("Refresher: one refresh at a time; refresh() joins the one in flight", async () => {
  let g = gate();
  let started = 0;
  const r = new Refresher(() => {
    started++;
    return g.done;
  }, { warn: () => {} });
  r.kick();
  r.kick();
  assert.equal(started, 1);
  assert.notEqual(r.busyMs(), undefined);
  const joined = r.refresh();
  g.open();
  await joined;
  assert.equal(r.busyMs(), undefined);
  g = gate();
  r.kick();
  assert.equal([started, r.runs].join(), "2,2");
  g.open();
  assert.equal(await r.close(), true);
  r.kick();
  assert.equal(started, 2, "no refresh after close()");
});

Deno.test("Refresher: postpone() holds kicks back until the clock passes; success forgets", async () => {
  let t = 0;
  const r = new Refresher(() => Promise.resolve(), { warn: () => {}, now: () => t });
  assert.equal(r.failed(), 1);
  assert.equal(r.failed(), 2);
  r.postpone(1000);
  r.kick();
  assert.equal(r.runs, 0);
  t = 1000;
  await r.refresh();
  assert.equal(r.runs, 1);
  r.succeeded();
  assert.equal(r.failures, 0);
  await r.refresh();
  assert.equal(r.runs, 2);
});

Deno.test("Refresher: giveUp() warns once, with what is lost, and stops kicks", async () => {
  const lines: string[] = [];
  const r = new Refresher(() => Promise.resolve(), { warn: (l) => lines.push(l) });
  r.warnOnce("first");
  r.giveUp("later");
  assert.deepEqual(lines, ["first"]);
  assert.equal([r.off, r.active].join(), "true,false");
  await r.refresh();
  assert.equal(r.runs, 0);

  const quiet: string[] = [];
  const q = new Refresher(() => Promise.resolve(), { warn: (l) => quiet.push(l) });
  q.giveUp();
  q.giveUp("broken");
  assert.deepEqual(quiet, ["broken; NVIDIA GPU metrics are off for this run"]);
});

Deno.test("Refresher: close() with a limit reports a refresh that does not settle", async () => {
  const g = gate();
  const r = new Refresher(() => g.done, { warn: () => {} });
  r.kick();
  assert.equal(await r.close(0), false);
  assert.equal(await r.close(20), false);
  g.open();
  assert.equal(await r.close(1000), true);
  assert.equal(r.closed, true);
});
