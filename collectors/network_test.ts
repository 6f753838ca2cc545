import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { deriveNetwork, parseNetDev, readNetIdentity, readNetState } from "./network.ts";

const DEV0 = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 5000      10    0    0    0     0          0         0     5000      10    0    0    0     0       0          0
  eth0: 1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0
docker0:  0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`;
const DEV1 = DEV0.replace("eth0: 1000", "eth0: 3000").replace(
  "2000      20",
  "2500      20",
);

Deno.test("parseNetDev skips lo and headers, sorts by name", () => {
  const c = parseNetDev(DEV0);
  deepStrictEqual(c.map((x) => x.interface), ["docker0", "eth0"]);
  strictEqual(c[1]!.rx_bytes, 1000);
  strictEqual(c[1]!.tx_bytes, 2000);
});

Deno.test("parseNetDev: empty, truncated and garbage input", () => {
  deepStrictEqual(parseNetDev(""), []);
  deepStrictEqual(parseNetDev("eth0: 1 2 3"), []);
  deepStrictEqual(parseNetDev("eth0: a b c d e f g h i j"), []);
});

Deno.test("deriveNetwork: rates from deltas over the measured interval; new or reset → 0", () => {
  const id = () => ({ mac_address: null, driver: null });
  const st = () => ({ operstate: "up", speed_mbps: 1000, mtu: 1500 });
  const n = deriveNetwork(parseNetDev(DEV0), parseNetDev(DEV1), 2, id, st);
  const eth = n.find((x) => x.interface === "eth0")!;
  strictEqual(eth.rx_bytes_per_sec, 1000);
  strictEqual(eth.tx_bytes_per_sec, 250);
  strictEqual(eth.rx_bytes_total, 3000);
  strictEqual(eth.mtu, 1500);
  const first = deriveNetwork(undefined, parseNetDev(DEV1), 2, id, st);
  strictEqual(first[1]!.rx_bytes_per_sec, 0);
  const reset = deriveNetwork(parseNetDev(DEV1), parseNetDev(DEV0), 2, id, st);
  strictEqual(reset[1]!.rx_bytes_per_sec, 0);
});

Deno.test("network identity and state from the fixture sysfs tree", () => {
  const sys = new URL("../tests/fixtures/vm-basic/sys", import.meta.url).pathname;
  const id = readNetIdentity(sys, "eth0");
  strictEqual(id.driver, "virtio_net");
  strictEqual(id.mac_address, "02:00:00:00:00:01");
  const st = readNetState(sys, "eth0");
  strictEqual(st.operstate, "up");
  strictEqual(st.mtu, 1400);
  deepStrictEqual(readNetIdentity(sys, "nope"), { mac_address: null, driver: null });
  strictEqual(readNetState(sys, "ifb0").speed_mbps, null);
});
