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

/** The message of any thrown value (an `Error`'s message, else its string form). */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * One line for any thrown value, never a stack trace; `max` cuts it (with "...") where the text
 * comes from a remote party (a cloud endpoint's error) and could be long.
 */
export function oneLine(err: unknown, max = Infinity): string {
  const line = errorText(err).split(/\r?\n/, 1)[0]!.trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
}

/**
 * The part of a message before its first colon: Deno's file errors read "Permission denied
 * (os error 13): open '/path'", and a warning should name the cause without repeating the path.
 */
export function shortReason(err: unknown): string {
  return err instanceof Error ? err.message.split(":")[0]! : String(err);
}
