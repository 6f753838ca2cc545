/**
 * AMD GPU energy from hwmon (`/sys/class/hwmon/hwmon*` with `name` = `amdgpu`): the
 * `energy1_input` counter (µJ) where the driver has one, else power (`power1_average` on older
 * ASICs, `power1_input` on newer ones, µW) integrated over time by the meter.
 */
export interface HwmonDevice {
  name: string;
  /** µJ counter, or null. */
  energyPath: string | null;
  /** µW reading, or null. */
  powerPath: string | null;
}

const exists = (p: string) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
};

export function discoverHwmon(sys: string): HwmonDevice[] {
  const base = `${sys}/class/hwmon`;
  let dirs: string[];
  try {
    dirs = [...Deno.readDirSync(base)].map((e) => e.name).filter((n) => /^hwmon\d+$/.test(n))
      .sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
  } catch {
    return [];
  }
  const out: HwmonDevice[] = [];
  for (const d of dirs) {
    let name: string;
    try {
      name = Deno.readTextFileSync(`${base}/${d}/name`).trim();
    } catch {
      continue;
    }
    if (name !== "amdgpu") continue;
    const energy = `${base}/${d}/energy1_input`;
    const power = ["power1_average", "power1_input"].map((f) => `${base}/${d}/${f}`).find(exists);
    if (!exists(energy) && !power) continue;
    out.push({
      name: `amdgpu@${d}`,
      energyPath: exists(energy) ? energy : null,
      powerPath: power ?? null,
    });
  }
  return out;
}

export function readMicro(path: string): number | null {
  try {
    const v = Number(Deno.readTextFileSync(path).trim());
    return Number.isFinite(v) && v >= 0 ? v : null;
  } catch {
    return null;
  }
}
