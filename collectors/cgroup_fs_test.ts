import { deepStrictEqual, strictEqual } from "node:assert/strict";
import {
  keyedValue,
  parseBlkioBytes,
  parseCfsLimit,
  parseCgroupMounts,
  parseCount,
  parseCpuMaxLimit,
  parseIoStat,
  parseLimit,
  parsePressure,
  parseProcCgroup,
  resolveCgroup,
} from "./cgroup_fs.ts";

Deno.test("parseProcCgroup: v2, v1 with co-mounted controllers, hybrid, junk", () => {
  const table: [string, string | null, Record<string, string>][] = [
    ["0::/system.slice/a.service\n", "/system.slice/a.service", {}],
    ["3:cpu,cpuacct:/docker/x\n5:memory:/docker/x\n1:name=systemd:/\n", null, {
      cpu: "/docker/x",
      cpuacct: "/docker/x",
      memory: "/docker/x",
      "name=systemd": "/",
    }],
    ["4:memory:/a\n0::/\n", "/", { memory: "/a" }],
    ["", null, {}],
    ["garbage\n1:cpu\n2:pids:relative\n", null, {}],
  ];
  for (const [text, v2, v1] of table) {
    const pc = parseProcCgroup(text);
    strictEqual(pc.v2, v2, text);
    deepStrictEqual(Object.fromEntries(pc.v1), v1, text);
  }
});

Deno.test("parseCgroupMounts: cgroup and cgroup2 lines only, octal escapes undone", () => {
  const mounts = parseCgroupMounts(
    "24 1 8:1 / / rw - ext4 /dev/sda1 rw\n" +
      "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n" +
      "40 30 0:37 /kubepods/pod1 /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw\n" +
      "41 30 0:38 / /mnt/with\\040space rw - cgroup cgroup rw,xattr,name=systemd\n" +
      "broken line\n",
  );
  deepStrictEqual(mounts, [
    {
      v2: false,
      mountPoint: "/sys/fs/cgroup/cpu,cpuacct",
      root: "/",
      controllers: ["cpu", "cpuacct"],
    },
    { v2: true, mountPoint: "/sys/fs/cgroup", root: "/kubepods/pod1", controllers: [] },
    { v2: false, mountPoint: "/mnt/with space", root: "/", controllers: ["name=systemd"] },
  ]);
});

Deno.test("resolveCgroup: v2, v1 under --sysfs, a container's bind mount, default mounts", () => {
  const v2 = resolveCgroup(
    parseProcCgroup("0::/system.slice/job.service\n"),
    parseCgroupMounts("35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
    "/host/sys",
  );
  strictEqual(v2.version, 2);
  strictEqual(v2.unified, "/host/sys/fs/cgroup/system.slice/job.service");
  strictEqual(v2.path, "/system.slice/job.service");

  const v1 = resolveCgroup(
    parseProcCgroup("3:cpu,cpuacct:/docker/abc\n5:memory:/docker/abc\n0::/\n"),
    parseCgroupMounts(
      "32 30 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
        "33 30 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n" +
        "31 30 0:28 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
    ),
    "/sys",
  );
  strictEqual(v1.version, 1);
  strictEqual(v1.memory, "/sys/fs/cgroup/memory/docker/abc");
  strictEqual(v1.cpu, "/sys/fs/cgroup/cpu,cpuacct/docker/abc");
  strictEqual(v1.cpuacct, "/sys/fs/cgroup/cpu,cpuacct/docker/abc");
  strictEqual(v1.unified, "/sys/fs/cgroup/unified");
  strictEqual(v1.unifiedPath, "/");
  strictEqual(v1.pids, undefined);

  // Inside a container the mount shows the container's own cgroup as its root.
  const bind = resolveCgroup(
    parseProcCgroup("0::/kubepods/pod1/ctr\n"),
    parseCgroupMounts("40 30 0:37 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
    "/sys",
  );
  strictEqual(bind.unified, "/sys/fs/cgroup/ctr");
  // A path the mount does not show is not guessed.
  const outside = resolveCgroup(
    parseProcCgroup("0::/other\n"),
    parseCgroupMounts("40 30 0:37 /kubepods/pod1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"),
    "/sys",
  );
  strictEqual(outside.unified, undefined);

  // No mount table: the usual places.
  strictEqual(
    resolveCgroup(parseProcCgroup("0::/a\n"), [], "/s").unified,
    "/s/fs/cgroup/a",
  );
  strictEqual(
    resolveCgroup(parseProcCgroup("4:memory:/a\n0::/\n"), [], "/s").memory,
    "/s/fs/cgroup/memory/a",
  );
});

Deno.test("limit, count and CPU-limit parsers", () => {
  const limits: [string | undefined, number | null | undefined][] = [
    ["max\n", null],
    ["4294967296\n", 4294967296],
    ["9223372036854771712\n", null], // v1 "unlimited"
    ["-1\n", null],
    ["", undefined],
    ["12abc", undefined],
    [undefined, undefined],
  ];
  for (const [t, want] of limits) strictEqual(parseLimit(t), want, String(t));
  strictEqual(parseCount("7\n"), 7);
  strictEqual(parseCount("-1"), undefined);
  strictEqual(parseCount(undefined), undefined);
  deepStrictEqual(parseCpuMaxLimit("20000 100000\n"), { quota_us: 20000, period_us: 100000 });
  deepStrictEqual(parseCpuMaxLimit("max 100000\n"), { quota_us: null, period_us: 100000 });
  strictEqual(parseCpuMaxLimit("junk"), undefined);
  deepStrictEqual(parseCfsLimit("20000\n", "100000\n"), { quota_us: 20000, period_us: 100000 });
  deepStrictEqual(parseCfsLimit("-1\n", "100000\n"), { quota_us: null, period_us: 100000 });
  strictEqual(parseCfsLimit(undefined, "100000"), undefined);
  strictEqual(parseCfsLimit("1", "0"), undefined);
});

Deno.test("keyedValue finds whole keys only", () => {
  const ev = "low 0\nhigh 3\nmax 12\noom 1\noom_kill 2\noom_group_kill 0\n";
  strictEqual(keyedValue(ev, "low"), 0);
  strictEqual(keyedValue(ev, "max"), 12);
  strictEqual(keyedValue(ev, "oom"), 1);
  strictEqual(keyedValue(ev, "oom_kill"), 2);
  strictEqual(keyedValue(ev, "kill"), undefined);
  strictEqual(keyedValue("oom_kill_disable 0\nunder_oom 0\n", "oom_kill"), undefined);
  strictEqual(keyedValue("nr_periods 5", "nr_periods"), 5);
  strictEqual(keyedValue("nr_periods x\n", "nr_periods"), undefined);
});

Deno.test("parsePressure: some and full totals in µs; cpu without full on old kernels", () => {
  deepStrictEqual(
    parsePressure(
      "some avg10=1.00 avg60=0.50 avg300=0.10 total=2000000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n",
    ),
    { some_us: 2000000, full_us: 7 },
  );
  deepStrictEqual(parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n"), {
    some_us: 5,
    full_us: null,
  });
  strictEqual(parsePressure(""), undefined);
  strictEqual(parsePressure("full avg10=0 total=1\n"), undefined);
  strictEqual(parsePressure(undefined), undefined);
});

Deno.test("I/O byte parsers: v2 io.stat and v1 blkio (Total lines skipped)", () => {
  deepStrictEqual(
    parseIoStat("8:0 rbytes=100 wbytes=200 rios=1 wios=2\n259:0 rbytes=1 wbytes=0 rios=1\n"),
    { read: 101, write: 200 },
  );
  deepStrictEqual(parseIoStat(""), { read: 0, write: 0 });
  deepStrictEqual(
    parseBlkioBytes("8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\nTotal 12288\n"),
    { read: 4096, write: 8192 },
  );
  strictEqual(parseBlkioBytes(undefined), undefined);
});
