/**
 * DMI reader: world-readable files of `/sys/class/dmi/id` (Linux drivers/firmware/dmi-id.c;
 * serials and UUIDs are root-only and not read) plus `/sys/hypervisor/uuid` (Xen guests).
 * No network. A missing directory (ARM boards, some microVMs) gives an empty record.
 */
import type { DmiEvidence } from "./types.ts";

/** Files read under `<sys>/class/dmi/id`, all mode 0444. */
export const DMI_FILES: readonly string[] = [
  "sys_vendor",
  "product_name",
  "product_version",
  "product_family",
  "bios_vendor",
  "bios_version",
  "board_vendor",
  "board_name",
  "board_asset_tag",
  "chassis_vendor",
  "chassis_asset_tag",
];

function readValue(path: string): string | undefined {
  try {
    const v = Deno.readTextFileSync(path).trim();
    return v === "" ? undefined : v;
  } catch {
    return undefined;
  }
}

/** Reads the DMI evidence under the `sys` root (default `/sys`). */
export function readDmi(sys: string): DmiEvidence {
  const out: Record<string, string> = {};
  for (const name of DMI_FILES) {
    const v = readValue(`${sys}/class/dmi/id/${name}`);
    if (v !== undefined) out[name] = v;
  }
  const hv = readValue(`${sys}/hypervisor/uuid`);
  if (hv !== undefined) out.hypervisor_uuid = hv;
  return out;
}

/** Case-insensitive equality of a DMI value with any of `wanted`. */
export function dmiIs(d: DmiEvidence, file: string, ...wanted: string[]): boolean {
  const v = d[file]?.toLowerCase();
  return v !== undefined && wanted.some((w) => w.toLowerCase() === v);
}

/** Case-insensitive prefix test of a DMI value. */
export function dmiStarts(d: DmiEvidence, file: string, prefix: string): boolean {
  return d[file]?.toLowerCase().startsWith(prefix.toLowerCase()) ?? false;
}

/** First `file=value` evidence string of the files that satisfy `test`. */
export function evidence(d: DmiEvidence, files: string[], test: (v: string) => boolean) {
  for (const f of files) {
    const v = d[f];
    if (v !== undefined && test(v)) return `${f}=${v}`;
  }
  return undefined;
}
