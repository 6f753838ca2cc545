/**
 * Provider ids in the registry's order, importable without loading the probes (the CLI
 * validates `--cloud` before anything else runs). A test keeps this equal to `PROBES`.
 */
export const PROVIDER_IDS = [
  "aws",
  "gcp",
  "azure",
  "hcloud",
  "upcloud",
  "vultr",
  "alicloud",
  "ovh",
  "digitalocean",
  "oracle",
  "linode",
  "scaleway",
] as const;
