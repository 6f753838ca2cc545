/**
 * POSIX path joining for the roots (`--procfs`, `--sysfs`, `--rootfs`) and the spool: written here
 * rather than taken from `node:path`, whose first import starts Deno's Node layer (10-20 ms of
 * start-up, tests/startup_test.ts).
 */

/** `join("/sys/", "class", "drm")` → `/sys/class/drm`; repeated slashes collapse to one. */
export function join(base: string, ...parts: string[]): string {
  return [base, ...parts].join("/").replace(/\/{2,}/g, "/");
}

/** True when `path` names something (a link is followed); false on any error. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
