/**
 * What the sinks need from the configuration, typed and resolved once by the CLI
 * (`cli/settings.ts`). Sinks never see the option registry or read a setting by name, so a new
 * setting is a type error here until the CLI provides it (docs/ARCHITECTURE.md "Settings").
 */
import type { Format } from "../formats/mod.ts";

export interface SinkSettings {
  /** `--sink` URIs, in order. */
  readonly uris: readonly string[];
  /** `--output`: a path, `-` for stdout, or null for stderr. */
  readonly output: string | null;
  readonly format: Format;
  readonly quiet: boolean;
  /** The sampling interval, seconds (Sentinel's finish record and the live views show it). */
  readonly intervalSecs: number;
  /** `--max-size`: rotate a file output at this many bytes (null: never). */
  readonly maxSizeBytes: number | null;
  readonly maxFiles: number;
  readonly uploadIntervalSecs: number;
  /** `--spool-dir` (null: `${XDG_STATE_HOME:-~/.local/state}/resource-tracker/spool`). */
  readonly spoolDir: string | null;
  readonly flushTimeoutSecs: number;
  /** The variable that holds the HTTP sinks' bearer token. */
  readonly httpTokenEnv: string;
  /** `--live`: the terminal shows the run, so samples go only where --output/--sink say. */
  readonly live: boolean;
  /** `--listen ADDRESS` (null: no HTTP view). */
  readonly listen: string | null;
}

/** `resource-tracker flush` only. */
export interface FlushSettings {
  readonly list: boolean;
  readonly drop: readonly string[];
  readonly allRejected: boolean;
}
