import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  IDLE_RESCAN,
  parseChildren,
  parseIo,
  parsePidStat,
  parseSmapsRollupPss,
  parseSmapsRollupRss,
  parseStatusRss,
  readPidMemory,
  scanTree,
} from "./process.ts";

const STAT =
  "4242 (python3 (x) y) S 4200 4242 4200 34816 4242 4194304 1000 0 0 0 250 30 12 4 20 0 3 0 123456 100000 2000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";

Deno.test("parsePidStat: comm with spaces and parentheses; fields 3, 4, 14–17, 22", () => {
  deepStrictEqual(parsePidStat(STAT), {
    pid: 4242,
    ppid: 4200,
    state: "S",
    utime: 250,
    stime: 30,
    cutime: 12,
    cstime: 4,
    starttime: 123456,
    threads: 3,
    raw: STAT,
  });
  strictEqual(parsePidStat(STAT.replace(" 12 4 ", " -1 -2 "))!.cutime, 0);
});

Deno.test("parsePidStat: empty, truncated and garbage input", () => {
  strictEqual(parsePidStat(""), undefined);
  strictEqual(parsePidStat("4242 (x) S 1 2 3"), undefined);
  strictEqual(parsePidStat("garbage"), undefined);
  strictEqual(parsePidStat(STAT.replace("250", "abc")), undefined);
});

Deno.test("parseChildren, parseStatusRss, parseSmapsRollupPss, parseIo", () => {
  deepStrictEqual(parseChildren("12 13 1044 \n"), [12, 13, 1044]);
  deepStrictEqual(parseChildren(""), []);
  strictEqual(
    parseStatusRss("Name:\tx\nVmPeak:\t 9 kB\nVmRSS:\t  262144 kB\nRssAnon: 1 kB\n"),
    262144,
  );
  strictEqual(parseStatusRss("Name:\tkthreadd\nState:\tS\n"), undefined);
  const rollup =
    "55d0-7ffe ---p 0 00:00 0 [rollup]\nRss:  262144 kB\nPss:  131072 kB\nPss_Anon: 1 kB\n";
  strictEqual(parseSmapsRollupPss(rollup), 131072);
  strictEqual(parseSmapsRollupRss(rollup), 262144);
  strictEqual(parseSmapsRollupPss(""), undefined);
  deepStrictEqual(
    parseIo(
      "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 4096\nwrite_bytes: 67108864\ncancelled_write_bytes: 0\n",
    ),
    { read_bytes: 4096, write_bytes: 67108864 },
  );
  strictEqual(parseIo("rchar: 1\n"), undefined);
});

Deno.test("scanTree walks children files of every thread, and falls back to a full scan", () => {
  const proc = Deno.makeTempDirSync();
  const w = (p: string, t: string) => {
    Deno.mkdirSync(`${proc}/${p}`.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${proc}/${p}`, t);
  };
  const stat = (pid: number, ppid: number, threads = 1) =>
    `${pid} (p) S ${ppid} 0 0 0 0 0 0 0 0 0 10 1 0 0 20 0 ${threads} 0 ${1000 + pid} 0 0\n`;
  try {
    w("10/stat", stat(10, 1, 2));
    w("10/task/10/children", "11\n");
    w("10/task/15/children", "12\n"); // a child started by another thread
    w("11/stat", stat(11, 10));
    w("11/task/11/children", "13 99\n"); // 99 vanished between the reads
    w("12/stat", stat(12, 10));
    w("12/task/12/children", "");
    w("13/stat", stat(13, 11));
    w("13/task/13/children", "");
    w("50/stat", stat(50, 1)); // unrelated
    const t = scanTree(proc, [10]);
    deepStrictEqual([...t.stats.keys()].sort((a, b) => a - b), [10, 11, 12, 13]);
    strictEqual(t.fullScan, false);
    strictEqual(t.missed, 1, "99 was listed but could not be read: a miss to rescan on");
    // Without children files: scan everything, same answer.
    for (const p of ["10/task/10", "10/task/15", "11/task/11", "12/task/12", "13/task/13"]) {
      Deno.removeSync(`${proc}/${p}/children`);
    }
    const f = scanTree(proc, [10]);
    strictEqual(f.fullScan, true);
    deepStrictEqual([...f.stats.keys()].sort((a, b) => a - b), [10, 11, 12, 13]);
    deepStrictEqual([...scanTree(proc, [777]).stats.keys()], []);
  } finally {
    Deno.removeSync(proc, { recursive: true });
  }
});

Deno.test("live: the test process itself reads with PSS and RSS", () => {
  const m = readPidMemory("/proc", Deno.pid);
  ok(m.pss_kb > 0 && m.rss_kb > 0);
  ok(m.pss_kb <= m.rss_kb);
  const t = scanTree("/proc", [Deno.pid]);
  ok(t.stats.has(Deno.pid));
});

Deno.test("scanTree reuses a process that has not run (schedstat), and re-reads it when it has", () => {
  const proc = Deno.makeTempDirSync();
  const w = (p: string, t: string) => {
    Deno.mkdirSync(`${proc}/${p}`.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${proc}/${p}`, t);
  };
  const stat = (pid: number, utime: number) =>
    `${pid} (p) S 1 0 0 0 0 0 0 0 0 0 ${utime} 1 0 0 20 0 1 0 ${1000 + pid} 0 0\n`;
  try {
    w("10/stat", stat(10, 5));
    w("10/schedstat", "5000000 100 7\n");
    w("10/task/10/children", "");
    const first = scanTree(proc, [10]);
    strictEqual(first.stats.get(10)!.utime, 5);
    // It did not run: a changed stat (and a new child) are not even read.
    w("10/stat", stat(10, 6));
    w("10/task/10/children", "11\n");
    w("11/stat", stat(11, 0));
    const idle = scanTree(proc, [10], first);
    strictEqual(idle.stats.get(10)!.utime, 5);
    strictEqual(idle.stats.size, 1);
    // It ran: everything is read again, the new child included.
    w("10/schedstat", "6000000 100 8\n");
    const ran = scanTree(proc, [10], idle);
    strictEqual(ran.stats.get(10)!.utime, 6);
    deepStrictEqual([...ran.stats.keys()], [10, 11]);
    // Idle for IDLE_RESCAN scans: read in full anyway.
    let s = ran;
    w("10/stat", stat(10, 7));
    for (let i = 0; i < IDLE_RESCAN; i++) s = scanTree(proc, [10], s);
    strictEqual(s.stats.get(10)!.utime, 6);
    strictEqual(scanTree(proc, [10], s).stats.get(10)!.utime, 7);
  } finally {
    Deno.removeSync(proc, { recursive: true });
  }
});

Deno.test("scanTree follows members that left the walk (by start time), and rereads threaded processes", () => {
  const proc = Deno.makeTempDirSync();
  const w = (p: string, t: string) => {
    Deno.mkdirSync(`${proc}/${p}`.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${proc}/${p}`, t);
  };
  const stat = (pid: number, ppid: number, start: number, utime = 0, threads = 1) =>
    `${pid} (p) S ${ppid} 0 0 0 0 0 0 0 0 0 ${utime} 1 0 0 20 0 ${threads} 0 ${start} 0 0\n`;
  try {
    w("10/stat", stat(10, 1, 100));
    w("10/task/10/children", "11\n");
    w("11/stat", stat(11, 10, 110));
    w("11/task/11/children", "12\n");
    w("12/stat", stat(12, 11, 120));
    w("12/task/12/children", "");
    const first = scanTree(proc, [10]);
    deepStrictEqual([...first.stats.keys()], [10, 11, 12]);
    // 11 exits (10 reaps it); its child 12 is adopted by init: no longer under 10, still ours.
    Deno.removeSync(`${proc}/11`, { recursive: true });
    w("10/task/10/children", "");
    w("12/stat", stat(12, 1, 120));
    const next = scanTree(proc, [10], first, first.stats);
    deepStrictEqual([...next.stats.keys()], [10, 12]);
    strictEqual(next.missed, 0, "members expected gone are not misses");
    // 12 exits and its PID is reused by an unrelated process: not followed.
    w("12/stat", stat(12, 1, 999));
    deepStrictEqual([...scanTree(proc, [10], next, next.stats).stats.keys()], [10]);

    // A threaded process is read again even when its main thread's schedstat did not move
    // (another thread may have reaped a child).
    w("20/stat", stat(20, 1, 200, 5, 2));
    w("20/schedstat", "5000000 100 7\n");
    w("20/task/20/children", "");
    const t1 = scanTree(proc, [20]);
    w("20/stat", stat(20, 1, 200, 9, 2));
    strictEqual(scanTree(proc, [20], t1).stats.get(20)!.utime, 9);
  } finally {
    Deno.removeSync(proc, { recursive: true });
  }
});
