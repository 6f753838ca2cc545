import assert from "node:assert/strict";
import {
  amdgpuLoaded,
  AmdNames,
  listAmdCards,
  lookupPciName,
  parseDpmSclk,
  parsePciSlot,
  readAmdCard,
  readRocmVersion,
} from "./amd_sysfs.ts";
import { fixtureRoots } from "../../tests/fakes/gpu.ts";

const AMD = fixtureRoots("amd");

Deno.test("parseDpmSclk: active line", () => {
  const cases: [string, number | undefined][] = [
    ["", undefined],
    ["0: 500Mhz\n1: 1700Mhz *\n", 1700],
    ["0: 500Mhz *\n1: 2500Mhz\n", 500],
    ["0: 500Mhz\n1: 2500Mhz\n", undefined],
    ["S: 19Mhz *\n0: 500Mhz", undefined],
    ["garbage *", undefined],
    ["1: 1200MHz  *  ", 1200],
  ];
  for (const [input, want] of cases) assert.equal(parseDpmSclk(input), want, JSON.stringify(input));
});

Deno.test("parsePciSlot", () => {
  assert.equal(parsePciSlot("DRIVER=amdgpu\nPCI_SLOT_NAME=0000:0C:00.0\n"), "0000:0c:00.0");
  assert.equal(parsePciSlot(""), undefined);
  assert.equal(parsePciSlot("PCI_SLOT_NAME="), undefined);
});

Deno.test("lookupPciName: subsystem first, then device, else nothing", () => {
  const ids = Deno.readTextFileSync(`${AMD.root}/usr/share/hwdata/pci.ids`);
  assert.equal(lookupPciName(ids, "1002", "744c", "1002", "0e3b"), "Radeon RX 7900 XTX");
  assert.equal(
    lookupPciName(ids, "1002", "744c", "1458", "2400"),
    "Navi 31 [Radeon RX 7900 XT/7900 XTX/7900 GRE/7900M]",
  );
  assert.equal(lookupPciName(ids, "1002", "740f"), "Aldebaran/MI200 [Instinct MI210]");
  assert.equal(lookupPciName(ids, "1002", "1480"), undefined, "belongs to vendor 1022");
  assert.equal(lookupPciName(ids, "10de", "2330"), undefined);
  assert.equal(lookupPciName("", "1002", "744c"), undefined);
  assert.equal(lookupPciName("garbage\n\t\tmore", "1002", "744c"), undefined);
});

Deno.test("amdgpu fixture: cards bound to amdgpu only, in order", () => {
  assert.equal(amdgpuLoaded(AMD), true);
  assert.equal(amdgpuLoaded(fixtureRoots("cpu_only")), false);
  assert.deepEqual(listAmdCards(AMD).map((c) => [c.card, c.pciBus]), [
    ["card0", "0000:03:00.0"],
    ["card1", "0000:0c:00.0"],
  ]);
  assert.equal(readRocmVersion(AMD), "6.1.2-119");
});

Deno.test("readAmdCard: gpu_metrics preferred, sysfs and hwmon fallbacks", () => {
  const [c0, c1] = listAmdCards(AMD);
  assert.ok(c0 !== undefined && c1 !== undefined);
  const names = new AmdNames(AMD);
  assert.deepEqual(readAmdCard(c0, names.name(c0), "6.1.2-119"), {
    uuid: "0000:03:00.0",
    name: "AMD Aldebaran/MI200 [Instinct MI210]",
    device_type: "GPU",
    host_id: "0000:03:00.0",
    detail: { pci_bus: "0000:03:00.0", rocm_version: "6.1.2-119" },
    utilization_pct: 42,
    vram_total_bytes: 68702699520,
    vram_used_bytes: 8589934592,
    vram_used_pct: 8589934592 / 68702699520 * 100,
    temperature_celsius: 58,
    power_watts: 187,
    frequency_mhz: 1850,
    core_count: null,
  });
  assert.deepEqual(readAmdCard(c1, names.name(c1), undefined), {
    uuid: "0000:0c:00.0",
    name: "AMD Radeon RX 7900 XTX",
    device_type: "GPU",
    host_id: "0000:0c:00.0",
    detail: { pci_bus: "0000:0c:00.0" },
    utilization_pct: 3,
    vram_total_bytes: 25753026560,
    vram_used_bytes: 0,
    vram_used_pct: 0,
    temperature_celsius: 45,
    power_watts: 35,
    frequency_mhz: 1200,
    core_count: null,
  });
});

Deno.test("readAmdCard: a card with nothing readable gives zeros", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const s = readAmdCard({ card: "card9", dir, pciBus: "0000:99:00.0" }, "AMD GPU", undefined);
    assert.equal(s.utilization_pct, 0);
    assert.equal(s.temperature_celsius, 0);
    assert.equal(s.power_watts, 0);
    assert.equal(s.frequency_mhz, 0);
    assert.equal(s.vram_used_pct, 0);
    assert.equal(new AmdNames(AMD).name({ card: "card9", dir, pciBus: "x" }), "AMD GPU");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
