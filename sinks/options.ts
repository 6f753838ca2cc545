/** The sink options, spread into OPTIONS (cli/options.ts). */
import { envName, type OptionDef, seconds, size, wholeNumber } from "../base/option.ts";

/** `1048576`, `512K`, `10M`, `1G` (binary units; a trailing `B`/`iB` is allowed) → bytes. */
export const parseSize = size(4096, "4K such as 10M or 1G");

const count = wholeNumber(0, 1000, "a whole number 0-1000");

export const SINK_OPTIONS: readonly OptionDef[] = [
  {
    name: "sink",
    type: "strings",
    env: "TRACKER_SINKS",
    toml: ["tracker.sinks", "sinks"],
    metavar: "URI",
    help:
      "Also send samples to URI; repeatable: stdout, stderr, a file (.jsonl/.csv, +.gz/.zst), s3://BUCKET/PREFIX, http(s)://URL, otlp+http(s)://HOST:4318 or prometheus+remote-write://HOST:PORT/api/v1/write. The variable takes a comma-separated list.",
  },
  {
    name: "max-size",
    type: "string",
    env: "TRACKER_MAX_SIZE",
    toml: ["tracker.max_size"],
    metavar: "SIZE",
    help: "Rotate output files before they pass SIZE (e.g. 100M).",
    check: parseSize,
  },
  {
    name: "max-files",
    type: "integer",
    env: "TRACKER_MAX_FILES",
    toml: ["tracker.max_files"],
    default: 5,
    metavar: "N",
    help: "Rotated files to keep besides the current one.",
    check: count,
  },
  {
    name: "upload-interval",
    type: "number",
    env: "TRACKER_UPLOAD_INTERVAL",
    toml: ["tracker.upload_interval"],
    default: 60,
    metavar: "SECS",
    help: "Seconds between batch uploads (S3, HTTP, Sentinel).",
    check: seconds(0.1),
  },
  {
    name: "spool-dir",
    type: "string",
    env: "TRACKER_SPOOL_DIR",
    toml: ["tracker.spool_dir"],
    metavar: "DIR",
    help:
      "Where undelivered batches are kept (default ${XDG_STATE_HOME:-~/.local/state}/resource-tracker/spool).",
  },
  {
    name: "flush-timeout",
    type: "number",
    env: "TRACKER_FLUSH_TIMEOUT",
    toml: ["tracker.flush_timeout"],
    default: 10,
    metavar: "SECS",
    help: "At exit, seconds to deliver pending batches before keeping them in the spool.",
    check: seconds(0),
  },
  {
    name: "http-token-env",
    type: "string",
    env: "TRACKER_HTTP_TOKEN_ENV",
    toml: ["tracker.http_token_env"],
    default: "TRACKER_HTTP_TOKEN",
    metavar: "NAME",
    help: "Environment variable holding the bearer token for http(s) sinks.",
    check: envName,
  },
  {
    name: "list",
    type: "boolean",
    help:
      "With `flush`: list what the spool holds (run, sink, batch, samples, age, last error) and exit.",
    cliOnly: true,
  },
  {
    name: "drop",
    type: "strings",
    metavar: "ID",
    help:
      "With `flush`: remove a spooled job (`JOB`) or one batch (`JOB/SEQ`) as `--list` shows it; repeatable.",
    cliOnly: true,
  },
  {
    name: "all-rejected",
    type: "boolean",
    help: "With `flush`: remove every batch the receiver rejected for good (a 4xx answer).",
    cliOnly: true,
  },
];
