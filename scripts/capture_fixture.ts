/**
 * Records the pseudo-files the collectors read into a fixture tree:
 *
 *   deno run -A scripts/capture_fixture.ts tests/fixtures/<name> [--pid PID] [--gap SECS]
 *
 * Writes `<dir>/proc`, `<dir>/sys` and `<dir>/root` (empty mount-point directories for statfs),
 * then, after `--gap` seconds, the counter files again into `<dir>/proc.t1` so tests have two
 * snapshots. MAC addresses, serials, WWIDs, machine ids and host names are scrubbed; sysfs
 * symlinks become relative links inside the tree. With `--pid`, that process tree's files are
 * recorded too.
 */
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: { pid: { type: "string" }, gap: { type: "string", default: "1" } },
  allowPositionals: true,
});
const out = positionals[0];
if (!out) {
  console.error("usage: capture_fixture.ts OUT_DIR [--pid PID] [--gap SECS]");
  Deno.exit(2);
}

const hostname = Deno.hostname();
let macCounter = 0;
const macs = new Map<string, string>();

function scrub(text: string): string {
  let t = text.replace(/\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b/gi, (mac) => {
    if (mac === "00:00:00:00:00:00" || mac === "ff:ff:ff:ff:ff:ff") return mac;
    if (!macs.has(mac)) {
      macs.set(mac, `02:00:00:00:00:${(++macCounter).toString(16).padStart(2, "0")}`);
    }
    return macs.get(mac)!;
  });
  if (hostname) t = t.replaceAll(hostname, "fixture-host");
  return t;
}

function write(rel: string, text: string) {
  const path = `${out}/${rel}`;
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  Deno.writeTextFileSync(path, text);
}

function copy(src: string, rel: string, transform: (t: string) => string = scrub) {
  try {
    write(rel, transform(Deno.readTextFileSync(src)));
  } catch { /* absent or unreadable on this machine: the fixture simply lacks it */ }
}

function link(rel: string, target: string) {
  const path = `${out}/${rel}`;
  Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  try {
    Deno.removeSync(path);
  } catch { /* new */ }
  Deno.symlinkSync(target, path);
}

function list(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  } catch {
    return [];
  }
}

const COUNTERS = ["stat", "meminfo", "net/dev", "diskstats"];

function captureCounters(prefix: string) {
  for (const f of COUNTERS) copy(`/proc/${f}`, `${prefix}/${f}`);
}

// procfs
captureCounters("proc");
copy("/proc/self/mountinfo", "proc/self/mountinfo");
copy("/proc/mounts", "proc/mounts");
copy("/proc/cpuinfo", "proc/cpuinfo");
copy("/proc/loadavg", "proc/loadavg");
// process_count only counts PID directories: record them empty unless --pid asks for a tree.
const pids = list("/proc").filter((n) => /^\d+$/.test(n));
// An empty `cmdline` keeps each PID directory in git (kernel threads have an empty one too).
for (const pid of pids) write(`proc/${pid}/cmdline`, "");
if (values.pid) {
  const todo = [values.pid];
  while (todo.length) {
    const pid = todo.pop()!;
    for (const f of ["stat", "status", "io", "smaps_rollup"]) {
      copy(`/proc/${pid}/${f}`, `proc/${pid}/${f}`);
    }
    for (const tid of list(`/proc/${pid}/task`)) {
      copy(`/proc/${pid}/task/${tid}/children`, `proc/${pid}/task/${tid}/children`);
      const kids = Deno.readTextFileSync(`/proc/${pid}/task/${tid}/children`).trim();
      if (kids) todo.push(...kids.split(/\s+/));
    }
  }
}

// sysfs: network
for (const ifname of list("/sys/class/net")) {
  const base = `/sys/class/net/${ifname}`;
  for (const f of ["address", "operstate", "speed", "mtu"]) {
    copy(`${base}/${f}`, `sys/class/net/${ifname}/${f}`);
  }
  try {
    const driver = Deno.readLinkSync(`${base}/device/driver`).split("/").pop()!;
    Deno.mkdirSync(`${out}/sys/bus/drivers/${driver}`, { recursive: true });
    link(`sys/class/net/${ifname}/device/driver`, `../../../../bus/drivers/${driver}`);
  } catch { /* virtual interface: no driver */ }
}

// sysfs: block devices, recreated under devices/{virtual,physical}/ so the "virtual" test works.
for (const dev of list("/sys/block")) {
  const real = Deno.realPathSync(`/sys/block/${dev}`);
  const kind = real.includes("/devices/virtual/") ? "virtual" : "pci0000:00";
  const dst = `sys/devices/${kind}/block/${dev}`;
  link(`sys/block/${dev}`, `../devices/${kind}/block/${dev}`);
  for (const f of ["dev", "size", "queue/rotational", "queue/hw_sector_size", "dm/name"]) {
    copy(`/sys/block/${dev}/${f}`, `${dst}/${f}`);
  }
  copy(`/sys/block/${dev}/device/model`, `${dst}/device/model`);
  copy(`/sys/block/${dev}/device/vendor`, `${dst}/device/vendor`);
  copy(`/sys/block/${dev}/device/serial`, `${dst}/device/serial`, () => "FIXTURE-SERIAL\n");
  copy(`/sys/block/${dev}/device/wwid`, `${dst}/device/wwid`, () => "FIXTURE-WWID\n");
  for (const part of list(`/sys/block/${dev}`)) {
    copy(`/sys/block/${dev}/${part}/partition`, `${dst}/${part}/partition`);
    copy(`/sys/block/${dev}/${part}/dev`, `${dst}/${part}/dev`);
  }
}

// sysfs: cgroup CPU and DMI
for (const f of ["cpu.stat", "cpu.max"]) copy(`/sys/fs/cgroup/${f}`, `sys/fs/cgroup/${f}`);
for (const f of list("/sys/class/dmi/id")) {
  if (/serial|uuid/.test(f)) continue; // root-only identifiers
  copy(`/sys/class/dmi/id/${f}`, `sys/class/dmi/id/${f}`);
}

// root: mount points for statfs
for (const line of (Deno.readTextFileSync("/proc/self/mountinfo")).split("\n")) {
  const mp = line.split(" ")[4];
  if (mp?.startsWith("/") && !/^\/(proc|sys|dev|run)(\/|$)/.test(mp)) {
    write(`root${mp.replace(/\\040/g, " ")}/.keep`, ""); // git keeps no empty directories
  }
}

await new Promise((r) => setTimeout(r, Number(values.gap) * 1000));
captureCounters("proc.t1");
console.log(`captured ${out}`);
