/** The error-message lint rule on small sources (Deno.lint.runPlugin; no deno.json involved). */
import { deepStrictEqual } from "node:assert/strict";
import plugin from "./error_message.ts";

const START = "error message should start with a lower-case letter";
const PERIOD = "error message should not end with a period";

function messages(source: string, file = "core/x.ts"): string[] {
  return Deno.lint.runPlugin(plugin, file, source).map((d) => d.message);
}

Deno.test("error-message: lower-case first word, no period, passes", () => {
  for (
    const ok of [
      `throw new Error("cannot read \\"x\\": no such file");`,
      `throw new UsageError(\`option --\${name} needs a value\`);`,
      `throw new RuntimeError("command not found", 127);`,
      `throw new ProbeError(\`HTTP \${status} from \${path}\`);`,
      `throw new Error("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");`,
      `throw new Error("GPUs vanished");`,
      `throw new Error("S3 bucket refused the upload");`,
      `throw new Error("TRACKER_INTERVAL must be a number");`,
      `throw new Error("AssumeRole: HTTP 403");`,
      `throw new Error("Deno.Command failed");`,
      `throw new Error('"resource-tracker.toml" line 3: expected "="');`,
      `throw new Error("--interval must be positive");`,
      `throw new Error("/proc/stat is empty");`,
      `throw new Error(\`\${path}: not a regular file\`);`,
      `throw new Error("waiting...");`,
      `throw new Error(message);`,
      `throw new Error("cannot parse " + name);`,
      `throw new Error();`,
      `throw new Error(404);`,
      // Not an error class: any wording.
      `new Message("Hello.");`,
    ]
  ) deepStrictEqual(messages(ok), [], ok);
});

Deno.test("error-message: sentence case and a trailing period are reported", () => {
  deepStrictEqual(messages(`throw new Error("Cannot read x");`), [START]);
  deepStrictEqual(messages(`throw new UsageError(\`Unknown option --\${n}\`);`), [START]);
  deepStrictEqual(messages(`throw new RuntimeError("A child failed", 1);`), [START]);
  deepStrictEqual(messages(`throw new TypeError("Expected a string");`), [START]);
  deepStrictEqual(messages(`throw new Error("cannot read x.");`), [PERIOD]);
  deepStrictEqual(messages(`throw new Error(\`bad value \${v}.\`);`), [PERIOD]);
  deepStrictEqual(messages(`throw new Error("Cannot " + what + ".");`), [START, PERIOD]);
  deepStrictEqual(messages(`throw new Error(\n  "Invalid value",\n);`), [START]);
});

Deno.test("error-message: test support may mimic other programs' messages", () => {
  const source = `throw new Error("No space left on device (os error 28)");`;
  for (const file of ["tests/faults_test.ts", "sinks/lines_test.ts", "clouds/testdata/env.ts"]) {
    deepStrictEqual(messages(source, file), [], file);
  }
  deepStrictEqual(messages(source, "sinks/lines.ts"), [START]);
});
