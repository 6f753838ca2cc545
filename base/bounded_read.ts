/**
 * Reading a small text file a user names (the TOML config): regular files only, so a FIFO or
 * a device (/dev/zero) can neither block start-up (and with it every signal) nor fill memory,
 * and at most `maxBytes`.
 */
export const MAX_CONFIG_BYTES = 1 << 20;

export function readSmallTextFile(path: string, maxBytes = MAX_CONFIG_BYTES): string {
  const st = Deno.statSync(path); // NotFound propagates: a missing default file is normal
  if (!st.isFile) throw new Error(`not a regular file (${kind(st)})`);
  if (st.size > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
  const f = Deno.openSync(path);
  try {
    return new TextDecoder().decode(readAtMost(f, maxBytes));
  } finally {
    f.close();
  }
}

/** The whole of an open file, refused once it passes `maxBytes` (it may grow after a stat). */
export function readAtMost(f: Deno.FsFile, maxBytes: number): Uint8Array {
  const out = new Uint8Array(maxBytes + 1);
  let n = 0;
  for (;;) {
    const got = f.readSync(out.subarray(n));
    if (got === null || got === 0) break;
    n += got;
    if (n > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
  }
  return out.slice(0, n);
}

/** What a path is, for messages: "regular file", "named pipe", … */
export function kindOf(info: Deno.FileInfo): string {
  if (info.isFile) return "regular file";
  if (info.isDirectory) return "directory";
  if (info.isFifo) return "named pipe";
  if (info.isSocket) return "socket";
  if (info.isCharDevice) return "character device";
  if (info.isBlockDevice) return "block device";
  return "special file";
}

function kind(st: Deno.FileInfo): string {
  return `a ${kindOf(st)}`;
}
