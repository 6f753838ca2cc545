/**
 * The few libc calls Deno has no API for, loaded with FFI on first use. Every wrapper degrades
 * to "unsupported" (false / undefined) when libc cannot be loaded (musl paths, no --allow-ffi).
 */
/**
 * What a wrapped run needs before it starts the command. Each bound symbol costs start-up time
 * (~0.3 ms, on top of ~2.5 ms for the first dlopen), so the rest is bound after the spawn.
 */
const START_SYMBOLS = {
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  getrusage: { parameters: ["i32", "buffer"], result: "i32" },
} as const;

const SYMBOLS = {
  getpgrp: { parameters: [], result: "i32" },
  tcgetpgrp: { parameters: ["i32"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  syscall: { parameters: ["i64", "i64", "buffer", "i64"], result: "i64" },
  statfs: { parameters: ["buffer", "buffer"], result: "i32" },
  pread: { parameters: ["i32", "buffer", "u64", "i64"], result: "i64" },
  close: { parameters: ["i32"], result: "i32" },
} as const;

const LIBC_NAMES = ["libc.so.6", "libc.so", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1"];

function bind<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S>["symbols"] | null {
  for (const name of LIBC_NAMES) {
    try {
      return Deno.dlopen(name, symbols).symbols;
    } catch { /* try the next name */ }
  }
  return null;
}

let startLibc: Deno.DynamicLibrary<typeof START_SYMBOLS>["symbols"] | null | undefined;
let libc: Deno.DynamicLibrary<typeof SYMBOLS>["symbols"] | null | undefined;

const loadStart = () => startLibc === undefined ? (startLibc = bind(START_SYMBOLS)) : startLibc;
const load = () => libc === undefined ? (libc = bind(SYMBOLS)) : libc;

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

/** Makes orphaned descendants re-parent to us instead of PID 1 (Linux ≥ 3.4). */
export function setChildSubreaper(): boolean {
  const c = loadStart();
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

/** getdents64's number differs per architecture (asm/unistd.h). */
const SYS_GETDENTS64: Partial<Record<typeof Deno.build.arch, bigint>> = {
  x86_64: 217n,
  aarch64: 61n,
};
const O_RDONLY_DIRECTORY = 0o200000; // O_DIRECTORY | O_RDONLY

/**
 * Counts directory entries whose name starts with a digit (PIDs in /proc) with getdents64 into
 * one reused buffer: no object per entry, so counting 5000 processes costs the kernel's walk and
 * a byte scan. The directory stays open and is rewound for every count. `undefined` when FFI or
 * the syscall is unavailable: callers fall back to Deno.readDirSync.
 */
export class DigitEntryCounter {
  readonly #fd: number;
  readonly #buf = new Uint8Array(64 * 1024);
  readonly #sys: bigint;

  private constructor(fd: number, sys: bigint) {
    this.#fd = fd;
    this.#sys = sys;
  }

  static open(path: string): DigitEntryCounter | undefined {
    const c = load();
    const sys = SYS_GETDENTS64[Deno.build.arch];
    if (c === null || sys === undefined) return undefined;
    const fd = c.open(new TextEncoder().encode(path + "\0"), O_RDONLY_DIRECTORY);
    return fd < 0 ? undefined : new DigitEntryCounter(fd, sys);
  }

  count(): number | undefined {
    const c = load()!;
    if (c.lseek(this.#fd, 0n, 0) !== 0n) return undefined;
    const buf = this.#buf;
    const view = new DataView(buf.buffer);
    let n = 0;
    for (;;) {
      const got = Number(c.syscall(this.#sys, BigInt(this.#fd), buf, BigInt(buf.length)));
      if (got < 0) return undefined;
      if (got === 0) return n;
      // struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
      for (let pos = 0; pos < got;) {
        const first = buf[pos + 19]!;
        if (first >= 48 && first <= 57) n++;
        pos += view.getUint16(pos + 16, true);
      }
    }
  }
}

export interface StatFs {
  type: number;
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  frsize: number;
}

const statfsBuf = new Uint8Array(120);

/**
 * statfs(2) through libc: `struct statfs` on 64-bit Linux is ten 8-byte fields (type, bsize,
 * blocks, bfree, bavail, files, ffree, fsid, namelen, frsize, …). Used instead of node:fs so the
 * Node compatibility layer (~60 ms) stays out of start-up. `undefined` when the call fails.
 */
export function statfs(path: string): StatFs | undefined {
  const c = load();
  if (c === null || c.statfs(new TextEncoder().encode(path + "\0"), statfsBuf) !== 0) {
    return undefined;
  }
  const v = new DataView(statfsBuf.buffer);
  const at = (i: number) => Number(v.getBigInt64(i * 8, true));
  return { type: at(0), bsize: at(1), blocks: at(2), bfree: at(3), bavail: at(4), frsize: at(9) };
}

const O_RDONLY_CLOEXEC = 0o2000000;

/**
 * Pseudo-files read by descriptor with one pread(2) from offset 0: procfs and sysfs regenerate
 * the content on every read from 0, so a kept descriptor needs no lseek (which cost as much as
 * the read in profiles). All return -1 / false when libc is not available.
 */
export const rawFile = {
  available(): boolean {
    return load() !== null;
  },
  open(path: string): number {
    const c = load();
    return c === null ? -1 : c.open(new TextEncoder().encode(path + "\0"), O_RDONLY_CLOEXEC);
  },
  /** Bytes read into `buf` at `offset`, 0 at the end, -1 on error (process gone, EINVAL …). */
  pread(fd: number, buf: Uint8Array, offset: number): number {
    return Number(load()!.pread(fd, buf, BigInt(buf.length), BigInt(offset)));
  },
  close(fd: number): void {
    load()?.close(fd);
  },
};

const RUSAGE_CHILDREN = -1;
const rusageBuf = new Uint8Array(144);

/**
 * Totals of every child this process has reaped (getrusage(RUSAGE_CHILDREN)): CPU in µs (the
 * same nanosecond sums as /proc/<pid>/stat's cutime/cstime) and block I/O in bytes
 * (`ru_inblock`/`ru_oublock` are read_bytes/write_bytes ÷ 512 of the reaped processes). The
 * tracker's own CPU and writes are not included. `struct rusage` on 64-bit Linux: ru_utime and
 * ru_stime (timevals of two longs), then longs; ru_inblock at byte 88, ru_oublock at 96.
 */
export function childrenUsage():
  | { uUs: number; sUs: number; read: number; write: number }
  | undefined {
  const c = loadStart();
  if (c === null || c.getrusage(RUSAGE_CHILDREN, rusageBuf) !== 0) return undefined;
  const v = new DataView(rusageBuf.buffer);
  const us = (at: number) =>
    Number(v.getBigInt64(at, true)) * 1e6 + Number(v.getBigInt64(at + 8, true));
  return {
    uUs: us(0),
    sUs: us(16),
    read: Number(v.getBigInt64(88, true)) * 512,
    write: Number(v.getBigInt64(96, true)) * 512,
  };
}
