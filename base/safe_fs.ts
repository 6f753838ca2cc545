/**
 * Opening files that someone else might have planted or swapped: open(2) with O_NOFOLLOW and
 * O_NONBLOCK through libc (Deno.open has neither flag), then every check on the *opened*
 * descriptor, never on the path again.
 *
 * Why this shape: Deno cannot wrap a raw descriptor in a Deno.FsFile, but `/proc/self/fd/N` is
 * a magic link to the open file itself (not a path that is resolved again), so stat, chmod and
 * a second open through it reach exactly the inode the O_NOFOLLOW open returned. A racer who
 * swaps the path for a symlink after that changes nothing. O_NONBLOCK keeps a FIFO from
 * blocking the open (and with it every signal handler); FIFOs and sockets are then refused.
 *
 * Without libc (no FFI) the callers fall back to lstat-then-open-then-compare (`available()`).
 */
import { kindOf, readAtMost } from "./bounded_read.ts";

const SYMBOLS = {
  open: { name: "open", parameters: ["buffer", "i32", "u32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  pread: { parameters: ["i32", "buffer", "u64", "i64"], result: "i64" },
  flock: { parameters: ["i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
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
    } catch { /* next */ }
  }
  return libc;
}

let procFd: boolean | undefined;

/** Whether the O_NOFOLLOW path is usable (libc via FFI, and /proc mounted). */
export function available(): boolean {
  if (load() === null) return false;
  if (procFd === undefined) {
    try {
      procFd = Deno.statSync("/proc/self/fd").isDirectory;
    } catch {
      procFd = false;
    }
  }
  return procFd;
}

const ARM = Deno.build.arch === "aarch64";
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  NOFOLLOW: ARM ? 0o100000 : 0o400000,
  CLOEXEC: 0o2000000,
} as const;

export const ERRNO = {
  ENOENT: 2,
  ENXIO: 6,
  EAGAIN: 11,
  EACCES: 13,
  EEXIST: 17,
  EISDIR: 21,
  ELOOP: 40,
} as const;

function errno(c: Libc): number {
  const p = c.__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** open(2); a descriptor, or `-errno`. */
export function rawOpen(path: string, flags: number, mode = 0o600): number {
  const c = load();
  if (c === null) throw new Error("libc is not available");
  const fd = c.open(new TextEncoder().encode(path + "\0"), flags | O.CLOEXEC, mode);
  return fd >= 0 ? fd : -errno(c);
}

export function rawClose(fd: number): void {
  load()?.close(fd);
}

/** Where the open descriptor can be reached by path (stat, chmod, a second open). */
export function fdPath(fd: number): string {
  return `/proc/self/fd/${fd}`;
}

/** A short reason for an errno from open(2). */
export function errnoText(e: number): string {
  switch (e) {
    case ERRNO.ENOENT:
      return "no such file or directory";
    case ERRNO.EACCES:
      return "permission denied";
    case ERRNO.ELOOP:
      return "it is a symbolic link; refusing to follow it";
    case ERRNO.EISDIR:
      return "it is a directory";
    case ERRNO.ENXIO:
      return "it is a named pipe or socket, not a regular file";
    case ERRNO.EEXIST:
      return "it already exists";
    default:
      return `error ${e}`;
  }
}

export { kindOf };

/**
 * Reads a whole regular file owned by the caller, never through a symlink, at most `maxBytes`.
 * Throws an Error whose message says why (for the caller to prefix with the path).
 */
export function readOwnedFile(path: string, maxBytes: number): Uint8Array {
  const c = load();
  if (c === null || !available()) return readOwnedFallback(path, maxBytes);
  const fd = rawOpen(path, O.RDONLY | O.NOFOLLOW | O.NONBLOCK | O.NOCTTY);
  if (fd < 0) throw Object.assign(new Error(errnoText(-fd)), { errno: -fd });
  try {
    const info = Deno.statSync(fdPath(fd));
    checkOwnedRegular(info, maxBytes);
    const buf = new Uint8Array(Math.min(info.size, maxBytes) + 1);
    let n = 0;
    while (n < buf.length) {
      const got = Number(c.pread(fd, buf.subarray(n), BigInt(buf.length - n), BigInt(n)));
      if (got < 0) throw new Error(`read error ${errno(c)}`);
      if (got === 0) break;
      n += got;
    }
    if (n > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
    return buf.subarray(0, n);
  } finally {
    c.close(fd);
  }
}

function checkOwnedRegular(info: Deno.FileInfo, maxBytes: number): void {
  if (!info.isFile) throw new Error(`it is a ${kindOf(info)}, not a regular file`);
  const uid = Deno.uid();
  if (uid !== null && info.uid !== uid) {
    throw new Error(`it is owned by uid ${info.uid}, not by you (uid ${uid})`);
  }
  if (info.size > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
}

function readOwnedFallback(path: string, maxBytes: number): Uint8Array {
  const before = Deno.lstatSync(path);
  if (before.isSymlink) throw new Error(errnoText(ERRNO.ELOOP));
  checkOwnedRegular(before, maxBytes);
  const f = Deno.openSync(path);
  try {
    const now = f.statSync();
    if (now.ino !== before.ino || now.dev !== before.dev) {
      throw new Error("it changed while opening");
    }
    checkOwnedRegular(now, maxBytes);
    return readAtMost(f, maxBytes);
  } finally {
    f.close();
  }
}

/**
 * A directory the caller may trust: not a symlink, owned by the caller, not writable by group
 * or others (no one else can add, swap or remove entries in it). Returns a reason, or null.
 */
export function untrustedDir(info: Deno.FileInfo): string | null {
  if (info.isSymlink) return "it is a symbolic link";
  if (!info.isDirectory) return `it is a ${kindOf(info)}, not a directory`;
  const uid = Deno.uid();
  if (uid !== null && info.uid !== uid) {
    return `it is owned by uid ${info.uid}, not by you (uid ${uid})`;
  }
  const mode = (info.mode ?? 0) & 0o7777;
  if (mode & 0o022) {
    return `it is writable by group or others (mode ${mode.toString(8).padStart(4, "0")})`;
  }
  return null;
}

const LOCK_EX = 2, LOCK_NB = 4;

/**
 * Takes an exclusive flock(2) on `path` (created 0600, never through a symlink) without
 * waiting. The descriptor, or null when another process holds the lock. The kernel drops the
 * lock when the holder exits, however it exits (SIGKILL included), and across PID namespaces.
 * Throws when locks are unavailable (no libc) or the file cannot be opened.
 */
export function tryLock(path: string): number | null {
  const c = load();
  if (c === null) throw new Error("libc is not available");
  const fd = rawOpen(path, O.RDWR | O.CREAT | O.NOFOLLOW | O.NONBLOCK | O.NOCTTY, 0o600);
  if (fd < 0) throw new Error(errnoText(-fd));
  if (c.flock(fd, LOCK_EX | LOCK_NB) === 0) {
    const info = Deno.statSync(fdPath(fd));
    try {
      checkOwnedRegular(info, 1 << 20);
    } catch (err) {
      c.close(fd);
      throw err;
    }
    return fd;
  }
  const e = errno(c);
  c.close(fd);
  if (e === ERRNO.EAGAIN) return null;
  throw new Error(`cannot lock (error ${e})`);
}

/** Releases a lock from `tryLock` (closing the descriptor drops it). */
export function unlock(fd: number): void {
  load()?.close(fd);
}
