/** Control characters (a newline in a flag or path the user typed) shown as escapes. */
export function escapeControls(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** Errors the user sees as one line. Usage errors exit 2; nothing else prints a stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
  constructor(message: string) {
    super(escapeControls(message));
  }
}

/** A failure of the environment (cannot open a file, spawn a command): exit code chosen by caller. */
export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** One line for any thrown value, never a stack trace. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0]!.trim();
}
