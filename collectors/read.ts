/**
 * The one way collectors read pseudo-files: whole, synchronously (measured faster than async
 * for small procfs/sysfs files), never trusting their stat size. A missing or unreadable file
 * is `undefined`, not an error: "no data" is normal for pseudo-files.
 */
export function readText(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** First line of a sysfs attribute, trimmed; `undefined` when missing or empty. */
export function readAttr(path: string): string | undefined {
  const text = readText(path);
  if (text === undefined) return undefined;
  const value = text.trim();
  return value === "" ? undefined : value;
}

/** A sysfs attribute as an integer; `undefined` when missing or not an integer. */
export function readInt(path: string): number | undefined {
  const value = readAttr(path);
  if (value === undefined || !/^-?\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Basename of a symlink's target (e.g. a driver name); `undefined` when not a link. */
export function readLinkBase(path: string): string | undefined {
  try {
    const target = Deno.readLinkSync(path);
    const base = target.split("/").pop();
    return base === "" ? undefined : base;
  } catch {
    return undefined;
  }
}

/** Entries of a directory, or `[]` when it cannot be listed. */
export function listDir(path: string): string[] {
  try {
    const names: string[] = [];
    for (const entry of Deno.readDirSync(path)) names.push(entry.name);
    return names;
  } catch {
    return [];
  }
}
