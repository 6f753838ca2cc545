/**
 * What a Prometheus scrape of `/metrics` every second costs the tracker — a benchmark, not a
 * test (the machine it runs on is shared; it prints the noise with the figure).
 *
 *   deno run -A scripts/bench_scrape.ts [--secs 60] [--rounds 3]
 *
 * (1) Per-scrape CPU: one tracker (`--listen`, 1 s sampling) is scraped 2000 times back to
 *     back; its CPU time (/proc/PID/task/TID/schedstat, all threads) over that burst, minus the same
 *     span idle, divided by the scrapes, is the cost of one scrape; at 1 scrape/s that is the
 *     share of a core it adds.
 * (2) Spaced scrapes: windows of 20 s alternate between no scrape and a scrape every 100 ms
 *     (each scrape alone, as at 1 s, but 10× the signal over the machine's noise); the CPU
 *     difference per scrape, averaged over --rounds pairs, is the cost of one lone scrape.
 * (3) End to end: two identical trackers run side by side for --secs; one is scraped every
 *     second, the other not; the difference of their CPU shares is the overhead. Rounds swap
 *     the roles, so a machine-wide load change hits both alike. On a shared machine this one
 *     is the noisiest: it is printed with its spread.
 */
import { parseArgs } from "node:util";
import { V8_FLAGS_ARG } from "./v8_flags.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { secs: { type: "string", default: "60" }, rounds: { type: "string", default: "3" } },
});
const SECS = Number(values.secs), ROUNDS = Number(values.rounds);
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU time the process has run, in seconds (nanosecond precision, all its threads). */
function cpuSecs(pid: number): number {
  let ns = 0;
  for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/schedstat`).split(" ")[0]);
    } catch { /* the thread ended */ }
  }
  return ns / 1e9;
}

interface Tracker {
  pid: number;
  url: string;
  stop(): Promise<void>;
}

async function startTracker(): Promise<Tracker> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", V8_FLAGS_ARG, "--quiet", MAIN, "--listen", "127.0.0.1:0", "-q"],
    env: { TRACKER_NO_CLOUD: "1", NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let url: string | null = null;
  while (!url) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`tracker did not start: ${text}`);
    text += value;
    url = /serving (http:\/\/\S+\/)/.exec(text)?.[1] ?? null;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })();
  await sleep(3000); // past start-up and the first samples
  return {
    pid: child.pid,
    url,
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}

async function scrape(url: string): Promise<number> {
  const r = await fetch(`${url}metrics`);
  return (await r.text()).length;
}

const pct = (x: number) => `${(x * 100).toFixed(4)} %`;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1));
};

// (1) Per-scrape cost.
{
  const t = await startTracker();
  const size = await scrape(t.url);
  const idleWall = 10;
  const c0 = cpuSecs(t.pid);
  await sleep(idleWall * 1000);
  const idleRate = (cpuSecs(t.pid) - c0) / idleWall; // cores, sampling alone
  const N = 2000;
  const w0 = performance.now(), c1 = cpuSecs(t.pid);
  for (let i = 0; i < N; i++) await scrape(t.url);
  const wall = (performance.now() - w0) / 1000, used = cpuSecs(t.pid) - c1;
  const perScrape = (used - idleRate * wall) / N;
  console.log(`exposition size: ${size} bytes`);
  console.log(`sampling alone (1 s interval): ${pct(idleRate)} of a core`);
  console.log(
    `per scrape: ${(perScrape * 1000).toFixed(3)} ms CPU (${N} scrapes in ${
      wall.toFixed(1)
    } s back to back) -> at 1 scrape/s: ${pct(perScrape)} of a core`,
  );
  await t.stop();
}

// (2) Lone scrapes, 10 per second, against quiet windows of the same tracker.
{
  const t = await startTracker();
  const WIN = 20;
  const window = async (hz: number) => {
    const c0 = cpuSecs(t.pid), w0 = performance.now();
    let n = 0;
    for (let next = w0; next < w0 + WIN * 1000; next += hz ? 1000 / hz : WIN * 1000) {
      await sleep(Math.max(0, next - performance.now()));
      if (hz) {
        await scrape(t.url);
        n++;
      }
    }
    if (!hz) await sleep(Math.max(0, w0 + WIN * 1000 - performance.now()));
    return { rate: (cpuSecs(t.pid) - c0) / ((performance.now() - w0) / 1000), n };
  };
  const costs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const quiet = await window(0);
    const busy = await window(10);
    costs.push((busy.rate - quiet.rate) / (busy.n / WIN));
  }
  console.log(
    `lone scrape: ${(mean(costs) * 1000).toFixed(3)} ms CPU ± ${
      (sd(costs) * 1000).toFixed(3)
    } (mean ± sd of ${ROUNDS} window pairs) -> at 1 scrape/s: ${pct(mean(costs))} of a core`,
  );
  await t.stop();
}

// (3) Side by side.
const diffs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const [a, b] = [await startTracker(), await startTracker()];
  const [scraped, quiet] = r % 2 === 0 ? [a, b] : [b, a];
  const s0 = cpuSecs(scraped.pid), q0 = cpuSecs(quiet.pid), w0 = performance.now();
  const end = w0 + SECS * 1000;
  let n = 0;
  for (let next = w0; next < end; next += 1000) {
    await sleep(Math.max(0, next - performance.now()));
    await scrape(scraped.url);
    n++;
  }
  const wall = (performance.now() - w0) / 1000;
  const sRate = (cpuSecs(scraped.pid) - s0) / wall, qRate = (cpuSecs(quiet.pid) - q0) / wall;
  diffs.push(sRate - qRate);
  console.log(
    `round ${r + 1}: ${n} scrapes in ${wall.toFixed(0)} s; scraped ${pct(sRate)}, not scraped ${
      pct(qRate)
    }, difference ${pct(sRate - qRate)}`,
  );
  await a.stop();
  await b.stop();
}
const median = [...diffs].sort((a, b) => a - b)[Math.floor(diffs.length / 2)]!;
console.log(
  `side by side: overhead median ${pct(median)}, mean ${pct(mean(diffs))} ± ${
    pct(sd(diffs))
  } (sd of ${ROUNDS} rounds)`,
);
