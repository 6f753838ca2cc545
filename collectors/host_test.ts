import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { deriveHost, parseCpuinfo, readHostInputs } from "./host.ts";

const BASE = {
  boardAssetTag: undefined,
  machineId: "0123456789abcdef\n",
  hostname: "box",
  ipv4: ["127.0.0.1", "10.1.2.3"],
  cpuinfo:
    "processor\t: 0\nmodel name\t: AMD EPYC 7R13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7R13\n",
  meminfo: "MemTotal:       16384000 kB\n",
  diskSectors: [2 * 1953125, 1953125],
  gpu: { host_gpu_model: null, host_gpu_count: null, host_gpu_memory_mib: null },
};

Deno.test("deriveHost: contract sources and null rules", () => {
  deepStrictEqual(deriveHost(BASE), {
    host_id: "0123456789abcdef",
    host_hostname: "box",
    host_ip: "10.1.2.3",
    host_server_allocation: null,
    host_vcpus: 2,
    host_cpu_model: "AMD EPYC 7R13",
    host_memory_mib: 16000,
    host_gpu_model: null,
    host_gpu_count: null,
    host_gpu_memory_mib: null,
    host_storage_gb: 3 * 1953125 * 512 / 1e9,
  });
  strictEqual(deriveHost({ ...BASE, boardAssetTag: "i-0abc" }).host_id, "i-0abc");
  strictEqual(deriveHost({ ...BASE, boardAssetTag: "Not Specified" }).host_id, "0123456789abcdef");
  const empty = deriveHost({
    ...BASE,
    machineId: undefined,
    hostname: "",
    ipv4: [],
    cpuinfo: "",
    meminfo: "",
    diskSectors: [],
  });
  strictEqual(empty.host_id, null);
  strictEqual(empty.host_ip, null);
  strictEqual(empty.host_vcpus, null);
  strictEqual(empty.host_memory_mib, null);
  strictEqual(empty.host_storage_gb, null);
});

Deno.test("parseCpuinfo: ARM without model name; garbage", () => {
  deepStrictEqual(parseCpuinfo("processor : 0\nBogoMIPS : 50\nprocessor : 1\n"), {
    vcpus: 2,
    model: null,
  });
  deepStrictEqual(parseCpuinfo("garbage"), { vcpus: 0, model: null });
});

Deno.test("readHostInputs on the recorded VM: physical disks only", () => {
  const f = new URL("../tests/fixtures/vm-basic", import.meta.url).pathname;
  const i = readHostInputs({ proc: `${f}/proc`, sys: `${f}/sys`, root: `${f}/root` });
  strictEqual(i.diskSectors.length, 1); // vda; zram0 is virtual, loop* excluded
  strictEqual(deriveHost(i).host_vcpus, 2);
});
