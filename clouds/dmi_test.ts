import { deepStrictEqual } from "node:assert/strict";
import { readDmi } from "./dmi.ts";
import { PROBES } from "./mod.ts";
import { dmiRoot } from "../tests/fakes/clouds/env.ts";

const matchIds = (fixture: string) =>
  PROBES.filter((p) => p.dmi(readDmi(dmiRoot(fixture))) !== undefined).map((p) => p.id);

Deno.test("readDmi: missing tree is an empty record", () => {
  deepStrictEqual(readDmi("/nonexistent-sys-root"), {});
});

Deno.test("readDmi: trims values, skips empty files, reads /sys/hypervisor/uuid", () => {
  const xen = readDmi(dmiRoot("aws-xen"));
  deepStrictEqual(xen.sys_vendor, "Xen");
  deepStrictEqual(xen.hypervisor_uuid, "ec2e1916-9099-7caf-fd21-01234abcdef0");
  deepStrictEqual("chassis_asset_tag" in readDmi(dmiRoot("openstack")), false);
});

Deno.test("DMI fingerprints: each fixture names exactly its provider", () => {
  const table: [string, string[]][] = [
    ["aws-nitro", ["aws"]],
    ["aws-xen", ["aws"]],
    ["gcp", ["gcp"]],
    ["azure", ["azure"]],
    ["hetzner", ["hcloud"]],
    ["upcloud", ["upcloud"]],
    ["alibaba", ["alicloud"]],
    ["vultr", ["vultr"]],
    ["digitalocean", ["digitalocean"]],
    ["oracle", ["oracle"]],
    ["linode", ["linode"]],
    ["akamai", ["linode"]],
    ["scaleway", ["scaleway"]],
    // Inconclusive: these race the link-local probes.
    ["openstack", []],
    ["hyperv", []],
    ["kvm", []],
    ["laptop", []],
  ];
  for (const [fixture, ids] of table) deepStrictEqual(matchIds(fixture), ids, fixture);
});

Deno.test("DMI offline data: Nitro product_name is the instance type, Xen's is not", () => {
  const aws = PROBES.find((p) => p.id === "aws")!;
  deepStrictEqual(aws.dmi(readDmi(dmiRoot("aws-nitro")))?.offline, {
    cloud_instance_type: "m5a.large",
  });
  deepStrictEqual(aws.dmi(readDmi(dmiRoot("aws-xen")))?.offline, undefined);
  for (const name of ["c6g.metal", "u-6tb1.metal", "p4d.24xlarge"]) {
    const m = aws.dmi({ sys_vendor: "Amazon EC2", product_name: name });
    deepStrictEqual(m?.offline?.cloud_instance_type, name);
  }
  deepStrictEqual(
    aws.dmi({ sys_vendor: "Amazon EC2", product_name: "Not Specified" })?.offline,
    undefined,
  );
});
