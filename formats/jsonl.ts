/** JSON Lines: one compact object per sample (docs/COMPATIBILITY.md §1), newline-terminated. */
import type { Sample } from "../base/sample.ts";

export function encodeJsonLine(sample: Sample): string {
  return JSON.stringify(sample) + "\n";
}
