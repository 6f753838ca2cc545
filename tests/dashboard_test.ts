/**
 * The dashboard in a real headless Chromium that can reach nothing but loopback: it loads
 * with no console error and no request beyond the tracker, shows the run, and its charts
 * advance as samples arrive. `TRACKER_UPDATE_SCREENSHOT=1` refreshes docs/dashboard.png.
 */
import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { sleep } from "../base/time.ts";
import { launchChromium } from "./chromium.ts";
import { eventually, serveCli, testWith } from "./fakes/watch.ts";

testWith(
  ["chromium"],
  "dashboard: loads offline in Chromium, no errors, charts advance",
  async (bin) => {
    // A tree with some CPU, memory and disk activity to draw.
    const work = "while :; do head -c 2000000 /dev/urandom | gzip -1 > /dev/null; sleep 0.2; done";
    const s = await serveCli([
      "--listen",
      "127.0.0.1:0",
      "--interval",
      "0.5",
      "-q",
      "--no-summary",
      "--job-name",
      "nightly-etl",
      "--project-name",
      "lake",
      "--tag",
      "team=data",
      "--",
      "sh",
      "-c",
      work,
    ]);
    const browser = await launchChromium(bin.chromium!);
    try {
      await browser.navigate(s.url);
      const first = await eventually("the first samples on the page", async () => {
        const n = await browser.evaluate<number>("window.rtState ? window.rtState.samples : 0");
        return n >= 2 ? n : null;
      }, 60_000);
      // The charts' data advance with new samples (SSE), not only the initial load.
      const points = () =>
        browser.evaluate<number[]>(
          "Object.values(window.rtState.charts).map((c) => c.plot.data[0].length)",
        );
      const before = await points();
      ok(before.length >= 4 && before.every((n) => n >= 2), JSON.stringify(before));
      const later = await eventually("charts to advance", async () => {
        const now = await points();
        return now.every((n, i) => n >= before[i]! + 2) ? now : null;
      }, 60_000);
      ok(later.length === before.length);
      ok(await browser.evaluate<number>("window.rtState.samples") > first);
      // Every chart drew onto its canvas.
      equal(await browser.evaluate<number>("document.querySelectorAll('.uplot canvas').length"), 4);
      // The run's facts and the running summary.
      const meta = await eventually("the run facts", async () => {
        const t = await browser.evaluate<string>("document.getElementById('meta').textContent");
        return t.includes("nightly-etl") ? t : null;
      });
      ok(meta.includes("lake") && meta.includes("tag team") && meta.includes("data"), meta);
      await eventually("the running summary", async () => {
        const t = await browser.evaluate<string>("document.getElementById('summary').textContent");
        return t.includes("samples") && t.includes("tree CPU") ? t : null;
      });
      equal(
        await browser.evaluate<string>("document.getElementById('status').textContent"),
        "live",
      );
      deepStrictEqual(browser.errors, []);
      const origin = new URL(s.url).origin;
      const foreign = browser.requests.filter((u) =>
        !u.startsWith(origin) && !u.startsWith("data:")
      );
      deepStrictEqual(foreign, [], "no request beyond the tracker");
      if (Deno.env.get("TRACKER_UPDATE_SCREENSHOT") === "1") {
        await sleep(6000); // a longer history for the picture
        const png = await browser.screenshot();
        await Deno.writeFile(new URL("../docs/dashboard.png", import.meta.url), png);
      } else {
        const png = await browser.screenshot();
        ok(png.length > 10_000 && png[1] === 0x50, "a PNG screenshot");
      }
    } finally {
      await browser.close();
      await s.stop();
    }
  },
);
