/**
 * A process that swaps `path` between a regular file and a symlink to `victim` in a tight loop
 * of atomic renames (thousands per second): what an attacker in a shared directory does.
 */
import { sleep } from "../../base/time.ts";

export async function symlinkRacer(victim: string, path: string): Promise<() => Promise<void>> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const [v, p] = ${JSON.stringify([victim, path])};
      Deno.writeTextFileSync(p + ".go", "");
      for (;;) {
        try { Deno.symlinkSync(v, p + ".l"); Deno.renameSync(p + ".l", p); } catch {}
        try { Deno.writeTextFileSync(p + ".f", ""); Deno.renameSync(p + ".f", p); } catch {}
      }`,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 200; i++) {
    if (await Deno.lstat(`${path}.go`).then(() => true, () => false)) break;
    await sleep(50);
  }
  return async () => {
    child.kill();
    await child.status;
  };
}
