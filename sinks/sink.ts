/** What every sink implements. Sinks encode with formats/ and own their delivery. */
import type { Sample } from "../core/sample.ts";

export interface Sink {
  /** Short name for messages (`stderr`, `file:/path`, …); never contains credentials. */
  readonly name: string;
  /** Takes one sample. Must not block the sampler. */
  write(sample: Sample): void;
  /** Delivers or keeps what is pending, then releases resources. */
  close(): Promise<void>;
}
