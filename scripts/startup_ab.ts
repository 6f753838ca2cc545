/**
 * Start-up, A/B against another checkout: exec → wrapped child running, the figure a user waits
 * for (`resource-tracker -- cmd`). Runs alternate between the trees so that the machine's noise
 * falls on both alike; prints the median, p25 and p75 of each and the new/base ratio.
 *
 *   git archive <commit> | tar -x -C /tmp/base
 *   deno run -A scripts/startup_ab.ts --base /tmp/base --runs 40
 */
import { parseArgs } from "node:util";
import { V8_FLAGS_ARG } from "./v8_flags.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { base: { type: "string" }, runs: { type: "string", default: "30" } },
});
const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const trees = [here, ...(values.base ? [values.base.replace(/\/$/, "")] : [])];
const ENV = { TRACKER_NO_CLOUD: "1", NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" };
const dir = Deno.makeTempDirSync();

/** Milliseconds from exec to the wrapped command's first instruction. */
async function once(root: string, i: number): Promise<number> {
  const mark = `${dir}/t${i}`;
  const t0 = Date.now();
  await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", V8_FLAGS_ARG, `${root}/main.ts`, "--quiet", "--no-summary", "--", "sh"]
      .concat(["-c", `date +%s%N > ${mark}`]),
    env: ENV,
    clearEnv: true,
    stdout: "null",
    stderr: "null",
  }).output();
  return Number(Deno.readTextFileSync(mark).trim()) / 1e6 - t0;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

try {
  for (const root of trees) await once(root, 0); // caches warm
  const times = trees.map(() => [] as number[]);
  for (let i = 0; i < Number(values.runs); i++) {
    for (const [k, root] of trees.entries()) times[k]!.push(await once(root, i));
  }
  for (const [k, root] of trees.entries()) {
    const t = times[k]!;
    console.log(
      `${k === 0 ? "this tree" : "base"} (${root}): median ${quantile(t, 0.5).toFixed(1)} ms,` +
        ` p25 ${quantile(t, 0.25).toFixed(1)}, p75 ${quantile(t, 0.75).toFixed(1)}`,
    );
  }
  if (trees.length === 2) {
    console.log(
      `ratio new/base (medians): ${
        (quantile(times[0]!, 0.5) / quantile(times[1]!, 0.5)).toFixed(3)
      }`,
    );
  }
} finally {
  Deno.removeSync(dir, { recursive: true });
}
