/**
 * Lint plugin (deno.json "lint.plugins"): one wording for error messages, the one `base/errors.ts`
 * and the CLI print after `error: ` (docs/ARCHITECTURE.md "Errors").
 *
 * A message given to `new Error(…)` or any `new …Error(…)` (UsageError, RuntimeError, ProbeError…)
 * as a string or template literal, or a `+` chain that starts or ends with one:
 * - starts lower-case (`cannot read "x": …`). Allowed too: a non-letter (a quoted name, a flag
 *   `--x`, a path, `${…}`), or a first word in capitals — an acronym or an environment variable
 *   (`AMD`, `GPUs`, `S3`, `TRACKER_INTERVAL`);
 * - does not end with a period (it is one clause of a line, often followed by `: reason`).
 *
 * Test support (`tests/`, `testdata/`, `*_test.ts`) is exempt: its fakes mimic other programs'
 * messages (Deno's "No space left on device (os error 28)", an AWS API's "AssumeRole: …").
 *
 * This is denoland/std's `_tools/error_message_lint_plugin.ts` with the case turned around: our
 * messages follow a colon (`error: cannot …`), so they read as the rest of a sentence.
 */

/**
 * A plain capitalised word: "Cannot", "Unknown", "A". Not an acronym ("GPU", "GPUs", "S3"), a
 * variable ("TRACKER_INTERVAL"), or a name with inner capitals or dots ("AssumeRole", "Deno.env").
 */
const SENTENCE_CASE = /^[A-Z][a-z]*(?![\w]|\.\w)/;
/** One period at the end; an ellipsis ("…" or "...") is fine. */
const TRAILING_PERIOD = /(?<!\.)\.$/;

type Node = Deno.lint.Node;

/** The literal text at the start (`edge` "first") or the end of a message, if it is static. */
function staticText(node: Node | undefined, edge: "first" | "last"): string | undefined {
  if (!node) return undefined;
  if (node.type === "Literal") return typeof node.value === "string" ? node.value : undefined;
  if (node.type === "TemplateLiteral") {
    const quasi = edge === "first" ? node.quasis[0] : node.quasis[node.quasis.length - 1];
    // A template that starts (or ends) with `${…}` has no static text at that edge.
    return quasi?.cooked || undefined;
  }
  if (node.type === "BinaryExpression" && node.operator === "+") {
    return staticText(edge === "first" ? node.left : node.right, edge);
  }
  return undefined;
}

function isTestSupport(path: string): boolean {
  return /(^|\/)(tests|testdata|fixtures)\//.test(path) || /_test\.ts$/.test(path);
}

function isErrorClass(callee: Node): boolean {
  return callee.type === "Identifier" && /^(?:[A-Z]\w*)?Error$/.test(callee.name);
}

const plugin: Deno.lint.Plugin = {
  name: "resource-tracker",
  rules: {
    "error-message": {
      create(context) {
        if (isTestSupport(context.filename)) return {};
        return {
          NewExpression(node) {
            if (!isErrorClass(node.callee)) return;
            const message = node.arguments[0];
            if (!message) return;
            const first = staticText(message, "first");
            if (first !== undefined && SENTENCE_CASE.test(first)) {
              context.report({
                node: message,
                message: "error message should start with a lower-case letter",
                hint: 'write `cannot read "x": …`; capitals only for an acronym or a variable name',
              });
            }
            const last = staticText(message, "last");
            if (last !== undefined && TRAILING_PERIOD.test(last)) {
              context.report({
                node: message,
                message: "error message should not end with a period",
                hint: "messages are one clause of a line, often followed by `: reason`",
              });
            }
          },
        };
      },
    },
  },
};

export default plugin;
