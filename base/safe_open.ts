/**
 * Opens a file we write to: a new one is created 0600 with O_CREAT|O_EXCL; an existing one is
 * opened never through a symbolic link (O_NOFOLLOW), never blocking on a named pipe
 * (O_NONBLOCK), and checked on the opened descriptor before anything is truncated: a regular file owned by the caller (its mode is
 * tightened to 0600) or a character device such as /dev/null. See core/safe_fs.ts for why the
 * descriptor is reached through /proc/self/fd.
 */
import { RuntimeError, shortReason } from "./errors.ts";
import { available, ERRNO, errnoText, fdPath, kindOf, O, rawClose, rawOpen } from "./safe_fs.ts";

export function openPrivateFile(path: string): Deno.FsFile {
  // A new file needs nothing more than O_CREAT|O_EXCL (no symlink is followed, nothing planted
  // is opened); only an existing one pays for libc (the first FFI load costs ~10 ms).
  try {
    return Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw cannotOpen(path, err);
  }
  return available() ? openNoFollow(path) : openChecked(path);
}

const refuse = (path: string, why: string) =>
  new RuntimeError(`cannot open output file "${path}": ${why}`);

function openNoFollow(path: string): Deno.FsFile {
  const base = O.WRONLY | O.NOFOLLOW | O.NONBLOCK | O.NOCTTY;
  let fd = -ERRNO.ENOENT;
  // New file: O_EXCL, so nothing planted is ever opened. Existing: opened as it is, checked.
  for (let i = 0; i < 3 && (fd === -ERRNO.ENOENT || fd === -ERRNO.EEXIST); i++) {
    fd = rawOpen(path, base | O.CREAT | O.EXCL, 0o600);
    if (fd === -ERRNO.EEXIST) fd = rawOpen(path, base);
  }
  if (fd < 0) {
    throw refuse(path, fd === -ERRNO.ENOENT ? "no such directory" : errnoText(-fd));
  }
  try {
    const info = Deno.statSync(fdPath(fd));
    if (info.isFile) {
      const uid = Deno.uid();
      if (uid !== null && info.uid !== uid) {
        throw refuse(path, `it is owned by uid ${info.uid}, not by you (uid ${uid}); refusing`);
      }
      if (((info.mode ?? 0) & 0o7077) !== 0) Deno.chmodSync(fdPath(fd), 0o600);
    } else if (!info.isCharDevice) {
      throw refuse(path, `it is a ${kindOf(info)}, not a regular file`);
    }
    // The same open file, now as a Deno.FsFile (blocking writes, like any output).
    const file = Deno.openSync(fdPath(fd), { write: true });
    if (info.isFile) {
      try {
        file.truncateSync(0);
      } catch (err) {
        file.close();
        throw err;
      }
    }
    return file;
  } catch (err) {
    if (err instanceof RuntimeError) throw err;
    throw cannotOpen(path, err);
  } finally {
    rawClose(fd);
  }
}

/** Without libc: lstat before the open plus fstat after it, so a swapped link is caught. */
function openChecked(path: string): Deno.FsFile {
  let before: Deno.FileInfo | undefined;
  try {
    before = Deno.lstatSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw cannotOpen(path, err);
  }
  if (before?.isSymlink) throw refuse(path, errnoText(ERRNO.ELOOP));
  if (before && !before.isFile && !before.isCharDevice) {
    throw refuse(path, `it is a ${kindOf(before)}, not a regular file`);
  }
  const uid = Deno.uid();
  if (before?.isFile && uid !== null && before.uid !== uid) {
    throw refuse(path, `it is owned by uid ${before.uid}, not by you (uid ${uid}); refusing`);
  }
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, {
      write: true,
      create: true,
      mode: 0o600,
    });
  } catch (err) {
    throw cannotOpen(path, err);
  }
  const opened = file.statSync();
  const now = Deno.lstatSync(path);
  if (now.isSymlink || now.ino !== opened.ino || now.dev !== opened.dev) {
    file.close();
    throw refuse(path, "it changed while opening; refusing");
  }
  if (opened.isFile) file.truncateSync(0);
  return file;
}

function cannotOpen(path: string, err: unknown): RuntimeError {
  const why = err instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : err instanceof Deno.errors.NotFound
    ? "no such directory"
    : shortReason(err);
  return refuse(path, why);
}
