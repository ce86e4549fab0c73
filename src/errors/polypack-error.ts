import { constants } from "node:os";
import { CATALOGUE, type ErrorCode } from "./catalogue.js";

/** What a thrower may add to code and message. */
export interface PolypackErrorOptions {
  /** What to do next; the catalogue's hint for the code when absent. */
  hint?: string;
  cause?: unknown;
  /** Whether trying the same thing again may succeed (a dropped connection, a 503). */
  temporary?: boolean;
}

/**
 * One error type for everything polypack reports. `code` is stable and listed in the catalogue
 * (docs/errors.md); messages are for people and may change. The command line prints `message` and
 * `hint`, exits with the code's status, and asks for a bug report only for internal codes.
 */
export class PolypackError extends Error {
  /** Stable, upper-case identifier from the catalogue, for example `DIGEST_INVALID`. */
  readonly code: ErrorCode;
  /** A short suggestion of what to do next, printed under the message. */
  readonly hint: string;
  /** Whether the failure may pass when tried again; retry loops read it, nothing else does. */
  readonly temporary: boolean;

  constructor(code: ErrorCode, message: string, options: PolypackErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PolypackError";
    this.code = code;
    this.hint = options.hint ?? CATALOGUE[code].hint;
    this.temporary = options.temporary ?? false;
  }

  /** Whether polypack itself is at fault (exit 70, a bug report) rather than input or environment. */
  get internal(): boolean {
    return isInternal(this.code);
  }

  /** A plain object for `--json` output. */
  toJSON(): { code: ErrorCode; message: string; hint?: string } {
    return { code: this.code, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** Whether a value is a PolypackError with the given code (or any code when none is given). */
export function isPolypackError(value: unknown, code?: ErrorCode): value is PolypackError {
  return value instanceof PolypackError && (code === undefined || value.code === code);
}

/** Whether a code means a bug in polypack. */
export function isInternal(code: ErrorCode): boolean {
  return "internal" in CATALOGUE[code];
}

/** A bug in polypack rather than bad input. */
export function internalError(message: string, cause?: unknown): PolypackError {
  return new PolypackError("INTERNAL", message, { cause });
}

/**
 * The exit status a run that failed with `code` ends with; for a code that a signal causes, 128 plus
 * that signal's number (SIGINT when none is named).
 */
export function exitStatus(code: ErrorCode, signal: "SIGINT" | "SIGTERM" = "SIGINT"): number {
  const exit = CATALOGUE[code].exit;
  return exit === "128+signal" ? 128 + constants.signals[signal] : exit;
}
