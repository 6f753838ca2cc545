/**
 * CPU package and DRAM energy from RAPL (`/sys/class/powercap/intel-rapl:*`; AMD Zen exposes
 * the same interface). Counters are µJ and wrap at `max_energy_range_uj`. Only package zones
 * (`intel-rapl:N`) and their `dram` subzones are summed: `core`/`uncore` subzones are part of
 * the package already. Since 2020 `energy_uj` is readable by root only (CVE-2020-8694).
 */
export interface RaplZone {
  /** `package-0`, `dram` … with the zone path for uniqueness. */
  name: string;
  energyPath: string;
  /** µJ at which the counter wraps (null: unknown). */
  rangeUj: number | null;
}

function readText(path: string): string | null {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return null;
  }
}

export function discoverRapl(sys: string): RaplZone[] {
  const base = `${sys}/class/powercap`;
  let names: string[];
  try {
    names = [...Deno.readDirSync(base)].map((e) => e.name).filter((n) =>
      /^intel-rapl:\d+(:\d+)?$/.test(n)
    ).sort();
  } catch {
    return [];
  }
  const zones: RaplZone[] = [];
  for (const dir of names) {
    const name = readText(`${base}/${dir}/name`) ?? dir;
    const sub = dir.split(":").length === 3;
    // A package zone, or a DRAM subzone (outside the package's count on server parts).
    if (sub && name !== "dram") continue;
    if (!sub && !name.startsWith("package") && name !== "psys") continue;
    const range = Number(readText(`${base}/${dir}/max_energy_range_uj`));
    zones.push({
      name: `${name}@${dir}`,
      energyPath: `${base}/${dir}/energy_uj`,
      rangeUj: Number.isFinite(range) && range > 0 ? range : null,
    });
  }
  // psys (the whole platform on client parts) includes the packages: use it alone if present.
  const psys = zones.filter((z) => z.name.startsWith("psys"));
  return psys.length ? psys : zones;
}

export type RaplRead = { uj: number } | { error: "permission" | "missing" | "garbage" };

export function readZone(z: RaplZone): RaplRead {
  try {
    const v = Number(Deno.readTextFileSync(z.energyPath).trim());
    return Number.isFinite(v) && v >= 0 ? { uj: v } : { error: "garbage" };
  } catch (err) {
    return { error: err instanceof Deno.errors.PermissionDenied ? "permission" : "missing" };
  }
}
