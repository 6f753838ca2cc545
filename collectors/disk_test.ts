import { deepStrictEqual, ok, strictEqual } from "node:assert/strict";
import {
  deriveDisks,
  deviceType,
  DiskReader,
  mountsOf,
  mountSpace,
  parseDiskstats,
  parseMountinfo,
  parseProcMounts,
  readDiskIdentity,
} from "./disk.ts";

const fixture = (p: string) => new URL(`../tests/fixtures/vm-basic/${p}`, import.meta.url).pathname;

Deno.test("parseDiskstats: sectors read (col 6) and written (col 10)", () => {
  const m = parseDiskstats(
    " 259 0 nvme0n1 100 0 2048 10 50 0 4096 5 0 0 0\n   7 0 loop0 1 0 8 0 0 0 0 0 0 0 0\n",
  );
  deepStrictEqual(m.get("nvme0n1"), { sectors_read: 2048, sectors_written: 4096 });
  strictEqual(m.size, 2);
  strictEqual(parseDiskstats("").size, 0);
  strictEqual(parseDiskstats("8 0 sda 1 2 3").size, 0);
  strictEqual(parseDiskstats("8 0 sda a b c d e f g").size, 0);
});

Deno.test("parseMountinfo decodes escapes and optional fields", () => {
  const m = parseMountinfo(
    "36 35 8:1 / /mnt/my\\040disk rw,noatime master:1 shared:2 - ext4 /dev/sda1 rw\n" +
      "garbage\n",
  );
  deepStrictEqual(m, [{
    devno: "8:1",
    mount_point: "/mnt/my disk",
    filesystem: "ext4",
    source: "/dev/sda1",
  }]);
  deepStrictEqual(parseProcMounts("/dev/sda1 / ext4 rw 0 0\n")[0]!.mount_point, "/");
  deepStrictEqual(parseMountinfo(""), []);
});

function tree(): string {
  const sys = Deno.makeTempDirSync();
  const w = (p: string, t: string) => {
    Deno.mkdirSync(`${sys}/${p}`.replace(/\/[^/]+$/, ""), { recursive: true });
    Deno.writeTextFileSync(`${sys}/${p}`, t);
  };
  w("block/sda/dev", "8:0\n");
  w("block/sda/queue/rotational", "1\n");
  w("block/sda/device/model", "WDC WD40\n");
  w("block/sda/device/wwid", "naa.5000\n");
  w("block/sda/sda1/partition", "1\n");
  w("block/sda/sda1/dev", "8:1\n");
  w("block/sda/sda2/partition", "2\n");
  w("block/sda/sda2/dev", "8:2\n");
  w("block/sdaa/dev", "65:160\n");
  w("block/sdaa/sdaa1/partition", "1\n");
  w("block/sdaa/sdaa1/dev", "65:161\n");
  w("block/dm-0/dev", "253:0\n");
  w("block/dm-0/dm/name", "vg-root\n");
  w("block/nvme0n1/dev", "259:0\n");
  w("block/nvme0n1/queue/rotational", "0\n");
  return sys;
}

Deno.test("readDiskIdentity: type, serial fallback to wwid, partitions and dm names", () => {
  const sys = tree();
  try {
    const sda = readDiskIdentity(sys, "sda");
    strictEqual(sda.device_type, "hdd");
    strictEqual(sda.serial, "naa.5000");
    strictEqual(sda.model, "WDC WD40");
    deepStrictEqual([...sda.names].sort(), ["sda", "sda1", "sda2"]);
    deepStrictEqual([...sda.devnos].sort(), ["8:0", "8:1", "8:2"]);
    ok(readDiskIdentity(sys, "dm-0").names.has("mapper/vg-root"));
    strictEqual(readDiskIdentity(sys, "nvme0n1").device_type, "nvme");
    strictEqual(deviceType("sdb", 0), "ssd");
    strictEqual(deviceType("sdb", undefined), null);
  } finally {
    Deno.removeSync(sys, { recursive: true });
  }
});

Deno.test("mountsOf: devno match (/dev/root), exact names (no sda→sdaa prefix bug), dedupe, skips", () => {
  const sys = tree();
  try {
    const mounts = parseMountinfo([
      "1 0 8:2 / / rw - ext4 /dev/root rw",
      "2 1 8:1 / /boot rw - vfat /dev/sda1 rw",
      "3 1 8:1 / /srv/bind rw - vfat /dev/sda1 rw", // bind mount of the same source
      "4 1 65:161 / /data rw - xfs /dev/sdaa1 rw",
      "5 1 0:50 / /run/x rw - ext4 /dev/sda2 rw", // under /run: skipped
      "6 1 253:0 / /home rw - ext4 /dev/mapper/vg-root rw",
      "7 1 0:60 / /vol rw - btrfs /dev/sda2 rw", // btrfs anon devno: same partition as /dev/root
      "8 1 0:61 / /vol2 rw - btrfs /dev/sdaa rw", // whole-disk filesystem, matched by name
    ].join("\n"));
    const sda = mountsOf(readDiskIdentity(sys, "sda"), mounts).map((m) => m.mount_point);
    deepStrictEqual(sda, ["/", "/boot"]);
    const sdaa = mountsOf(readDiskIdentity(sys, "sdaa"), mounts).map((m) => m.mount_point);
    deepStrictEqual(sdaa, ["/data", "/vol2"]);
    deepStrictEqual(mountsOf(readDiskIdentity(sys, "dm-0"), mounts).map((m) => m.mount_point), [
      "/home",
    ]);
  } finally {
    Deno.removeSync(sys, { recursive: true });
  }
});

Deno.test("mountSpace: f_frsize preferred, reserved blocks neither used nor available", () => {
  const m = { devno: "", mount_point: "/", filesystem: "ext4", source: "/dev/sda1" };
  const s = mountSpace(m, { blocks: 1000, bfree: 300, bavail: 250, bsize: 8192, frsize: 4096 })!;
  strictEqual(s.total_bytes, 4096000);
  strictEqual(s.used_bytes, 700 * 4096);
  strictEqual(s.available_bytes, 250 * 4096);
  strictEqual(s.used_pct, 70);
  strictEqual(mountSpace(m, { blocks: 0, bfree: 0, bavail: 0, bsize: 4096 }), undefined);
  strictEqual(
    mountSpace(m, { blocks: 10, bfree: 0, bavail: 0, bsize: 512, frsize: 0 })!.total_bytes,
    5120,
  );
});

Deno.test("deriveDisks: sectors × 512 whatever hw_sector_size, capacity null for 0 sectors", () => {
  const id = () => ({
    device: "sda",
    model: null,
    vendor: null,
    serial: null,
    device_type: "ssd" as const,
    virtual: false,
    names: new Set<string>(),
    devnos: new Set<string>(),
    devnoByName: new Map<string, string>(),
  });
  const prev = new Map([["sda", { sectors_read: 0, sectors_written: 100 }]]);
  // sda after 8 sectors read and 8 written, 0.5 s after `before` (none: the first sample).
  const sda = (before: typeof prev | undefined, sizeSectors: number) =>
    deriveDisks(
      before,
      [{
        device: "sda",
        counters: { sectors_read: 8, sectors_written: 108 },
        size_sectors: sizeSectors,
        mounts: [],
      }],
      0.5,
      id,
    )[0]!;
  const d = sda(prev, 0);
  strictEqual(d.read_bytes_per_sec, 8192);
  strictEqual(d.write_bytes_per_sec, 8192);
  strictEqual(d.read_bytes_total, 4096);
  strictEqual(d.capacity_bytes, null);
  const first = sda(undefined, 2);
  strictEqual(first.read_bytes_per_sec, 0);
  strictEqual(first.capacity_bytes, 1024);
});

Deno.test("DiskReader on the recorded VM: vda physical, zram virtual, loop excluded, root mounted", () => {
  const r = new DiskReader(fixture("proc"), fixture("sys"), fixture("root")).read()!;
  const names = r.readings.map((d) => d.device);
  ok(names.includes("vda"));
  ok(!names.some((n) => n.startsWith("loop")));
  const vda = r.readings.find((d) => d.device === "vda")!;
  deepStrictEqual(vda.mounts.map((m) => m.mount_point), ["/"]);
  ok(vda.mounts[0]!.total_bytes > 0);
  const reader = new DiskReader(fixture("proc"), fixture("sys"), fixture("root"));
  reader.read();
  strictEqual(reader.identity("vda").virtual, false);
  if (names.includes("zram0")) strictEqual(reader.identity("zram0").virtual, true);
});
