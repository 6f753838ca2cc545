/**
 * A second real user for tests of what one user may do to another's files: created with
 * `useradd` when absent (the tests run as root). Null, with the reason, when that is impossible.
 */
export interface OtherUser {
  name: string;
  uid: number;
  gid: number;
}

const NAME = "rt-other";

async function idOf(flag: "-u" | "-g"): Promise<number | null> {
  const out = await new Deno.Command("id", { args: [flag, NAME], stdout: "piped", stderr: "null" })
    .output().catch(() => null);
  return out?.success ? Number(new TextDecoder().decode(out.stdout).trim()) : null;
}

/** The second user, or a string saying why there is none. */
export async function otherUser(): Promise<OtherUser | string> {
  if (Deno.uid() !== 0) return "not root: cannot create or become a second user";
  if (await idOf("-u") === null) {
    const add = await new Deno.Command("useradd", {
      args: ["--no-create-home", "--shell", "/usr/sbin/nologin", NAME],
      stdout: "null",
      stderr: "piped",
    }).output().catch((e) => ({ success: false, stderr: new TextEncoder().encode(String(e)) }));
    if (!add.success) return `useradd failed: ${new TextDecoder().decode(add.stderr).trim()}`;
  }
  const uid = await idOf("-u"), gid = await idOf("-g");
  if (uid === null || gid === null) return "no uid for the second user";
  const setpriv = await new Deno.Command("setpriv", { args: ["--version"], stdout: "null" })
    .output().catch(() => null);
  if (!setpriv?.success) return "no setpriv (util-linux) to act as the second user";
  return { name: NAME, uid, gid };
}

/** Runs a shell script as `u` (setpriv: no PAM, no login); throws when it fails. */
export async function asUser(u: OtherUser, script: string): Promise<void> {
  const out = await new Deno.Command("setpriv", {
    args: [`--reuid=${u.uid}`, `--regid=${u.gid}`, "--clear-groups", "sh", "-ec", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`as ${u.name}: ${script}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Prints why a test is skipped (the test then passes without its checks). */
export function skip(why: string): void {
  console.log(`SKIP: ${why}`);
}
