import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { account, baseline, type Counters, type Ledger, type PidEntry } from "./tree_delta.ts";

/** pid → [ppid, starttime, u, s?, read?, write?] */
type Row = [number, number, number, number?, number?, number?];
function snap(rows: Record<number, Row>) {
  const m = new Map<number, PidEntry>();
  for (const [pid, [ppid, start, u, s, read, write]] of Object.entries(rows)) {
    m.set(Number(pid), {
      ppid,
      starttime: start,
      c: { u, s: s ?? 0, read: read ?? 0, write: write ?? 0 },
    });
  }
  return m;
}
const out = (u: number, s = 0, read = 0, write = 0): Counters => ({ u, s, read, write });

/** Runs scans through the ledger (the baseline scan at tick 200); each interval's amounts. */
function run(scans: Record<number, Row>[], opts: { outside?: Counters[]; since?: number } = {}) {
  let l: Ledger = baseline(snap(scans[0]!), opts.since ?? 200, opts.outside?.[0]);
  const deltas: Counters[] = [];
  for (let i = 1; i < scans.length; i++) {
    const r = account(l, snap(scans[i]!), opts.outside?.[i]);
    deltas.push(r.delta);
    l = r.ledger;
  }
  return deltas;
}

Deno.test("baseline: nothing reported", () => {
  const l = baseline(snap({ 10: [1, 100, 50, 5, 4096, 8192] }), 200);
  deepStrictEqual(l.reported, out(0));
});

Deno.test("growth of known PIDs is summed", () => {
  const [d] = run([
    { 10: [1, 100, 50, 5, 0, 0], 11: [10, 150, 10, 1, 0, 100] },
    { 10: [1, 100, 70, 6, 0, 0], 11: [10, 150, 40, 1, 0, 300] },
  ]);
  deepStrictEqual(d, out(50, 1, 0, 200));
});

Deno.test("a child reaped by a tree parent is not counted twice", () => {
  // 11 had 30 ticks at the last scan, ran 10 more, exited; 10 reaped it: cutime += 40.
  const [d] = run([{ 10: [1, 100, 50], 11: [10, 150, 30] }, { 10: [1, 100, 90] }]);
  strictEqual(d!.u, 10);
});

Deno.test("defect 1: sh -c 'burn; true' — the burner and its shell vanish in one interval", () => {
  // root sh 10 → inner sh 11 → python 12 (200 ticks so far). python runs 50 more and exits; 11
  // reaps it (cutime 250) and exits (1 tick of its own); 10 reaps 11: 10's cutime += 251. The
  // old per-PID exit correction subtracted only 11's 1 tick and reported 250.
  const scans = [{ 10: [1, 100, 0], 11: [10, 150, 1], 12: [11, 160, 200] }, {
    10: [1, 100, 251],
  }] as Record<number, Row>[];
  strictEqual(run(scans)[0]!.u, 50, "attach mode");
  // Wrapper mode: the root is the tracker's child; nothing left the tree yet.
  strictEqual(run(scans, { outside: [out(0), out(0)] })[0]!.u, 251, "wrapper: all since spawn");
});

Deno.test("three generations vanish in one interval; only what ran after the last scan counts", () => {
  const prev: Record<number, Row> = {
    10: [1, 100, 5],
    11: [10, 150, 20, 2, 0, 4096],
    12: [11, 160, 5, 1, 0, 8192],
    13: [12, 170, 7],
  };
  // 13 +3 (10), reaped by 12; 12 +5 (10 own, T 20), reaped by 11; 11 +10 (30 own, T 50).
  const curr: Record<number, Row> = { 10: [1, 100, 5 + 50, 3, 0, 12288 + 4096] };
  deepStrictEqual(run([prev, curr])[0], out(18, 0, 0, 4096));
});

Deno.test("a reaper that is itself reaped: the root exits first (attach mode)", () => {
  // The root 10 (parent 1, outside) reaps 11, then exits and is reaped outside: everything
  // leaves with it. What they ran after the last scan is not visible when attached.
  const [d] = run([{ 10: [1, 100, 5], 11: [10, 150, 20] }, {}]);
  deepStrictEqual(d, out(0));
  // Wrapper mode: the tracker reaped the root; its cutime says what the tree ran in total.
  const [w] = run([{ 10: [1, 100, 5], 11: [10, 150, 20] }, {}], { outside: [out(0), out(60)] });
  strictEqual(w!.u, 60 - 0);
});

Deno.test("orphans re-parented outside the tree keep counting, then leave with their last T", () => {
  // 11 double-forks 12 and exits: 12's parent becomes 1 (init, outside); the scan follows it.
  const [a, b, c] = run([
    { 10: [1, 100, 0], 11: [10, 150, 2], 12: [11, 160, 1] },
    { 10: [1, 100, 2], 12: [1, 160, 40] },
    { 10: [1, 100, 2], 12: [1, 160, 90] },
    { 10: [1, 100, 2] }, // 12 exited and init reaped it: its last T left the tree
  ]);
  strictEqual(a!.u, 39); // 11 reaped by 10 (its 2 ticks moved), 12 grew 39
  strictEqual(b!.u, 50);
  strictEqual(c!.u, 0);
});

Deno.test("a reused PID (different start time) is a new process", () => {
  // 11 exits (reaped by 10, +0), and a new 11 starts within the interval with 3 ticks.
  const [d] = run([{ 10: [1, 100, 0], 11: [10, 150, 500] }, {
    10: [1, 100, 500],
    11: [10, 260, 3],
  }]);
  strictEqual(d!.u, 3);
});

Deno.test("attached: a process older than the attach, first seen later, brings only its growth", () => {
  const [o, o2] = run([{ 10: [1, 100, 0] }, { 10: [1, 100, 0], 11: [10, 150, 30] }, {
    10: [1, 100, 0],
    11: [10, 150, 35],
  }]);
  strictEqual(o!.u, 0);
  strictEqual(o2!.u, 5);
  // One born after the attach but missed by a scan (an orphan re-parented mid-scan) is all ours.
  const [n] = run([{ 10: [1, 100, 0] }, { 10: [1, 100, 0], 11: [10, 250, 30] }]);
  strictEqual(n!.u, 30);
});

Deno.test("fork and exit between two samples: all of the child's T counts once", () => {
  // 11 started and was reaped between the scans: only 10's cutime shows it.
  const [d] = run([{ 10: [1, 100, 0] }, { 10: [1, 100, 77, 3, 0, 65536] }]);
  deepStrictEqual(d, out(77, 3, 0, 65536));
  // …and a new PID alive at the scan contributes all of its T.
  const [n] = run([{ 10: [1, 100, 0] }, { 10: [1, 100, 0], 11: [10, 250, 30, 2, 0, 4096] }]);
  deepStrictEqual(n, out(30, 2, 0, 4096));
});

Deno.test("transiently unreadable member: the amount waits one interval, never doubles", () => {
  const [a, b, c] = run([
    { 10: [1, 100, 10], 11: [10, 150, 100] },
    { 10: [1, 100, 12] }, // 11 unreadable (alive)
    { 10: [1, 100, 12], 11: [10, 150, 105] }, // readable again
    { 10: [1, 100, 20], 11: [10, 150, 105] },
  ]);
  strictEqual(a!.u, 0); // Q fell by 100: nothing reported, nothing negative
  strictEqual(b!.u, 7);
  strictEqual(c!.u, 8);
});

Deno.test("wrapper mode: exact by conservation, whatever the scans missed", () => {
  // A child reaped mid-scan is missed once (Q dips), then shows up in the reaper.
  const d = run([
    { 10: [1, 100, 1] },
    { 10: [1, 100, 1], 11: [10, 150, 40] },
    { 10: [1, 100, 1] }, // 11 reaped by 10 while the scan read 10 first: missing once
    { 10: [1, 100, 61] }, // 10's cutime now has 11's 60
    {}, // 10 exited, the tracker reaped it: 61 + 9 more
  ], { outside: [out(0), out(0), out(0), out(0), out(70)] });
  // The root's tick before the baseline is the run's too (counted from the spawn).
  deepStrictEqual(d.map((x) => x.u), [41, 0, 20, 9]);
  strictEqual(d.reduce((a, x) => a + x.u, 0), 70);
});
