import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { type PidEntry, treeDelta } from "./tree_delta.ts";

/** pid → [ppid, starttime, u, s, read, write] */
function snap(rows: Record<number, [number, number, number, number, number?, number?]>) {
  const m = new Map<number, PidEntry>();
  for (const [pid, [ppid, start, u, s, read, write]] of Object.entries(rows)) {
    m.set(Number(pid), { ppid, starttime: start, c: { u, s, read: read ?? 0, write: write ?? 0 } });
  }
  return m;
}

Deno.test("baseline: everything zero", () => {
  const d = treeDelta(undefined, snap({ 10: [1, 100, 50, 5, 4096, 8192] }), undefined);
  deepStrictEqual(d.delta, { u: 0, s: 0, read: 0, write: 0 });
});

Deno.test("growth of known PIDs is summed", () => {
  const prev = snap({ 10: [1, 100, 50, 5, 0, 0], 11: [10, 150, 10, 1, 0, 100] });
  const curr = snap({ 10: [1, 100, 70, 6, 0, 0], 11: [10, 150, 40, 1, 0, 300] });
  deepStrictEqual(treeDelta(prev, curr, 200).delta, { u: 50, s: 1, read: 0, write: 200 });
});

Deno.test("a child that exited and was reaped by a tree parent is not counted twice", () => {
  // 11 had 30 ticks at the last scan, ran 10 more, exited; 10 reaped it: cutime += 40.
  const prev = snap({ 10: [1, 100, 50, 0], 11: [10, 150, 30, 0] });
  const curr = snap({ 10: [1, 100, 50 + 40, 0] });
  strictEqual(treeDelta(prev, curr, 200).delta.u, 10);
});

Deno.test("cascaded exits: grandchild reaped by child, child reaped by root", () => {
  const prev = snap({ 10: [1, 100, 0, 0], 11: [10, 150, 20, 0], 12: [11, 160, 5, 0] });
  // 12 ran 5 more (total 10) and was reaped by 11 (cutime 10); 11 ran 10 more (30 own) and was
  // reaped by 10: 10's cutime = 30 + 10 = 40.
  const curr = snap({ 10: [1, 100, 40, 0] });
  // 12's parent 11 is gone, so 12's 5 ticks cannot be subtracted from 11's jump here; the
  // result still never double counts more than one hop: raw 40 − exited 20 = 20 ≥ true 15.
  strictEqual(treeDelta(prev, curr, 200).delta.u, 20);
});

Deno.test("a new PID started during the interval contributes all of its counters", () => {
  const prev = snap({ 10: [1, 100, 0, 0] });
  const curr = snap({ 10: [1, 100, 0, 0], 11: [10, 250, 30, 2, 0, 67108864] });
  deepStrictEqual(treeDelta(prev, curr, 200).delta, { u: 30, s: 2, read: 0, write: 67108864 });
  // …but an older process that merely entered the tree (adopted, or first readable) does not.
  deepStrictEqual(treeDelta(prev, curr, 300).delta.u, 0);
});

Deno.test("a reused PID (different start time) is a new process, not a huge negative delta", () => {
  const prev = snap({ 10: [1, 100, 0, 0], 11: [10, 150, 500, 0] });
  const curr = snap({ 10: [1, 100, 0, 0], 11: [10, 260, 3, 0] });
  strictEqual(treeDelta(prev, curr, 250).delta.u, 3);
});

Deno.test("transiently unreadable PID: correction skipped when exits exceed raw; carried one hop", () => {
  const prev = snap({ 10: [1, 100, 10, 0], 11: [10, 150, 100, 0] });
  const t1 = treeDelta(prev, snap({ 10: [1, 100, 12, 0] }), 200);
  strictEqual(t1.delta.u, 2); // exited (100) > raw (2): treated as a read failure
  strictEqual(t1.next.get(11)?.carried, true);
  // 11 is readable again: its growth since the carried value counts, it is not "new".
  const t2 = treeDelta(t1.next, snap({ 10: [1, 100, 12, 0], 11: [10, 150, 105, 0] }), 300);
  strictEqual(t2.delta.u, 5);
  // Missing twice: dropped, and never subtracted a second time.
  const t3 = treeDelta(t1.next, snap({ 10: [1, 100, 20, 0] }), 300);
  strictEqual(t3.delta.u, 8);
  strictEqual(t3.next.has(11), false);
});

Deno.test("a vanished PID whose parent is outside the tree is not subtracted", () => {
  // 11 was adopted by the tracker (ppid 1 here, outside the tree) and exited.
  const prev = snap({ 10: [1, 100, 10, 0], 11: [1, 150, 50, 0] });
  strictEqual(treeDelta(prev, snap({ 10: [1, 100, 70, 0] }), 200).delta.u, 60);
});
