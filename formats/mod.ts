/** Output formats shared by every sink. */
import type { Sample } from "../base/sample.ts";
import { CSV_HEADER, encodeCsvRow } from "./csv.ts";
import { encodeJsonLine } from "./jsonl.ts";

export const FORMATS = ["json", "csv"] as const;
export type Format = typeof FORMATS[number];

export interface Encoder {
  /** Text written once before the first record (CSV header), or "". */
  readonly header: string;
  encode(sample: Sample): string;
}

export function createEncoder(format: Format, intervalSecs: number): Encoder {
  return format === "csv"
    ? { header: CSV_HEADER, encode: (s) => encodeCsvRow(s, intervalSecs) }
    : { header: "", encode: encodeJsonLine };
}
