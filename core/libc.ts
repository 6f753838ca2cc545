/**
 * The few libc calls Deno has no API for, loaded with FFI on first use. Every wrapper degrades
 * to "unsupported" (false / undefined) when libc cannot be loaded (musl paths, no --allow-ffi).
 */
const SYMBOLS = {
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  getpgrp: { parameters: [], result: "i32" },
  tcgetpgrp: { parameters: ["i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
} as const;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let libc: Libc | null | undefined;

function load(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  for (const name of ["libc.so.6", "libc.so", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"]) {
    try {
      libc = Deno.dlopen(name, SYMBOLS).symbols;
      break;
    } catch { /* try the next name */ }
  }
  return libc;
}

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

/** Makes orphaned descendants re-parent to us instead of PID 1 (Linux ≥ 3.4). */
export function setChildSubreaper(): boolean {
  const c = load();
  return c !== null && c.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) === 0;
}

/** Our process group and the terminal's foreground group on `fd`, when there is one. */
export function processGroups(fd: number): { own: number; foreground: number } | undefined {
  const c = load();
  if (c === null) return undefined;
  const foreground = c.tcgetpgrp(fd);
  return foreground < 0 ? undefined : { own: c.getpgrp(), foreground };
}

/** Reaps `pid` if it has exited (non-blocking). True when it was reaped. */
export function reapIfExited(pid: number): boolean {
  const c = load();
  if (c === null) return false;
  return c.waitpid(pid, new Uint8Array(4), WNOHANG) === pid;
}
