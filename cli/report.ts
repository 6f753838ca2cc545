/**
 * `resource-tracker report FILE… [-o OUT.html]` and `report --compare A B`. `-o` here names the
 * HTML file and is never taken from TRACKER_OUTPUT or the TOML file (those name sample outputs).
 */
import type { Config } from "./config.ts";
import { loadConfigLazily } from "./config.ts";
import { UsageError } from "../base/errors.ts";
import { writeAllSync } from "../base/log.ts";
import { OPTIONS } from "./options.ts";
import { costSettings } from "./settings.ts";
import { openPrivateFile } from "../base/safe_open.ts";
import { type AnalysisSettings, analyze } from "../report/analyze.ts";
import { parsePriceTable, type PriceRow } from "../report/cost.ts";
import { DEFAULT_ENERGY } from "../report/energy.ts";
import { formatRecommendation } from "../report/recommend.ts";

const REPORT_HELP = `Usage:
  resource-tracker report FILE... [-o REPORT.html] [OPTIONS]
  resource-tracker report --compare A B [-o COMPARE.html] [OPTIONS]

Reads one recorded run (JSON Lines or CSV, the pieces of a rotated output, .gz/.zst, or the
Python tracker's combined CSV) and writes one self-contained HTML report: charts, run and host
facts, the summary, right-sizing with its evidence, cost and energy. The recommendation lines
are printed to stdout too. Default output: the first FILE's name with .html.

Options:
  -o, --output FILE        the HTML file to write (not TRACKER_OUTPUT, not the TOML file)
  --compare                two runs side by side (each argument may be a comma-joined list of pieces)
  --price-per-hour PRICE, --price-table FILE, --currency CODE,
  --price-per-kwh PRICE, --grid-intensity G_PER_KWH, --vcpu-watts IDLE,BUSY
                           cost and energy settings (see resource-tracker --help)
`;

interface ReportArgs {
  files: string[];
  output: string | null;
  compare: boolean;
  help: boolean;
  flags: string[];
}

/** Splits our own words (`-o`, `--compare`, files) from the shared options. */
function parseReportArgs(args: readonly string[]): ReportArgs {
  const out: ReportArgs = { files: [], output: null, compare: false, help: false, flags: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      out.files.push(...args.slice(i + 1));
      break;
    }
    if (a === "-h" || a === "--help") out.help = true;
    else if (a === "--compare") out.compare = true;
    else if (a === "-o" || a === "--output") {
      if (i + 1 >= args.length) throw new UsageError(`report: option ${a} needs a value`);
      out.output = args[++i]!;
    } else if (a.startsWith("--output=")) out.output = a.slice(9);
    else if (a.startsWith("-o") && a.length > 2) out.output = a.slice(2);
    else if (a.startsWith("--") && a.length > 2) {
      const name = a.slice(2).split("=")[0]!;
      const def = OPTIONS.find((o) => o.name === name);
      if (!def) throw new UsageError(`report: unknown option --${name}`);
      if (def.type === "boolean" || a.includes("=")) out.flags.push(a);
      else if (i + 1 < args.length) out.flags.push(`${a}=${args[++i]}`);
      else throw new UsageError(`report: option --${name} needs a value`);
    } else if (a.startsWith("-") && a !== "-") {
      throw new UsageError(`report: unknown option ${a}`);
    } else out.files.push(a);
  }
  return out;
}

async function settingsFrom(config: Config): Promise<AnalysisSettings> {
  const cost = costSettings(config);
  const tablePath = cost.priceTablePath;
  let priceTable: PriceRow[] | null = null;
  if (tablePath) {
    let text: string;
    try {
      text = await Deno.readTextFile(tablePath);
    } catch (err) {
      throw new UsageError(
        `--price-table ${tablePath}: ${
          err instanceof Deno.errors.NotFound ? "no such file" : (err as Error).message
        }`,
      );
    }
    priceTable = parsePriceTable(text, tablePath);
  }
  return {
    energy: {
      ...DEFAULT_ENERGY,
      vcpuWatts: [cost.vcpuWatts[0], cost.vcpuWatts[1]],
      pricePerKwh: cost.pricePerKwh,
      gridGPerKwh: cost.gridGPerKwh ?? DEFAULT_ENERGY.gridGPerKwh,
    },
    pricePerHour: cost.pricePerHour,
    priceTable,
    currency: cost.currency,
  };
}

/** `report.jsonl.gz` → `report.html`. */
function defaultHtmlName(file: string): string {
  const stripped = file.replace(/\.(gz|zst)$/i, "").replace(/\.(jsonl|ndjson|json|csv)$/i, "");
  return `${stripped}.html`;
}

function writeHtml(path: string, html: string): void {
  const f = openPrivateFile(path);
  try {
    writeAllSync(f, html);
  } finally {
    f.close();
  }
}

export async function runReportCommand(
  args: readonly string[],
  deps: { version: string; env: (n: string) => string | undefined; warn: (l: string) => void },
): Promise<number> {
  const a = parseReportArgs(args);
  if (a.help) {
    writeAllSync(Deno.stdout, REPORT_HELP);
    return 0;
  }
  const config = await loadConfigLazily({
    args: a.flags,
    env: deps.env,
    subcommands: [],
    readFile: (p) => Deno.readTextFileSync(p),
    warn: deps.warn,
  });
  const settings = await settingsFrom(config);
  if (a.compare) {
    if (a.files.length !== 2) {
      throw new UsageError("report --compare: name exactly two runs (pieces joined with commas)");
    }
    const [x, y] = await Promise.all(a.files.map((f) => analyze(f.split(","), settings)));
    const { renderCompareHtml, compareLines } = await import("../report/compare.ts");
    const out = a.output ??
      defaultHtmlName(a.files[1]!.split(",")[0]!).replace(/\.html$/, ".compare.html");
    writeHtml(out, renderCompareHtml(x!, y!, deps.version));
    writeAllSync(Deno.stdout, compareLines(x!, y!).join("\n") + `\nreport written to ${out}\n`);
    return 0;
  }
  if (a.files.length === 0) throw new UsageError("report: name at least one recording FILE");
  const an = await analyze(a.files, settings);
  const { renderHtml } = await import("../report/html.ts");
  const out = a.output ?? defaultHtmlName(an.rec.files[an.rec.files.length - 1]!);
  if (a.files.includes(out)) throw new UsageError(`report: -o ${out} would overwrite a recording`);
  writeHtml(out, renderHtml({ ...an, version: deps.version }));
  for (const note of an.rec.notes) deps.warn(note);
  writeAllSync(
    Deno.stdout,
    [
      ...formatRecommendation(an.recommendation),
      ...(an.pythonNote ? [`  (${an.pythonNote})`] : []),
      `report written to ${out}`,
    ].join("\n") + "\n",
  );
  return 0;
}
