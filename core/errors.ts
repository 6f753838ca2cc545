/** Errors the user sees as one line. Usage errors exit 2; nothing else prints a stack. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  readonly exitCode = 2;
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
