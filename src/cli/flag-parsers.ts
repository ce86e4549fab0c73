import { isPolypackError, PolypackError, type ErrorCode } from "../errors/index.js";
import { Platform } from "../oci/platform.js";

// Every numeric and enumerated flag goes through these parsers. A bad value is a usage error
// (exit 2) with a code from the catalogue, in text and --json like every other error, instead of
// reaching the library as NaN, 0 or an unknown word.

/** A commander option parser for a whole number from `min` to `max`, written in decimal digits. */
export function integerFlag(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw invalid(flag, value, `a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/**
 * A commander option parser for a positive duration in seconds, fractions allowed (`0.5`, `90`), up
 * to `max`. The bound matters: Node's timers take at most 2^31-1 ms and fire at once beyond that.
 */
export function secondsFlag(flag: string, max: number): (value: string) => number {
  return (value) => {
    const seconds = /^\s*(\d+(\.\d*)?|\.\d+)\s*$/.test(value) ? Number(value) : NaN;
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > max) {
      throw invalid(flag, value, `a positive number of seconds, at most ${max}`);
    }
    return seconds;
  };
}

/** A commander option parser for one of `choices`, spelled exactly. */
export function choiceFlag<T extends string>(
  flag: string,
  choices: readonly T[],
  code: ErrorCode = "FLAG_INVALID",
): (value: string) => T {
  return (value) => {
    const choice = choices.find((c) => c === value);
    if (choice === undefined) throw invalid(flag, value, `one of ${choices.join(", ")}`, code);
    return choice;
  };
}

/**
 * The values of a repeatable `os/arch[/variant]` flag (`--platform`): a malformed one is a usage
 * error, FLAG_INVALID (exit 2), as every other bad flag value is, with the platform rules as hint.
 */
export function platformFlags(values: readonly string[] = [], flag = "--platform"): Platform[] {
  return values.map((value) => {
    try {
      return Platform.parse(value, flag);
    } catch (error) {
      if (!isPolypackError(error, "PLATFORM_INVALID")) throw error;
      throw new PolypackError("FLAG_INVALID", error.message, { hint: error.hint, cause: error });
    }
  });
}

function invalid(
  flag: string,
  value: string,
  expected: string,
  code: ErrorCode = "FLAG_INVALID",
): PolypackError {
  return new PolypackError(code, `${flag} ${JSON.stringify(value)} is invalid: expected ${expected}`);
}

/** Collects a repeatable option's values, in the order given (commander's accumulator). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
