/**
 * Tracking (no subcommand): the configuration resolved into typed settings (cli/settings.ts),
 * handed to the engine (core/run.ts `track`).
 */
import { type RunDeps, track } from "../core/run.ts";
import type { Config } from "./config.ts";
import { trackSettings } from "./settings.ts";

export function runTrackCommand(config: Config, deps: RunDeps): Promise<number> {
  return track(trackSettings(config), deps);
}
