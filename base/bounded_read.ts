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
    const out = new Uint8Array(maxBytes + 1);
    let n = 0;
    for (;;) {
      const got = f.readSync(out.subarray(n));
      if (got === null || got === 0) break;
      n += got;
      if (n > maxBytes) throw new Error(`larger than ${maxBytes} bytes`);
    }
    return new TextDecoder().decode(out.subarray(0, n));
  } finally {
    f.close();
  }
}

function kind(st: Deno.FileInfo): string {
  if (st.isDirectory) return "a directory";
  if (st.isFifo) return "a named pipe";
  if (st.isCharDevice) return "a character device";
  if (st.isBlockDevice) return "a block device";
  if (st.isSocket) return "a socket";
  return "a special file";
}
