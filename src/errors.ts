/**
 * One error type for everything polypack reports. `code` is stable and documented; messages are for
 * people and may change. The command line prints `message` and `hint` for user errors and asks for a
 * bug report only for internal ones.
 */
export class PolypackError extends Error {
  /** Stable, upper-case identifier, for example `DIGEST_INVALID`. */
  readonly code: string;
  /** A short suggestion of what to do next, printed under the message. */
  readonly hint: string | undefined;
  /** Whether the user's input or environment caused it (true) or polypack itself (false). */
  readonly userError: boolean;

  constructor(
    code: string,
    message: string,
    options: { hint?: string; cause?: unknown; userError?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PolypackError";
    this.code = code;
    this.hint = options.hint;
    this.userError = options.userError ?? true;
  }

  /** A plain object for `--json` output. */
  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** Whether a value is a PolypackError with the given code (or any code when none is given). */
export function isPolypackError(value: unknown, code?: string): value is PolypackError {
  return value instanceof PolypackError && (code === undefined || value.code === code);
}

/** A bug in polypack rather than bad input. */
export function internalError(message: string, cause?: unknown): PolypackError {
  return new PolypackError("INTERNAL", message, { cause, userError: false });
}
