/**
 * A screenshot of a report, taken by headless Chromium with no network:
 *   deno run -A scripts/report_screenshot.ts REPORT.html docs/report.png
 */
import { openInChromium } from "../tests/chromium.ts";

const [html, png] = Deno.args;
if (!html || !png) {
  console.error("usage: report_screenshot.ts REPORT.html OUT.png");
  Deno.exit(2);
}
const url = new URL(html, `file://${Deno.cwd()}/`).href;
const page = await openInChromium(url, { screenshot: true, width: 1150, height: 900 });
if (page.errors.length || page.network.length) {
  console.error([...page.errors, ...page.network].join("\n"));
  Deno.exit(1);
}
await Deno.writeFile(png, page.screenshot!);
console.log(`${png}: ${page.charts.length} charts, loaded in ${page.loadMs.toFixed(0)} ms`);
