/**
 * Realistic fake metadata services, one per provider, with the answer each probe must give.
 * Bodies follow the providers' documentation; ids and addresses are made up.
 */
import { alicloud } from "../../../clouds/alibaba.ts";
import { aws } from "../../../clouds/aws.ts";
import { azure } from "../../../clouds/azure.ts";
import { digitalocean } from "../../../clouds/digitalocean.ts";
import { gcp } from "../../../clouds/gcp.ts";
import { hcloud } from "../../../clouds/hetzner.ts";
import { linode } from "../../../clouds/linode.ts";
import { oracle } from "../../../clouds/oracle.ts";
import { ovh } from "../../../clouds/ovh.ts";
import { scaleway } from "../../../clouds/scaleway.ts";
import type { CloudInfo, CloudProbe } from "../../../clouds/types.ts";
import { upcloud } from "../../../clouds/upcloud.ts";
import { vultr } from "../../../clouds/vultr.ts";
import type { Handler } from "../loopback.ts";
import { json, text } from "./handlers.ts";

export interface ProviderCase {
  probe: CloudProbe;
  handler: Handler;
  expected: CloudInfo;
  /** DMI fixture under `clouds/testdata/dmi/` that names this provider; null when DMI cannot. */
  dmi: string | null;
}

export const AWS_TOKEN = "AQAEAFakeTokenForTests==";

export interface AwsOptions {
  /** IMDSv1 allowed (no token needed). Default false: IMDSv2 only, as new instances. */
  v1?: boolean;
  domain?: string;
  tokenRoute?: Handler;
  overrides?: Record<string, Handler>;
}

export function awsImds(o: AwsOptions = {}): Handler {
  const meta: Record<string, string> = {
    "/latest/meta-data/": "ami-id\nhostname\ninstance-id\ninstance-type\nplacement/\nservices/",
    "/latest/meta-data/services/domain": o.domain ?? "amazonaws.com",
    "/latest/meta-data/placement/region": "eu-central-1",
    "/latest/meta-data/placement/availability-zone": "eu-central-1a",
    "/latest/meta-data/instance-type": "m5a.large",
    // IMDS pretty-prints with spaces around the colons.
    "/latest/meta-data/identity-credentials/ec2/info":
      '{\n  "Code" : "Success",\n  "LastUpdated" : "2024-05-01T10:00:00Z",\n  "AccountId" : "123456789012"\n}',
    "/latest/dynamic/instance-identity/document":
      '{\n  "accountId" : "123456789012",\n  "region" : "eu-central-1",\n  "instanceType" : "m5a.large"\n}',
  };
  return (req, url, closed) => {
    const server = { Server: "EC2ws" };
    if (url.pathname === "/latest/api/token") {
      if (o.tokenRoute !== undefined) return o.tokenRoute(req, url, closed);
      if (req.method !== "PUT") return text("", 405, server);
      if (req.headers.get("x-aws-ec2-metadata-token-ttl-seconds") === null) {
        return text("", 400, server);
      }
      return text(AWS_TOKEN, 200, server);
    }
    const override = o.overrides?.[url.pathname];
    if (override !== undefined) return override(req, url, closed);
    const body = meta[url.pathname];
    if (body === undefined) return text("Not Found", 404, server);
    const token = req.headers.get("x-aws-ec2-metadata-token");
    if (token !== AWS_TOKEN && !(o.v1 === true && token === null)) return text("", 401, server);
    return text(body, 200, server);
  };
}

const GCP_VALUES: Record<string, string> = {
  "/computeMetadata/v1/instance/machine-type": "projects/123456789012/machineTypes/e2-standard-4",
  "/computeMetadata/v1/instance/zone": "projects/123456789012/zones/europe-west4-b",
  "/computeMetadata/v1/project/project-id": "my-project-123",
};

export function gcpMetadata(echoFlavor = true): Handler {
  return (req, url) => {
    const h: Record<string, string> = echoFlavor ? { "Metadata-Flavor": "Google" } : {};
    if (req.headers.get("metadata-flavor") !== "Google") return text("Missing header", 403, h);
    const body = GCP_VALUES[url.pathname];
    return body === undefined ? text("Not Found", 404, h) : text(body, 200, h);
  };
}

export const AZURE_DOC = {
  compute: {
    azEnvironment: "AzurePublicCloud",
    location: "westeurope",
    name: "vm-tracker",
    osType: "Linux",
    subscriptionId: "8d10da13-8125-4ba9-a717-bf7490507b3d",
    vmId: "02aab8a4-74ef-476e-8182-f6d2ba4166a6",
    vmSize: "Standard_D2s_v3",
    zone: "2",
  },
  network: { interface: [] },
};

export function azureImds(doc: unknown = AZURE_DOC): Handler {
  return (req, url) => {
    if (url.pathname !== "/metadata/instance") return json({ error: "Not found" }, 404);
    if (req.headers.get("metadata") !== "true") {
      return json({ error: "Bad request. Required metadata header not specified" }, 400);
    }
    if (url.searchParams.get("api-version") === null) return json({ error: "No version" }, 400);
    return typeof doc === "string" ? text(doc) : json(doc);
  };
}

export const HETZNER_METADATA = `availability-zone: fsn1-dc14
hostname: tracker-1
instance-id: 42424242
local-ipv4: ''
public-ipv4: 203.0.113.10
region: eu-central
public-keys:
- ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeKey user@example
vendor_data: "#cloud-config\\nruncmd: []\\n"
`;

const hetznerMetadata: Handler = (_req, url) =>
  url.pathname === "/hetzner/v1/metadata"
    ? text(HETZNER_METADATA, 200, { "content-type": "application/x-yaml" })
    : text("Not Found", 404);

export function pathJson(path: string, doc: unknown): Handler {
  return (_req, url) => (url.pathname === path ? json(doc) : text("Not Found", 404));
}

export const UPCLOUD_DOC = {
  cloud_name: "upcloud",
  instance_id: "00e7d3b4-7a32-4c9c-b6a7-1d0b2a8e0a11",
  hostname: "tracker-upcloud",
  platform: "servers",
  region: "fi-hel2",
  public_keys: [],
  network: { interfaces: [] },
};

export const DIGITALOCEAN_DOC = {
  droplet_id: 2756294,
  hostname: "sample-droplet",
  vendor_data: "#cloud-config\n",
  public_keys: ["ssh-rsa AAAAB3Fake user@example"],
  auth_key: "do-not-print-this",
  region: "nyc3",
  interfaces: { private: [], public: [] },
  floating_ip: { ipv4: { active: false } },
  dns: { nameservers: ["8.8.8.8"] },
  features: { dhcp_enabled: true },
};

export const VULTR_DOC = {
  bgp: { ipv4: {}, ipv6: {} },
  hostname: "vultr-guest",
  instanceid: "12345678",
  "instance-v2-id": "a7898453-dd4e-4b55-8e4a-2e1bc1e1a1e3",
  region: { regioncode: "EWR", countrycode: "US" },
  "public-keys": [],
  interfaces: [],
};

export const ALI_TOKEN = "AliFakeToken0123456789";

export function aliyunMetadata(o: { hardened?: boolean; tokenRoute?: Handler } = {}): Handler {
  const meta: Record<string, string> = {
    "/latest/meta-data/": "hostname\ninstance/\ninstance-id\nowner-account-id\nregion-id\nzone-id",
    "/latest/meta-data/instance/instance-type": "ecs.g6.large",
    "/latest/meta-data/region-id": "cn-hangzhou",
    "/latest/meta-data/zone-id": "cn-hangzhou-i",
    "/latest/meta-data/owner-account-id": "1234567890123456",
  };
  return (req, url, closed) => {
    if (url.pathname === "/latest/api/token") {
      if (o.tokenRoute !== undefined) return o.tokenRoute(req, url, closed);
      if (req.method !== "PUT") return text("", 405);
      if (req.headers.get("x-aliyun-ecs-metadata-token-ttl-seconds") === null) {
        return text("", 400);
      }
      return text(ALI_TOKEN);
    }
    const body = meta[url.pathname];
    if (body === undefined) return text("Not Found", 404);
    const token = req.headers.get("x-aliyun-ecs-metadata-token");
    if (o.hardened !== false && token !== ALI_TOKEN) return text("", 403);
    return text(body);
  };
}

export function openstackMetadata(o: { dns?: string; az?: string } = {}): Handler {
  const network = {
    links: [{ id: "tapd0c1a2b3", type: "ovs", ethernet_mac_address: "fa:16:3e:00:00:01" }],
    networks: [{ id: "network0", type: "ipv4_dhcp", link: "tapd0c1a2b3" }],
    services: [{ type: "dns", address: o.dns ?? "213.186.33.99" }],
  };
  const meta = {
    uuid: "6f5ab7d1-0c51-4b8e-9a55-0c3c1b0e8f11",
    availability_zone: o.az ?? "GRA11",
    hostname: "tracker-ovh",
    name: "tracker-ovh",
    project_id: "0123456789abcdef0123456789abcdef",
    launch_index: 0,
  };
  return (_req, url) => {
    switch (url.pathname) {
      case "/openstack/latest/network_data.json":
        return json(network);
      case "/openstack/latest/meta_data.json":
        return json(meta);
      case "/latest/meta-data/":
        return text("ami-id\nhostname\ninstance-id\ninstance-type\nplacement/");
      case "/latest/meta-data/instance-type":
        return text("b2-7");
      default:
        return text("Not Found", 404);
    }
  };
}

export const ORACLE_DOC = {
  availabilityDomain: "kWVD:US-ASHBURN-AD-1",
  canonicalRegionName: "us-ashburn-1",
  compartmentId: "ocid1.compartment.oc1..aaaaexamplecompartment",
  displayName: "tracker-oci",
  faultDomain: "FAULT-DOMAIN-1",
  hostname: "tracker-oci",
  id: "ocid1.instance.oc1.iad.anuwcljexampleinstance",
  image: "ocid1.image.oc1.iad.aaaaexampleimage",
  metadata: { ssh_authorized_keys: "ssh-rsa AAAAB3Fake user@example" },
  ociAdName: "us-ashburn-1-ad-1",
  region: "iad",
  regionInfo: { realmKey: "oc1", regionIdentifier: "us-ashburn-1", regionKey: "IAD" },
  shape: "VM.Standard.E4.Flex",
  shapeConfig: { ocpus: 1.0, memoryInGBs: 16.0 },
  state: "Running",
  tenantId: "ocid1.tenancy.oc1..aaaaexampletenancy",
  timeCreated: 1749695543362,
};

export function oracleImds(o: { v2?: boolean } = {}): Handler {
  return (req, url) => {
    if (url.pathname === "/opc/v2/instance/" && o.v2 !== false) {
      return req.headers.get("authorization") === "Bearer Oracle"
        ? json(ORACLE_DOC)
        : json({ code: "NotAuthorized" }, 401);
    }
    if (url.pathname === "/opc/v1/instance/") return json(ORACLE_DOC);
    return text("Not Found", 404);
  };
}

export const LINODE_TOKEN = "e80eb80986f17fcd3df8fcb6ea944774cae47b26ed6d68df63a15b294b7a6e3f";

export function linodeMetadata(o: { tokenRoute?: Handler } = {}): Handler {
  const instance = {
    id: 12345678,
    host_uuid: "3a3ddd59d9a78bb8de041391075df44de62bfec8",
    label: "tracker-linode",
    region: "us-ord",
    type: "g6-standard-2",
    tags: [],
    specs: { vcpus: 2, memory: 4096, gpus: 0, transfer: 4000, disk: 81920 },
    backups: { enabled: false, status: null },
  };
  return (req, url, closed) => {
    if (url.pathname === "/v1/token") {
      if (o.tokenRoute !== undefined) return o.tokenRoute(req, url, closed);
      if (req.method !== "PUT") return text("Method Not Allowed", 405);
      if (req.headers.get("metadata-token-expiry-seconds") === null) return text("", 400);
      return text(LINODE_TOKEN);
    }
    if (url.pathname === "/v1/instance") {
      if (req.headers.get("metadata-token") !== LINODE_TOKEN) return text("Unauthorized", 401);
      return req.headers.get("accept") === "application/json"
        ? json(instance)
        : text("id: 12345678\nregion: us-ord\ntype: g6-standard-2");
    }
    return text("Not Found", 404);
  };
}

export const SCALEWAY_DOC = {
  id: "c3f3e5a1-4b5c-4d3e-8f2a-1b2c3d4e5f60",
  name: "scw-tracker",
  commercial_type: "DEV1-S",
  hostname: "scw-tracker",
  organization: "b1f2c3d4-0000-4000-8000-000000000001",
  project: "b1f2c3d4-0000-4000-8000-000000000002",
  location: { zone_id: "fr-par-1", platform_id: "14", hypervisor_id: "1001" },
  ssh_public_keys: [],
  private_ip: "10.1.2.3",
};

const scalewayMetadata: Handler = (_req, url) =>
  url.pathname === "/conf" && url.searchParams.get("format") === "json"
    ? json(SCALEWAY_DOC)
    : text("Not Found", 404);

const info = (
  vendor: string,
  account: string | null,
  region: string | null,
  zone: string | null,
  type: string | null,
): CloudInfo => ({
  cloud_vendor_id: vendor,
  cloud_account_id: account,
  cloud_region_id: region,
  cloud_zone_id: zone,
  cloud_instance_type: type,
});

export const CASES: readonly ProviderCase[] = [
  {
    probe: aws,
    handler: awsImds(),
    expected: info("aws", "123456789012", "eu-central-1", "eu-central-1a", "m5a.large"),
    dmi: "aws-nitro",
  },
  {
    probe: gcp,
    handler: gcpMetadata(),
    expected: info("gcp", "my-project-123", "europe-west4", "europe-west4-b", "e2-standard-4"),
    dmi: "gcp",
  },
  {
    probe: azure,
    handler: azureImds(),
    expected: info(
      "azure",
      "8d10da13-8125-4ba9-a717-bf7490507b3d",
      "westeurope",
      "2",
      "Standard_D2s_v3",
    ),
    dmi: "azure",
  },
  {
    probe: hcloud,
    handler: hetznerMetadata,
    expected: info("hcloud", null, "eu-central", "fsn1-dc14", null),
    dmi: "hetzner",
  },
  {
    probe: upcloud,
    handler: pathJson("/metadata/v1.json", UPCLOUD_DOC),
    expected: info("upcloud", null, "fi-hel2", null, null),
    dmi: "upcloud",
  },
  {
    probe: vultr,
    handler: pathJson("/v1.json", VULTR_DOC),
    expected: info("vultr", null, "EWR", null, null),
    dmi: "vultr",
  },
  {
    probe: alicloud,
    handler: aliyunMetadata(),
    expected: info("alicloud", "1234567890123456", "cn-hangzhou", "cn-hangzhou-i", "ecs.g6.large"),
    dmi: "alibaba",
  },
  {
    probe: ovh,
    handler: openstackMetadata(),
    expected: info("ovh", "0123456789abcdef0123456789abcdef", "GRA11", null, "b2-7"),
    dmi: null,
  },
  {
    probe: digitalocean,
    handler: pathJson("/metadata/v1.json", DIGITALOCEAN_DOC),
    expected: info("digitalocean", null, "nyc3", null, null),
    dmi: "digitalocean",
  },
  {
    probe: oracle,
    handler: oracleImds(),
    expected: info(
      "oracle",
      "ocid1.tenancy.oc1..aaaaexampletenancy",
      "us-ashburn-1",
      "us-ashburn-1-ad-1",
      "VM.Standard.E4.Flex",
    ),
    dmi: "oracle",
  },
  {
    probe: linode,
    handler: linodeMetadata(),
    expected: info("linode", null, "us-ord", null, "g6-standard-2"),
    dmi: "linode",
  },
  {
    probe: scaleway,
    handler: scalewayMetadata,
    expected: info("scaleway", null, "fr-par", "fr-par-1", "DEV1-S"),
    dmi: "scaleway",
  },
];
