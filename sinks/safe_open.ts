/**
 * Opens a file we write to: created 0600, and never through a symbolic link (an attacker's link
 * in a shared directory must not make us overwrite another file). The check is lstat before the
 * open plus fstat after it, so a link swapped in between is caught too.
 */
import { RuntimeError } from "../core/errors.ts";

export interface OpenOptions {
  /** Append instead of truncating an existing file. */
  append?: boolean;
}

export function openPrivateFile(path: string, o: OpenOptions = {}): Deno.FsFile {
  let before: Deno.FileInfo | undefined;
  try {
    before = Deno.lstatSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw cannotOpen(path, err);
  }
  if (before?.isSymlink) {
    throw new RuntimeError(
      `cannot open output file "${path}": it is a symbolic link; refusing to follow it`,
    );
  }
  if (before?.isDirectory) {
    throw new RuntimeError(`cannot open output file "${path}": it is a directory`);
  }
  // Devices and named pipes (/dev/null, a FIFO a collector reads) are opened as they are.
  const special = before !== undefined && !before.isFile;
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, {
      write: true,
      create: true,
      append: o.append === true,
      truncate: o.append !== true && !special,
      mode: 0o600,
    });
  } catch (err) {
    throw cannotOpen(path, err);
  }
  const opened = file.statSync();
  const now = Deno.lstatSync(path);
  if (now.isSymlink || now.ino !== opened.ino || now.dev !== opened.dev) {
    file.close();
    throw new RuntimeError(`cannot open output file "${path}": it changed while opening; refusing`);
  }
  return file;
}

function cannotOpen(path: string, err: unknown): RuntimeError {
  const why = err instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : err instanceof Deno.errors.NotFound
    ? "no such directory"
    : err instanceof Error
    ? err.message.split(":")[0]!
    : String(err);
  return new RuntimeError(`cannot open output file "${path}": ${why}`);
}
